/* json.c - writing JSON text (see json.h). */
#include "json.h"
#include "af.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* Bytes that JSON strings escape: controls, the quote and the backslash. */
static const unsigned char needs_escape[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 to 0x1f */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
};

/* Write the escape of c, one of needs_escape, at p; returns the end. */
static char *put_escape(char *p, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	*p++ = '\\';
	switch (c) {
	case '"': *p++ = '"'; break;
	case '\\': *p++ = '\\'; break;
	case '\n': *p++ = 'n'; break;
	case '\t': *p++ = 't'; break;
	case '\r': *p++ = 'r'; break;
	default:
		memcpy(p, "u00", 3);
		p[3] = hex[c >> 4];
		p[4] = hex[c & 15];
		p += 5;
	}
	return p;
}

char *af_json_put_escaped(char *p, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t run = i;

		while (run < n && !needs_escape[(unsigned char)s[run]])
			run++;
		p = put(p, s + i, run - i); /* most strings are one run */
		if ((i = run) == n)
			break;
		p = put_escape(p, (unsigned char)s[i++]);
	}
	return p;
}

char *af_json_put_string(char *p, const char *s, size_t n)
{
	*p++ = '"';
	p = af_json_put_escaped(p, s, n);
	*p++ = '"';
	return p;
}

/*
 * x (finite, not 0) with 14 significant digits, as "%.14g" writes it, into
 * tmp; returns the length. Without printf: durations are floats, and printf
 * cost more than the rest of a record. The digits come from one scaling by
 * a power of ten, whose rounding makes the 14th digit differ from printf's
 * by one for about 1 value in 300: far below what a logged duration or cost
 * means.
 */
static int format_double(double x, char tmp[32])
{
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
				       1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	char digits[16];
	unsigned long long m;
	int e = 0, k = 14, n = 0;
	double a = x < 0 ? -x : x, scaled;

	if (a >= 1e22 || a < 1e-22)
		return snprintf(tmp, 32, "%.14g", x);
	while (e < 22 && a >= pow10[e + 1])
		e++;
	while (e > -22 && a < (e >= 0 ? pow10[e] : 1 / pow10[-e]))
		e--;
	if (13 - e > 22)
		scaled = a * 1e22 * pow10[13 - e - 22];
	else
		scaled = 13 - e >= 0 ? a * pow10[13 - e] : a / pow10[e - 13];
	m = (unsigned long long)(scaled + 0.5);
	if (m >= 100000000000000ULL) { /* 10^14: the scaling rounded up a digit */
		m /= 10;
		e++;
	}
	for (int i = 13; i >= 0; i--, m /= 10)
		digits[i] = (char)('0' + m % 10);
	while (k > 1 && digits[k - 1] == '0')
		k--;
	if (x < 0)
		tmp[n++] = '-';
	if (e < -4 || e >= 14) {
		tmp[n++] = digits[0];
		if (k > 1)
			tmp[n++] = '.';
		memcpy(tmp + n, digits + 1, (size_t)(k - 1));
		n += k - 1;
		tmp[n++] = 'e';
		tmp[n++] = e < 0 ? '-' : '+';
		e = e < 0 ? -e : e; /* two digits at least, as printf writes it */
		tmp[n++] = (char)('0' + e / 10);
		tmp[n++] = (char)('0' + e % 10);
		return n;
	}
	if (e < 0) {
		memcpy(tmp + n, "0.", 2);
		n += 2;
		for (int z = -1; z > e; z--)
			tmp[n++] = '0';
		memcpy(tmp + n, digits, (size_t)k);
		return n + k;
	}
	for (int i = 0; i < (k > e + 1 ? k : e + 1); i++) {
		if (i == e + 1)
			tmp[n++] = '.';
		tmp[n++] = i < k ? digits[i] : '0';
	}
	return n;
}

char *af_json_put_float(char *p, double x)
{
	char tmp[32];

	if (!isfinite(x))
		return put(p, "null", 4);
	if (x == 0)
		return signbit(x) ? put(p, "-0", 2) : put(p, "0", 1);
	return put(p, tmp, (size_t)format_double(x, tmp));
}

char *af_json_put_integer(char *p, long long v)
{
	char tmp[AF_DECIMAL_MAX], *digits;
	size_t n = af_decimal(v, tmp, &digits);

	return put(p, digits, n);
}

/* ---- a document built a value at a time ------------------------------------- */

