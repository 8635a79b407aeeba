/*
 * embed.h - the Lua library compiled into the program.
 *
 * The table is generated at build time from lua/ (tools/embed_lua.c): each
 * module compiled to Lua bytecode (debug information kept), sorted by
 * module name. A module is loaded only when it is required.
 */
#ifndef AF_EMBED_H
#define AF_EMBED_H

#include <stddef.h>

typedef struct af_embed_module {
	const char *name;           /* "agentflow", "agentflow._pretty", ... */
	const char *path;           /* "lua/agentflow/init.lua": for chunk names */
	const unsigned char *code; /* Lua bytecode */
	size_t size;
} af_embed_module;

extern const af_embed_module af_embed_modules[];
extern const unsigned af_embed_count;

/* The embedded module called `name`, or NULL. Borrowed; static storage. */
const af_embed_module *af_embed_find(const char *name);

#endif
