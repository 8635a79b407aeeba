/*
 * buf.h - a growing byte buffer, for the bytes a record is built from or
 * copied into (the cache's entries, the journal's records, values copied
 * out of an LMDB transaction).
 */
#ifndef AF_BUF_H
#define AF_BUF_H

#include <stddef.h>

/* Zero-initialised is empty. `failed` is set once an append could not grow
 * it (the bytes are then incomplete), so a caller may append many times and
 * check once. */
typedef struct af_buf {
	char *p;
	size_t len, cap;
	int failed;
} af_buf;

/* Append s[0..n). Returns AF_OK, or AF_ENOMEM (nothing appended, `failed` set). */
int af_buf_add(af_buf *b, const void *s, size_t n);

/* Free the memory; the buffer is empty again. */
void af_buf_free(af_buf *b);

#endif
