/*
 * fs.h - what the cache asks of the file system: the names of declared
 * paths, and glob matching over a directory tree.
 *
 * Patterns are relative paths: `*` and `?` match within one path segment,
 * `[...]` is a character class, and a whole segment `**` matches zero or
 * more directories: with it between erp and *.lua, a pattern matches both
 * erp/a.lua and erp/x/y/a.lua.
 */
#ifndef AF_FS_H
#define AF_FS_H

#include <stddef.h>

/* Whether `path` matches `pattern` (both relative, '/'-separated). */
int af_glob_match(const char *pattern, const char *path);

/*
 * Call cb(relative_path, ctx) for every regular file under `root` matching
 * `pattern`, walking only from the pattern's literal leading directories.
 * Directories named .git and .agentflow are skipped. Order is unspecified.
 * Returns AF_OK or AF_EIO (a directory that cannot be read, except a
 * missing starting directory, which matches nothing).
 */
int af_glob(const char *root, const char *pattern, void (*cb)(const char *path, void *ctx),
	    void *ctx);

/*
 * The name a cache key gives the declared `path`: the file io.open would
 * open from the directory `cwd` (absolute), cleaned lexically (".", ".."
 * and repeated slashes go), then relative to `root` (absolute, cleaned)
 * when it lies under it ("." for the root itself), else absolute. Works
 * on glob patterns too. Writes it to `out` (`size` bytes); returns its
 * length, or -1 when it does not fit.
 */
long af_path_key(char *out, size_t size, const char *root, const char *cwd, const char *path);

#endif
