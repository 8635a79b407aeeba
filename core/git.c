/* git.c - the lazily loaded libgit2 (see git.h). */
#include "git.h"
#include "af.h"

#include <dlfcn.h>
#include <stdio.h>

#define AF_STR_(x) #x
#define AF_STR(x) AF_STR_(x)
/* The run-time library matching the headers we were compiled against. */
#define AF_GIT_SONAME "libgit2.so." AF_STR(LIBGIT2_VER_MAJOR) "." AF_STR(LIBGIT2_VER_MINOR)

static af_git_api api;
static int loaded; /* 0 not tried, 1 loaded, -1 failed */

static int resolve_all(void *lib)
{
	void *sym;

#define AF_GIT_RESOLVE(ret, name, params) \
	if (!(sym = dlsym(lib, #name))) \
		return af_error_set(AF_EUNAVAIL, "%s lacks %s", AF_GIT_SONAME, #name); \
	*(void **)&api.name = sym;
	AF_GIT_FUNCTIONS(AF_GIT_RESOLVE)
#undef AF_GIT_RESOLVE
	return AF_OK;
}

int af_git_open(const af_git_api **out)
{
	void *lib;

	*out = NULL;
	if (loaded < 0)
		return af_error_set(AF_EUNAVAIL, "%s could not be loaded", AF_GIT_SONAME);
	if (loaded == 0) {
		lib = dlopen(AF_GIT_SONAME, RTLD_NOW | RTLD_LOCAL);
		if (!lib) {
			loaded = -1;
			return af_error_set(AF_EUNAVAIL, "cannot load %s: %s", AF_GIT_SONAME, dlerror());
		}
		if (resolve_all(lib) != AF_OK || api.git_libgit2_init() < 0) {
			loaded = -1;
			return AF_EUNAVAIL;
		}
		loaded = 1;
	}
	*out = &api;
	return AF_OK;
}
