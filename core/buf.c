/* buf.c - a growing byte buffer (buf.h): doubling from 256 bytes. */
#include "buf.h"
#include "af.h"

#include <stdlib.h>
#include <string.h>

int af_buf_add(af_buf *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->failed = 1;
			return af_error_set(AF_ENOMEM, "out of memory");
		}
		b->p = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	return AF_OK;
}

void af_buf_free(af_buf *b)
{
	free(b->p);
	*b = (af_buf){0};
}
