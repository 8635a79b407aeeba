/*
 * fs.h - what the cache asks of the file system: glob matching over a
 * directory tree.
 *
 * Patterns are relative paths: `*` and `?` match within one path segment,
 * `[...]` is a character class, and a whole segment `**` matches zero or
 * more directories: with it between erp and *.lua, a pattern matches both
 * erp/a.lua and erp/x/y/a.lua.
 */
#ifndef AF_FS_H
#define AF_FS_H

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

#endif
