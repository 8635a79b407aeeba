/* version.c - agentflow --version */
#include "af.h"
#include "cli.h"
#include "git.h"

#include <lmdb.h>
#include <lua.h>
#include <msgpack.h>
#include <stdio.h>
#include <uv.h>
#include <xxhash.h>
#include <yaml.h>

void af_version_print(void)
{
	const af_git_api *git;
	int major, minor, patch;
	unsigned xxh = XXH_versionNumber();

	printf("agentflow %s\n", AF_VERSION);
	printf("  %s\n", LUA_RELEASE);
	printf("  lua-cjson %s\n", AF_CJSON_VERSION);
	mdb_version(&major, &minor, &patch);
	printf("  LMDB %d.%d.%d\n", major, minor, patch);
	if (af_git_open(&git) == AF_OK) {
		git->git_libgit2_version(&major, &minor, &patch);
		printf("  libgit2 %d.%d.%d\n", major, minor, patch);
	} else {
		printf("  libgit2 unavailable (%s)\n", af_error_last());
	}
	printf("  libuv %s\n", uv_version_string());
	printf("  libyaml %s\n", yaml_get_version_string());
	printf("  msgpack-c %s\n", msgpack_version());
	printf("  libedit %s\n", AF_LIBEDIT_VERSION);
	printf("  xxHash %u.%u.%u\n", xxh / 10000, xxh / 100 % 100, xxh % 100);
}
