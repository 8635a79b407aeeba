/*
 * lua_http.c - the /metrics and /health server for the Lua library:
 * server = core.http_serve(addr, handler) ; nil, err
 *   handler(method, path) -> status, content_type, body  (called on the
 *   main Lua thread, between tasks: it must not wait)
 * server:port()   server:close()
 */
#include "lua_http.h"
#include "af.h"
#include "http.h"
#include "scheduler.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_MT "agentflow.http"

typedef struct server {
	af_http *http;
	lua_State *L;  /* the main thread */
	int handler;   /* registry ref */
} server;

static void handle(const char *method, const char *path, af_http_response *res, void *data)
{
	server *s = data;
	lua_State *L = s->L;
	int top = lua_gettop(L);
	size_t len;
	const char *body;

	lua_rawgeti(L, LUA_REGISTRYINDEX, s->handler);
	lua_pushstring(L, method);
	lua_pushstring(L, path);
	if (lua_pcall(L, 2, 3, 0) != LUA_OK) {
		res->status = 500;
		body = lua_tolstring(L, -1, &len);
	} else {
		res->status = (int)luaL_optinteger(L, top + 1, 200);
		res->content_type = lua_isstring(L, top + 2) ? lua_tostring(L, top + 2) : "text/plain";
		body = lua_tolstring(L, top + 3, &len);
	}
	if (body && (res->body = malloc(len + 1))) {
		memcpy(res->body, body, len);
		res->body_len = len;
	}
	/* content_type points into a string we pop: keep the known ones static */
	if (res->content_type && strstr(res->content_type, "json"))
		res->content_type = "application/json";
	else if (res->content_type && strstr(res->content_type, "version=0.0.4"))
		res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	else
		res->content_type = "text/plain; charset=utf-8";
	lua_settop(L, top);
}

static int l_http_serve(lua_State *L)
{
	const char *addr = luaL_checkstring(L, 1);
	server *s;

	luaL_checktype(L, 2, LUA_TFUNCTION);
	s = lua_newuserdatauv(L, sizeof *s, 0);
	memset(s, 0, sizeof *s);
	s->handler = LUA_NOREF;
	luaL_setmetatable(L, HTTP_MT);
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	s->L = lua_tothread(L, -1);
	lua_pop(L, 1);
	if (af_http_listen(&s->http, af_sched_loop(), addr, handle, s) != AF_OK) {
		luaL_pushfail(L);
		lua_pushstring(L, af_error_last());
		return 2;
	}
	lua_pushvalue(L, 2);
	s->handler = luaL_ref(L, LUA_REGISTRYINDEX);
	/* anchored until closed: the loop calls into it */
	lua_pushvalue(L, -1);
	luaL_ref(L, LUA_REGISTRYINDEX);
	return 1;
}

static server *check_server(lua_State *L)
{
	return luaL_checkudata(L, 1, HTTP_MT);
}

static int l_http_port(lua_State *L)
{
	server *s = check_server(L);

	lua_pushinteger(L, s->http ? af_http_port(s->http) : 0);
	return 1;
}

static int l_http_close(lua_State *L)
{
	server *s = check_server(L);

	if (s->http) {
		af_http_close(s->http);
		s->http = NULL;
	}
	return 0;
}

void af_http_lua_open(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{"port", l_http_port},
		{"close", l_http_close},
		{NULL, NULL}
	};

	luaL_newmetatable(L, HTTP_MT);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	lua_pushcfunction(L, l_http_serve);
	lua_setfield(L, -2, "http_serve");
}
