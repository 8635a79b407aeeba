/* lua_journal.h - the run journal in agentflow.core (lua_journal.c over journal.h). */
#ifndef AF_LUA_JOURNAL_H
#define AF_LUA_JOURNAL_H

#include <lua.h>

/* Add core.journal to the table on top. */
void af_journal_lua_open(lua_State *L);

#endif
