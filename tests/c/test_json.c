/* test_json.c - writing JSON text (core/json.c). */
#include "af.h"
#include "json.h"
#include "test.h"

#include <math.h>

static char out[4096];

/* s[0..n) as af_json_put_string writes it, NUL-terminated, in `out`. */
static const char *string_of(const char *s, size_t n)
{
	*af_json_put_string(out, s, n) = '\0';
	return out;
}

static const char *float_of(double x)
{
	*af_json_put_float(out, x) = '\0';
	return out;
}

static const char *integer_of(long long v)
{
	*af_json_put_integer(out, v) = '\0';
	return out;
}

#define STRING(lit) string_of(lit, sizeof lit - 1)

static void test_plain_strings_are_copied(void)
{
	T_EQ_STR("\"\"", STRING(""));
	T_EQ_STR("\"hello, world / ok\"", STRING("hello, world / ok"));
}

static void test_every_escape(void)
{
	T_EQ_STR("\"\\\"\"", STRING("\""));
	T_EQ_STR("\"\\\\\"", STRING("\\"));
	T_EQ_STR("\"a\\nb\\tc\\rd\"", STRING("a\nb\tc\rd"));
	T_EQ_STR("\"\\u0008\\u000c\"", STRING("\b\f")); /* no short forms for these */
	T_EQ_STR("\"say \\\"hi\\\"\\n\"", STRING("say \"hi\"\n"));
}

static void test_control_bytes(void)
{
	char all[32], want[32 * 6 + 3], *p = want;

	for (int c = 0; c < 32; c++)
		all[c] = (char)c;
	*p++ = '"';
	for (int c = 0; c < 32; c++) {
		if (c == '\n' || c == '\t' || c == '\r')
			p += sprintf(p, "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
		else
			p += sprintf(p, "\\u%04x", c);
	}
	strcpy(p, "\"");
	T_EQ_STR(want, string_of(all, sizeof all));
	T_EQ_INT(4, strlen(STRING("\x7f\x20"))); /* DEL and space are not controls */
	T_EQ_INT(AF_JSON_STRING_ROOM(1), strlen(string_of("\0", 1)));
}

static void test_bytes_past_ascii_pass_unchanged(void)
{
	/* valid UTF-8 */
	T_EQ_STR("\"\xe0\xa6\xac\xe0\xa6\xbe\xe0\xa6\x82 \xe2\x82\xac\"", STRING("\xe0\xa6\xac\xe0\xa6\xbe\xe0\xa6\x82 \xe2\x82\xac"));
	/* invalid UTF-8: a lone continuation byte, a truncated sequence, an overlong NUL, 0xff */
	T_EQ_STR("\"\x80 \xe2\x82 \xc0\x80 \xff\"", STRING("\x80 \xe2\x82 \xc0\x80 \xff"));
}

static void test_escaped_has_no_quotes(void)
{
	*af_json_put_escaped(out, "a\"b", 3) = '\0';
	T_EQ_STR("a\\\"b", out);
}

static void test_integers(void)
{
	T_EQ_STR("0", integer_of(0));
	T_EQ_STR("42", integer_of(42));
	T_EQ_STR("-7", integer_of(-7));
	T_EQ_STR("9223372036854775807", integer_of(9223372036854775807LL));
	T_EQ_STR("-9223372036854775808", integer_of(-9223372036854775807LL - 1));
}

static void test_floats_as_printf_g14(void)
{
	static const double xs[] = {0.5, 1.25, -3.75, 0.1, 100, 123456.789, 1e-5, 1e-4, 0.000123,
				    1e13, 1e14, 1.5e15, 2.5e-300, 1e300, 12345678901234.0};
	char want[64];

	for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
		snprintf(want, sizeof want, "%.14g", xs[i]);
		T_EQ_STR(want, float_of(xs[i]));
	}
	T_EQ_STR("0", float_of(0.0));
	T_EQ_STR("-0", float_of(-0.0));
}

