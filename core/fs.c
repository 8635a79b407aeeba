/* fs.c - names of declared paths, glob matching over a directory tree (see fs.h). */
#include "fs.h"
#include "af.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* One character class "[...]" at p against c; *end is set past it. */
static int class_match(const char *p, char c, const char **end)
{
	char cls[64], one[2] = {c, 0};
	const char *close = strchr(p + 1 + (p[1] == ']'), ']');
	size_t n;

	if (!close || (n = (size_t)(close - p + 1)) >= sizeof cls) {
		*end = p + 1; /* not a class: a literal '[' */
		return c == '[';
	}
	memcpy(cls, p, n);
	cls[n] = 0;
	*end = close + 1;
	return fnmatch(cls, one, 0) == 0;
}

/*
 * Clean the absolute path s in place: drop "." segments and empty ones,
 * and let ".." take back the segment before it (never above "/").
 * Lexical, as Go's filepath.Clean: a ".." after a symbolic link to a
 * directory names what the link's parent holds, which is what the
 * declaration reads as. Returns the new length.
 */
static size_t clean_abs(char *s)
{
	size_t w = 1, r = 1;

	while (s[r]) {
		size_t e = r, n;

		while (s[e] && s[e] != '/')
			e++;
		n = e - r;
		if (n == 2 && s[r] == '.' && s[r + 1] == '.') {
			while (w > 1 && s[w - 1] != '/')
				w--;
			if (w > 1)
				w--;
		} else if (n > 0 && !(n == 1 && s[r] == '.')) {
			if (w > 1)
				s[w++] = '/';
			memmove(s + w, s + r, n);
			w += n;
		}
		r = s[e] ? e + 1 : e;
	}
	s[w] = 0;
	return w;
}

long af_path_key(char *out, size_t size, const char *root, const char *cwd, const char *path)
{
	size_t clen = path[0] == '/' ? 0 : strlen(cwd), plen = strlen(path), rlen = strlen(root), n;

	if (clen + 1 + plen + 1 > size || size < 2)
		return -1;
	memcpy(out, cwd, clen);
	out[clen] = '/';
	memcpy(out + clen + 1, path, plen + 1);
	n = clean_abs(out);
	if (rlen == 1 && root[0] == '/') /* everything lies under "/" */
		rlen = 0;
	if (n >= rlen && memcmp(out, root, rlen) == 0 && (out[rlen] == '/' || out[rlen] == 0)) {
		size_t skip = n == rlen ? n : rlen + 1;

		memmove(out, out + skip, n - skip + 1);
		n -= skip;
		if (n == 0) {
			memcpy(out, ".", 2);
			n = 1;
		}
	}
	return (long)n;
}

int af_glob_match(const char *p, const char *s)
{
	const char *next;

	for (; *p; s++) {
		if (p[0] == '*' && p[1] == '*' && (p[2] == '/' || p[2] == 0)) {
			/* a "**" segment: zero or more whole segments */
			const char *rest = p[2] ? p + 3 : p + 2;

			if (!*rest)
				return 1;
			for (const char *t = s; ; t++) {
				if ((t == s || t[-1] == '/') && af_glob_match(rest, t))
					return 1;
				if (!*t)
					return 0;
			}
		}
		if (*p == '*') {
			for (const char *t = s; ; t++) {
				if (af_glob_match(p + 1, t))
					return 1;
				if (!*t || *t == '/')
					return 0;
			}
		}
		if (!*s)
			return 0;
		if (*p == '?') {
			if (*s == '/')
				return 0;
			p++;
		} else if (*p == '[') {
			if (*s == '/' || !class_match(p, *s, &next))
				return 0;
			p = next;
		} else {
			if (*p != *s)
				return 0;
			p++;
		}
	}
	return *s == 0;
}

typedef struct walk {
	const char *pattern;
	void (*cb)(const char *path, void *ctx);
	void *ctx;
	char abs[PATH_MAX];
	size_t root_len; /* abs[root_len + 1 ...] is the relative path */
} walk;

static int walk_dir(walk *w, size_t len)
{
	DIR *d = opendir(w->abs);
	struct dirent *e;
	int rc = AF_OK;

	if (!d)
		return errno == ENOENT || errno == ENOTDIR
			       ? AF_OK
			       : af_error_errno(AF_EIO, "cannot read directory %s", w->abs);
	while (rc == AF_OK && (e = readdir(d))) {
		struct stat st;
		size_t n = strlen(e->d_name);

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, ".git") || !strcmp(e->d_name, ".agentflow"))
			continue;
		if (len + 1 + n >= sizeof w->abs)
			continue;
		w->abs[len] = '/';
		memcpy(w->abs + len + 1, e->d_name, n + 1);
		if (stat(w->abs, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			rc = walk_dir(w, len + 1 + n);
		else if (S_ISREG(st.st_mode) && af_glob_match(w->pattern, w->abs + w->root_len + 1))
			w->cb(w->abs + w->root_len + 1, w->ctx);
		w->abs[len] = 0;
	}
	closedir(d);
	return rc;
}

int af_glob(const char *root, const char *pattern, void (*cb)(const char *path, void *ctx),
	    void *ctx)
{
	walk w = {pattern, cb, ctx, {0}, strlen(root)};
	size_t lit = 0;

	/* The literal leading directories: where the walk starts. */
	for (size_t i = 0; pattern[i] && !strchr("*?[", pattern[i]); i++)
		if (pattern[i] == '/')
			lit = i;
	if (snprintf(w.abs, sizeof w.abs, "%s/%.*s", root, (int)lit, pattern) >= (int)sizeof w.abs)
		return af_error_set(AF_EINVAL, "path too long: %s/%s", root, pattern);
	if (!strpbrk(pattern, "*?[")) { /* no glob at all: the file itself */
		struct stat st;

		snprintf(w.abs, sizeof w.abs, "%s/%s", root, pattern);
		if (stat(w.abs, &st) == 0 && S_ISREG(st.st_mode))
			cb(pattern, ctx);
		return AF_OK;
	}
	return walk_dir(&w, strlen(w.abs) - (lit == 0 ? 1 : 0));
}
