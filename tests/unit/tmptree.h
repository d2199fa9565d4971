/* A temporary directory tree for tests that need a few host files: the
 * tree lives in `root` (under $TMPDIR), files are written with put() and
 * links made with link_to(), both relative to it. */
#ifndef TEST_TMPTREE_H
#define TEST_TMPTREE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];

/* Creates root as NAME-XXXXXX under $TMPDIR (or /tmp).  Returns 0 or -1. */
static inline int make_root(const char *name)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof(root), "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	return mkdtemp(root) ? 0 : -1;
}

static inline int remove_root(void)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes ROOT/rel, creating its directories. */
static inline void put(const char *rel, const char *content)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = strchr(path + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static inline void link_to(const char *rel, const char *target)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

#endif