static void test_floats_near_printf_digit_14(void)
{
	/* one scaling's rounding may move the 14th digit: 13 digits always agree */
	for (double x = 0.001; x < 1e6; x *= 1.37) {
		T_CHECK(fabs(strtod(float_of(x), NULL) - x) <= x * 1e-13);
		T_CHECK(strlen(out) < AF_JSON_NUMBER_ROOM);
	}
}

static void test_nan_and_infinities_are_null(void)
{
	T_EQ_STR("null", float_of(NAN));
	T_EQ_STR("null", float_of(INFINITY));
	T_EQ_STR("null", float_of(-INFINITY));
}

static void test_document_with_nesting(void)
{
	af_json *j;
	size_t len;
	int code;
	const char *text;

	T_EQ_INT(AF_OK, af_json_new(&j));
	af_json_begin_object(j);
	af_json_key(j, "a", 1);
	af_json_begin_array(j);
	af_json_integer(j, 1);
	af_json_float(j, 2.5);
	af_json_begin_object(j);
	af_json_end_object(j);
	af_json_begin_array(j);
	af_json_end_array(j);
	af_json_null(j);
	af_json_bool(j, 1);
	af_json_bool(j, 0);
	af_json_end_array(j);
	af_json_key(j, "k\"", 2);
	af_json_begin_object(j);
	af_json_key(j, "x", 1);
	af_json_string(j, "y\n", 2);
	af_json_key(j, "z", 1);
	af_json_float(j, NAN);
	af_json_end_object(j);
	af_json_end_object(j);
	text = af_json_text(j, &len, &code);
	T_EQ_STR("{\"a\":[1,2.5,{},[],null,true,false],\"k\\\"\":{\"x\":\"y\\n\",\"z\":null}}", text);
	T_EQ_INT(strlen(text), len);
	T_EQ_INT(AF_OK, code);
	af_json_reset(j);
	af_json_string(j, "again", 5);
	T_EQ_STR("\"again\"", af_json_text(j, NULL, NULL));
	af_json_free(j);
}

static void test_long_text_grows(void)
{
	static char big[100000];
	af_json *j;
	size_t len = 0;

	memset(big, '\n', sizeof big);
	T_EQ_INT(AF_OK, af_json_new(&j));
	af_json_begin_array(j);
	for (int i = 0; i < 3; i++)
		af_json_string(j, big, sizeof big);
	af_json_end_array(j);
	T_CHECK(af_json_text(j, &len, NULL) != NULL);
	T_EQ_INT(2 + 3 * (2 * sizeof big + 2) + 2, len);
	af_json_free(j);
}

static void test_too_deep_fails_once(void)
{
	af_json *j;
	int code = 0;

	T_EQ_INT(AF_OK, af_json_new(&j));
	for (int i = 0; i <= AF_JSON_MAX_DEPTH; i++)
		af_json_begin_array(j);
	af_json_integer(j, 1);
	T_CHECK(af_json_text(j, NULL, &code) == NULL);
	T_EQ_INT(AF_EINVAL, code);
	af_json_reset(j); /* and the text is usable again */
	af_json_begin_array(j);
	af_json_end_array(j);
	T_EQ_STR("[]", af_json_text(j, NULL, &code));
	T_EQ_INT(AF_OK, code);
	af_json_free(j);
}

int main(void)
{
	T_RUN(test_plain_strings_are_copied);
	T_RUN(test_every_escape);
	T_RUN(test_control_bytes);
	T_RUN(test_bytes_past_ascii_pass_unchanged);
	T_RUN(test_escaped_has_no_quotes);
	T_RUN(test_integers);
	T_RUN(test_floats_as_printf_g14);
	T_RUN(test_floats_near_printf_digit_14);
	T_RUN(test_nan_and_infinities_are_null);
	T_RUN(test_document_with_nesting);
	T_RUN(test_long_text_grows);
	T_RUN(test_too_deep_fails_once);
	return t_done();
}