struct af_json {
	char *p;
	size_t len, cap;
	int failed; /* 0, AF_ENOMEM or AF_EINVAL */
	int depth;  /* arrays and objects open */
	/* bit d - 1 for the container open at depth d: */
	uint64_t array; /* it is an array */
	uint64_t more;  /* it has a value already: the next one follows a comma */
};

int af_json_new(af_json **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? AF_OK : af_error_set(AF_ENOMEM, "out of memory");
}

void af_json_free(af_json *j)
{
	if (j)
		free(j->p);
	free(j);
}

void af_json_reset(af_json *j)
{
	j->len = 0;
	j->failed = 0;
	j->depth = 0;
	j->array = j->more = 0;
}

/* Where `need` more bytes go, or NULL once the text has failed. */
static char *room(af_json *j, size_t need)
{
	size_t cap;
	char *p;

	if (j->failed)
		return NULL;
	if (j->len + need <= j->cap)
		return j->p + j->len;
	for (cap = j->cap ? j->cap : 1024; cap < j->len + need; cap *= 2)
		;
	if (!(p = realloc(j->p, cap))) {
		j->failed = AF_ENOMEM;
		return NULL;
	}
	j->p = p;
	j->cap = cap;
	return p + j->len;
}

static void add(af_json *j, const char *s, size_t n)
{
	char *p = room(j, n);

	if (p) {
		memcpy(p, s, n);
		j->len += n;
	}
}

const char *af_json_text(af_json *j, size_t *len, int *code)
{
	char *p = room(j, 1);

	if (code)
		*code = j->failed;
	if (!p)
		return NULL;
	*p = '\0';
	if (len)
		*len = j->len;
	return j->p;
}

#define BIT(depth) ((uint64_t)1 << ((depth) - 1))

/* The comma before a value in an array, when it is not the first. */
static void value_start(af_json *j)
{
	uint64_t bit;

	if (j->depth == 0 || !(j->array & (bit = BIT(j->depth))))
		return; /* in an object, af_json_key wrote it */
	if (j->more & bit)
		add(j, ",", 1);
	j->more |= bit;
}

static void begin(af_json *j, int array)
{
	value_start(j);
	if (j->depth == AF_JSON_MAX_DEPTH) {
		j->failed = j->failed ? j->failed : AF_EINVAL;
		return;
	}
	j->depth++;
	j->more &= ~BIT(j->depth);
	j->array = array ? j->array | BIT(j->depth) : j->array & ~BIT(j->depth);
	add(j, array ? "[" : "{", 1);
}

static void end(af_json *j, const char *close)
{
	add(j, close, 1);
	if (j->depth > 0)
		j->depth--;
}

void af_json_begin_object(af_json *j)
{
	begin(j, 0);
}

void af_json_end_object(af_json *j)
{
	end(j, "}");
}

void af_json_begin_array(af_json *j)
{
	begin(j, 1);
}

void af_json_end_array(af_json *j)
{
	end(j, "]");
}

void af_json_key(af_json *j, const char *s, size_t n)
{
	char *p;

	if (j->depth > 0 && (j->more & BIT(j->depth)))
		add(j, ",", 1);
	if (j->depth > 0)
		j->more |= BIT(j->depth);
	if ((p = room(j, AF_JSON_STRING_ROOM(n) + 1))) {
		p = af_json_put_string(p, s, n);
		*p++ = ':';
		j->len = (size_t)(p - j->p);
	}
}

void af_json_string(af_json *j, const char *s, size_t n)
{
	char *p;

	value_start(j);
	if ((p = room(j, AF_JSON_STRING_ROOM(n))))
		j->len = (size_t)(af_json_put_string(p, s, n) - j->p);
}

void af_json_integer(af_json *j, long long v)
{
	char *p;

	value_start(j);
	if ((p = room(j, AF_JSON_NUMBER_ROOM)))
		j->len = (size_t)(af_json_put_integer(p, v) - j->p);
}

void af_json_float(af_json *j, double x)
{
	char *p;

	value_start(j);
	if ((p = room(j, AF_JSON_NUMBER_ROOM)))
		j->len = (size_t)(af_json_put_float(p, x) - j->p);
}

void af_json_bool(af_json *j, int v)
{
	value_start(j);
	if (v)
		add(j, "true", 4);
	else
		add(j, "false", 5);
}

void af_json_null(af_json *j)
{
	value_start(j);
	add(j, "null", 4);
}
