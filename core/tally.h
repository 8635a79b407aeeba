/*
 * tally.h - counts by name: the hits and misses of each agent and the uses
 * of each cache entry that a run gathers and writes once at its end.
 *
 * A run uses thousands of entries, one name per step: a hash table in C
 * costs one lookup per count, where a Lua table cost a string kept alive
 * for the collector and the table's regrowth.
 */
#ifndef AF_TALLY_H
#define AF_TALLY_H

#include <stddef.h>

/* Entries in the order names were first added. */
typedef struct af_tally_entry {
	char *name;
	size_t len;
	long long count;
} af_tally_entry;

/* Zero-initialised is an empty tally. */
typedef struct af_tally {
	af_tally_entry *entries;
	size_t n, cap;
	size_t *index; /* open addressing: an entry's position + 1, 0 for a free slot */
	size_t index_cap;
} af_tally;

/* Count `name` (len bytes) n more times. Returns AF_OK or AF_ENOMEM (nothing counted). */
int af_tally_add(af_tally *t, const char *name, size_t len, long long n);

/* The count of `name` (0 for a name never added). */
long long af_tally_get(const af_tally *t, const char *name, size_t len);

/* Forget every name and free the memory; the tally is empty again. */
void af_tally_clear(af_tally *t);

#endif
