#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwcache.h"

void ui_hwcache_init(struct ui_hwcache *c)
{
	memset(c, 0, sizeof(*c));
}

void ui_hwcache_clear(struct ui_hwcache *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	ui_hwcache_init(c);
}

const struct av_func_details *ui_hwcache_get(struct ui_hwcache *c, const struct av_host *host,
                                             const char *bdf)
{
	if (!host || !bdf)
		return NULL;
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->v[i]->bdf, bdf) == 0)
			return c->v[i]->rc == 0 ? &c->v[i]->d : NULL;
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 8;
		struct ui_hwcache_entry **v = realloc(c->v, (size_t)cap * sizeof(*v));
		if (!v)
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	struct ui_hwcache_entry *e = malloc(sizeof(*e));
	if (!e)
		return NULL;
	c->v[c->n++] = e;
	snprintf(e->bdf, sizeof(e->bdf), "%s", bdf);
	/* A failed read is remembered too: a vanished function is not
	 * looked for again on every key press. */
	e->rc = av_func_details(host, bdf, &e->d);
	c->reads++;
	return e->rc == 0 ? &e->d : NULL;
}
