/* embed.c - lookup in the generated table of embedded Lua modules. */
#include "embed.h"

#include <string.h>

const af_embed_module *af_embed_find(const char *name)
{
	unsigned lo = 0, hi = af_embed_count;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = strcmp(name, af_embed_modules[mid].name);

		if (c == 0)
			return &af_embed_modules[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
