/*
 * json.h - writing JSON text, for the structured log's records.
 *
 * The log writes a record for every step; lua-cjson formats every number
 * through printf, which cost more than the rest of a record, so the log has
 * this encoder of its own. It only writes: nothing here parses JSON.
 *
 * Strings are bytes. The quote, the backslash and the control bytes below
 * 0x20 are escaped (\" \\ \n \r \t, the others as \u00XX); every other byte
 * is copied as it is, DEL and bytes of invalid UTF-8 included: the text of
 * a record is what the program was given, not a repaired copy.
 *
 * Numbers: integers in decimal; floats with 14 significant digits, as
 * printf's "%.14g" writes them (the precision lua-cjson uses), -0 as "-0";
 * NaN and the infinities, which JSON cannot hold, as null.
 */
#ifndef AF_JSON_H
#define AF_JSON_H

#include <stddef.h>

/* ---- writing into room the caller has made ---------------------------------- */

/* The most bytes af_json_put_integer or af_json_put_float writes. */
#define AF_JSON_NUMBER_ROOM 32

/* The most bytes af_json_put_string writes for n bytes of text. */
#define AF_JSON_STRING_ROOM(n) ((n) * 6 + 2)

/* Write s[0..n) at p as a JSON string, quotes included; returns the end. */
char *af_json_put_string(char *p, const char *s, size_t n);

/* Write s[0..n) at p escaped, without the quotes (room: n * 6); returns the end. */
char *af_json_put_escaped(char *p, const char *s, size_t n);

/* Write v at p (room: AF_JSON_NUMBER_ROOM); returns the end. */
char *af_json_put_integer(char *p, long long v);

/* Write x at p (room: AF_JSON_NUMBER_ROOM); returns the end. */
char *af_json_put_float(char *p, double x);

/* ---- a document built a value at a time ------------------------------------- */

/*
 * A growing JSON text. Commas are written for the caller: a value inside an
 * array, or a key inside an object, gets one when it is not the first. An
 * allocation that fails, or nesting past AF_JSON_MAX_DEPTH, marks the text
 * failed: every later call does nothing, and af_json_text says so once at
 * the end, so that a caller checks one place.
 */
typedef struct af_json af_json;

/* Arrays and objects open at once, at most. */
#define AF_JSON_MAX_DEPTH 64

/* A new, empty text. Returns AF_OK or AF_ENOMEM. */
int af_json_new(af_json **out);

/* Free the text; NULL is allowed. */
void af_json_free(af_json *j);

/* Empty the text (keeping its memory) and clear a failure, to write another. */
void af_json_reset(af_json *j);

/*
 * The text so far, NUL-terminated, borrowed until the next call on `j`;
 * *len (may be NULL) gets its length. NULL with *code (may be NULL) set when
 * the text failed: AF_ENOMEM, or AF_EINVAL for nesting too deep.
 */
const char *af_json_text(af_json *j, size_t *len, int *code);

void af_json_begin_object(af_json *j);
void af_json_end_object(af_json *j);
void af_json_begin_array(af_json *j);
void af_json_end_array(af_json *j);

/* The key s[0..n) of the next member of the object being written. */
void af_json_key(af_json *j, const char *s, size_t n);

void af_json_string(af_json *j, const char *s, size_t n);
void af_json_integer(af_json *j, long long v);
void af_json_float(af_json *j, double x);
void af_json_bool(af_json *j, int v);
void af_json_null(af_json *j);

#endif
