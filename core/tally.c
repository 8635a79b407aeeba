/* tally.c - counts by name (tally.h): entries in insertion order, an open-addressing index. */
#include "tally.h"
#include "af.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* The slot of `name` in the index: holding its entry's position + 1, or 0 (free). */
static size_t *slot_of(const af_tally *t, const char *name, size_t len)
{
	size_t i = (size_t)XXH3_64bits(name, len) & (t->index_cap - 1);

	while (t->index[i]) {
		const af_tally_entry *e = &t->entries[t->index[i] - 1];

		if (e->len == len && memcmp(e->name, name, len) == 0)
			break;
		i = (i + 1) & (t->index_cap - 1);
	}
	return &t->index[i];
}

/* Room for one more name: the entries grow by doubling, the index stays under half full. */
static int grow(af_tally *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		af_tally_entry *e = realloc(t->entries, cap * sizeof *e);

		if (!e)
			return AF_ENOMEM;
		t->entries = e;
		t->cap = cap;
	}
	if ((t->n + 1) * 2 > t->index_cap) {
		size_t cap = t->index_cap ? t->index_cap * 2 : 128, *old = t->index;

		if (!(t->index = calloc(cap, sizeof *t->index))) {
			t->index = old;
			return AF_ENOMEM;
		}
		t->index_cap = cap;
		for (size_t i = 0; i < t->n; i++)
			*slot_of(t, t->entries[i].name, t->entries[i].len) = i + 1;
		free(old);
	}
	return AF_OK;
}

int af_tally_add(af_tally *t, const char *name, size_t len, long long n)
{
	size_t *slot;
	char *copy;

	if (t->index_cap && *(slot = slot_of(t, name, len))) {
		t->entries[*slot - 1].count += n;
		return AF_OK;
	}
	if (grow(t) != AF_OK || !(copy = malloc(len ? len : 1)))
		return AF_ENOMEM;
	memcpy(copy, name, len);
	t->entries[t->n] = (af_tally_entry){copy, len, n};
	*slot_of(t, name, len) = ++t->n;
	return AF_OK;
}

long long af_tally_get(const af_tally *t, const char *name, size_t len)
{
	size_t *slot = t->index_cap ? slot_of(t, name, len) : NULL;

	return slot && *slot ? t->entries[*slot - 1].count : 0;
}

void af_tally_clear(af_tally *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->entries[i].name);
	free(t->entries);
	free(t->index);
	memset(t, 0, sizeof *t);
}
