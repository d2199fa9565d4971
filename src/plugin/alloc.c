#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/alloc.h"

int av_alloc_find(const struct av_resources *r, const char *id)
{
	for (int i = 0; i < r->n_devices; i++)
		if (strcmp(r->devices[i].id, id) == 0)
			return i;
	return -1;
}

/* Bounded appending to a message buffer. */
struct text {
	char *buf;
	size_t size, len;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->size == 0 || t->len >= t->size - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < t->size - t->len ? (size_t)n : t->size - t->len - 1;
}

static int hive_total(const struct av_resources *r, int h)
{
	int n = 0;

	for (int i = 0; i < r->n_devices; i++)
		n += r->devices[i].hive == h;
	return n;
}

static int count_in(const struct av_resources *r, const int *devs, int n, int h)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += r->devices[devs[i]].hive == h;
	return c;
}

/* True when devs[i]'s hive already appeared at an earlier position. */
static bool seen_before(const struct av_resources *r, const int *devs, int i)
{
	for (int j = 0; j < i; j++)
		if (r->devices[devs[j]].hive == r->devices[devs[i]].hive)
			return true;
	return false;
}

static void hive_name(const struct av_model *m, int h, char *buf, size_t size)
{
	if (m != NULL && h >= 0 && h < m->n_hives)
		snprintf(buf, size, "%s", m->hives[h].id);
	else
		snprintf(buf, size, "h%d", h);
}

bool av_alloc_hive_ok(const struct av_resources *r, const struct av_model *m,
                      const int *devs, int n, char *why, size_t size)
{
	struct text t = { why, size, 0 };
	int hived = 0, distinct = 0, partial = 0;

	for (int i = 0; i < n; i++) {
		int h = r->devices[devs[i]].hive;

		if (h < 0)
			continue;
		hived++;
		if (seen_before(r, devs, i))
			continue;
		distinct++;
		partial += count_in(r, devs, n, h) < hive_total(r, h);
	}
	if (size > 0)
		why[0] = '\0';
	if (hived == 0 || partial == 0)
		return true;
	if (distinct == 1 && (hived == 1 || hived == 2 || hived == 4))
		return true;
	put(&t, "this set breaks the XGMI hive rule: GPUs of a hive are allocated as "
	        "1, 2 or 4 devices of one hive, or as whole hives; it takes");
	for (int i = 0; i < n; i++) {
		int h = r->devices[devs[i]].hive;
		char name[16];

		if (h < 0 || seen_before(r, devs, i))
			continue;
		hive_name(m, h, name, sizeof(name));
		put(&t, "%s %d of %s (", i ? "," : "", count_in(r, devs, n, h), name);
		for (int k = 0, first = 1; k < r->n_devices; k++) {
			if (r->devices[k].hive != h)
				continue;
			put(&t, "%s%s", first ? "" : " ", r->devices[k].id);
			first = 0;
		}
		put(&t, ")");
	}
	return false;
}

int av_alloc_check(const struct av_resources *r, const struct av_model *m,
                   const char *const *ids, int n, int *devs, char *why, size_t size)
{
	struct text t = { why, size, 0 };

	if (size > 0)
		why[0] = '\0';
	if (n == 0) {
		put(&t, "no device IDs in the request");
		return 3;   /* INVALID_ARGUMENT */
	}
	for (int i = 0; i < n; i++) {
		const struct av_plugin_device *d;

		devs[i] = av_alloc_find(r, ids[i]);
		if (devs[i] < 0) {
			put(&t, "unknown device ID \"%s\" for %s", ids[i], r->resource);
			return 5;   /* NOT_FOUND */
		}
		for (int j = 0; j < i; j++) {
			if (devs[j] == devs[i]) {
				put(&t, "device %s is requested twice", ids[i]);
				return 3;
			}
		}
		d = &r->devices[devs[i]];
		if (!d->healthy) {
			put(&t, "device %s is unhealthy", d->id);
			if (d->group >= 0)
				put(&t, " (its IOMMU group is not fully on vfio-pci or /dev/vfio/%d is missing)",
				    d->group);
			return 9;   /* FAILED_PRECONDITION */
		}
	}
	if (!av_alloc_hive_ok(r, m, devs, n, why, size))
		return 9;
	return 0;
}

/* --- preference ------------------------------------------------------------ */

static bool contains(const int *set, int n, int v)
{
	for (int i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

/* Appends v to out unless present. */
static void add(int *out, int *n, int v)
{
	if (!contains(out, *n, v))
		out[(*n)++] = v;
}

static int max_hive(const struct av_resources *r)
{
	int h = -1;

	for (int i = 0; i < r->n_devices; i++)
		if (r->devices[i].hive > h)
			h = r->devices[i].hive;
	return h;
}

/* Fills out (already holding *n entries) up to size from pool, devices on
 * node first, keeping pool order otherwise. */
static void fill_from(const struct av_resources *r, const int *pool, int n_pool, int node,
                      int size, int *out, int *n)
{
	for (int pass = 0; pass < 2 && *n < size; pass++)
		for (int i = 0; i < n_pool && *n < size; i++)
			if (pass == 1 || r->devices[pool[i]].numa_node == node)
				add(out, n, pool[i]);
}

/* The NUMA node among pool (minus out) that best fits need devices: the
 * wanted node when it can, else the smallest that can, else the largest. */
static int pick_node(const struct av_resources *r, const int *pool, int n_pool,
                     const int *out, int n_out, int need, int wanted)
{
	int best = -2, best_n = 0, big = -2, big_n = -1;

	for (int i = 0; i < n_pool; i++) {
		int node = r->devices[pool[i]].numa_node, c = 0;

		for (int j = 0; j < n_pool; j++)
			c += r->devices[pool[j]].numa_node == node && !contains(out, n_out, pool[j]);
		if (node == wanted && c >= need)
			return node;
		if (c >= need && (best == -2 || c < best_n)) {
			best = node;
			best_n = c;
		}
		if (c > big_n) {
			big = node;
			big_n = c;
		}
	}
	return best != -2 ? best : big;
}

static int numa_fill(const struct av_resources *r, const int *avail, int n_avail,
                     const int *must, int n_must, int size, int *out)
{
	int n = 0, node;

	for (int i = 0; i < n_must && n < size; i++)
		add(out, &n, must[i]);
	if (n >= size)
		return n;
	node = pick_node(r, avail, n_avail, out, n, size - n,
	                 n > 0 ? r->devices[out[0]].numa_node : -2);
	fill_from(r, avail, n_avail, node, size, out, &n);
	return n;
}

/* 1, 2 or 4 devices of one hive. */
static int partial_hive(const struct av_resources *r, const int *avail, int n_avail,
                        const int *must, int n_must, int size, int *out)
{
	int hmax = max_hive(r), best = -1, best_free = 0, n = 0, node;
	int must_hive = n_must > 0 ? r->devices[must[0]].hive : -1;

	for (int i = 0; i < n_must; i++)
		if (r->devices[must[i]].hive != must_hive || must_hive < 0)
			return 0;
	for (int h = 0; h <= hmax; h++) {
		int free_n = count_in(r, avail, n_avail, h);

		if (must_hive >= 0 && h != must_hive)
			continue;
		/* Best fit: take from the hive with the fewest free devices,
		 * so whole hives stay whole for larger requests. */
		if (free_n >= size && (best < 0 || free_n < best_free)) {
			best = h;
			best_free = free_n;
		}
	}
	if (best < 0)
		return 0;
	int *pool = malloc((size_t)n_avail * sizeof(*pool));
	int n_pool = 0;

	if (pool == NULL)
		return 0;
	for (int i = 0; i < n_avail; i++)
		if (r->devices[avail[i]].hive == best)
			pool[n_pool++] = avail[i];
	for (int i = 0; i < n_must; i++)
		add(out, &n, must[i]);
	node = pick_node(r, pool, n_pool, out, n, size - n,
	                 n > 0 ? r->devices[out[0]].numa_node : -2);
	fill_from(r, pool, n_pool, node, size, out, &n);
	free(pool);
	return n;
}

struct hive_search {
	const int *cand;             /* hive indexes */
	int n_cand;
	const int *sizes;            /* per hive index */
	int *pick;                   /* chosen flags per candidate */
};

static bool subset_sum(struct hive_search *s, int from, int need)
{
	if (need == 0)
		return true;
	for (int i = from; i < s->n_cand; i++) {
		int sz = s->sizes[s->cand[i]];

		if (sz > 0 && sz <= need) {
			s->pick[i] = 1;
			if (subset_sum(s, i + 1, need - sz))
				return true;
			s->pick[i] = 0;
		}
	}
	return false;
}

/* The NUMA node all devices of hive h sit on, or -1. */
static int hive_node(const struct av_resources *r, int h)
{
	int node = -2;

	for (int i = 0; i < r->n_devices; i++) {
		if (r->devices[i].hive != h)
			continue;
		if (node == -2)
			node = r->devices[i].numa_node;
		else if (node != r->devices[i].numa_node)
			return -1;
	}
	return node;
}

/* True when a usable hive before h sits on node (tried with it). */
static bool first_on(const struct av_resources *r, const int *total, int h, int node)
{
	for (int k = 0; k < h; k++)
		if (total[k] > 0 && hive_node(r, k) == node)
			return true;
	return false;
}

/* Whole hives adding up to size. */
static int whole_hives(const struct av_resources *r, const int *avail, int n_avail,
                       const int *must, int n_must, int size, int *out)
{
	int hmax = max_hive(r), n = 0, need = size, n_cand = 0;
	int *total = calloc((size_t)hmax + 1, sizeof(int));
	int *cand = calloc((size_t)hmax + 1, sizeof(int));
	int *pick = calloc((size_t)hmax + 1, sizeof(int));
	bool *req = calloc((size_t)hmax + 1, sizeof(bool));
	bool found = false;
	int node = -2;

	if (hmax < 0 || total == NULL || cand == NULL || pick == NULL || req == NULL)
		goto out;
	for (int h = 0; h <= hmax; h++) {
		total[h] = hive_total(r, h);
		if (count_in(r, avail, n_avail, h) != total[h])
			total[h] = 0;   /* not wholly free: unusable */
	}
	for (int i = 0; i < n_must; i++) {
		int h = r->devices[must[i]].hive;

		if (h < 0 || total[h] == 0)
			goto out;
		if (!req[h]) {
			req[h] = true;
			need -= total[h];
			if (node == -2)
				node = hive_node(r, h);
		}
	}
	if (need < 0)
		goto out;
	/* First hives on one NUMA node (that of the required hives, else each
	 * node in turn), then any mix. */
	for (int h0 = 0; h0 <= hmax + 1 && !found; h0++) {
		bool any = h0 == hmax + 1;
		int want = node != -2 ? node : any ? -1 : hive_node(r, h0);
		struct hive_search s = { cand, 0, total, pick };

		if (!any && (want < 0 || (node != -2 && h0 > 0) ||
		             (node == -2 && (total[h0] == 0 || first_on(r, total, h0, want)))))
			continue;
		n_cand = 0;
		for (int h = 0; h <= hmax; h++)
			if (!req[h] && total[h] > 0 && (any || hive_node(r, h) == want))
				cand[n_cand++] = h;
		s.n_cand = n_cand;
		memset(pick, 0, ((size_t)hmax + 1) * sizeof(int));
		found = subset_sum(&s, 0, need);
	}
	if (!found)
		goto out;
	for (int i = 0; i < n_must; i++)
		add(out, &n, must[i]);
	for (int i = 0; i < n_avail; i++) {
		int h = r->devices[avail[i]].hive;
		bool chosen = h >= 0 && req[h];

		for (int c = 0; c < n_cand && !chosen; c++)
			chosen = pick[c] && cand[c] == h;
		if (chosen && n < size)
			add(out, &n, avail[i]);
	}
out:
	free(total);
	free(cand);
	free(pick);
	free(req);
	return found ? n : 0;
}

int av_alloc_prefer(const struct av_resources *r, const int *avail, int n_avail,
                    const int *must, int n_must, int size, int *out)
{
	bool hived = false;
	int n;

	if (size <= 0)
		return 0;
	if (n_must >= size) {
		n = 0;
		for (int i = 0; i < n_must && n < size; i++)
			add(out, &n, must[i]);
		if (n == size)
			return n;
	}
	for (int i = 0; i < n_avail; i++)
		hived |= r->devices[avail[i]].hive >= 0;
	if (hived) {
		if (size == 1 || size == 2 || size == 4) {
			n = partial_hive(r, avail, n_avail, must, n_must, size, out);
			if (n == size)
				return n;
		}
		n = whole_hives(r, avail, n_avail, must, n_must, size, out);
		if (n == size)
			return n;
	}
	return numa_fill(r, avail, n_avail, must, n_must, size, out);
}

/* --- grants ------------------------------------------------------------------ */

static int add_spec(struct av_alloc_grant *g, const char *path)
{
	struct av_alloc_spec *s;

	for (int i = 0; i < g->n_specs; i++)
		if (strcmp(g->specs[i].path, path) == 0)
			return 0;
	s = realloc(g->specs, ((size_t)g->n_specs + 1) * sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	g->specs = s;
	snprintf(s[g->n_specs].path, sizeof(s->path), "%s", path);
	g->n_specs++;
	return 0;
}

static int append_bdf(char **value, size_t *len, const char *bdf)
{
	size_t add = strlen(bdf) + 1;
	char *p = realloc(*value, *len + add + 1);

	if (p == NULL)
		return -ENOMEM;
	*value = p;
	if (*len > 0)
		p[(*len)++] = ',';
	memcpy(p + *len, bdf, add);
	*len += add - 1;
	return 0;
}

int av_alloc_grant(const struct av_resources *r, const struct av_model *m,
                   const int *devs, int n, struct av_alloc_grant *out)
{
	char path[64];
	size_t len = 0;
	bool vfio = n > 0 && r->devices[devs[0]].group >= 0;

	memset(out, 0, sizeof(*out));
	out->permissions = vfio ? "mrw" : "rw";
	if (vfio) {
		av_resource_env_name(r->resource, out->env_name, sizeof(out->env_name));
		if (add_spec(out, "/dev/vfio/vfio") < 0)
			goto nomem;
	} else if (n > 0 && add_spec(out, "/dev/kfd") < 0) {
		goto nomem;
	}
	for (int i = 0; i < n; i++) {
		const struct av_plugin_device *d = &r->devices[devs[i]];

		if (vfio) {
			snprintf(path, sizeof(path), "/dev/vfio/%d", d->group);
			if (add_spec(out, path) < 0)
				goto nomem;
		}
		for (int k = 0; k < d->n_funcs; k++) {
			const struct av_func *f = &m->funcs[d->funcs[k]];

			if (vfio && append_bdf(&out->env_value, &len, f->bdf) < 0)
				goto nomem;
			if (vfio && f->vfio_cdev != NULL && add_spec(out, f->vfio_cdev) < 0)
				goto nomem;
			for (int j = 0; !vfio && j < f->n_drm_nodes; j++)
				if (add_spec(out, f->drm_nodes[j]) < 0)
					goto nomem;
		}
	}
	if (vfio && m->have_iommufd && add_spec(out, "/dev/iommu") < 0)
		goto nomem;
	if (vfio && out->env_value == NULL && (out->env_value = strdup("")) == NULL)
		goto nomem;
	return 0;
nomem:
	av_alloc_grant_clear(out);
	return -ENOMEM;
}

void av_alloc_grant_clear(struct av_alloc_grant *g)
{
	free(g->env_value);
	free(g->specs);
	memset(g, 0, sizeof(*g));
}
