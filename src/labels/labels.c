#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels/labels.h"

#define VALUE_MAX 64

/* Distinct values with how many GPUs have each, in order of first sight. */
struct tally {
	char (*values)[VALUE_MAX];
	int *counts;
	int n;
};

static int tally_add(struct tally *t, const char *value)
{
	for (int i = 0; i < t->n; i++) {
		if (strcmp(t->values[i], value) == 0) {
			t->counts[i]++;
			return 0;
		}
	}
	char (*v)[VALUE_MAX] = realloc(t->values, (size_t)(t->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->values = v;
	int *c = realloc(t->counts, (size_t)(t->n + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	t->counts = c;
	snprintf(t->values[t->n], VALUE_MAX, "%s", value);
	t->counts[t->n++] = 1;
	return 0;
}

static void tally_clear(struct tally *t)
{
	free(t->values);
	free(t->counts);
	memset(t, 0, sizeof(*t));
}

static int note(struct av_labels *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int note(struct av_labels *l, const char *fmt, ...)
{
	char **n = realloc(l->notes, (size_t)(l->n_notes + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	l->notes = n;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&n[l->n_notes], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	l->n_notes++;
	return 0;
}

/* A key is set once; a later value for the same key replaces it, so the
 * result never holds duplicates whatever the model looks like. */
static int add(struct av_labels *l, const char *key, const char *value)
{
	if (!av_label_key_valid(key))
		return note(l, "label %s left out: not a valid label key", key);
	if (!av_label_value_valid(value))
		return note(l, "label %s left out: \"%s\" is not a valid label value", key, value);
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	for (int i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].key, key) == 0) {
			free(l->items[i].value);
			l->items[i].value = v;
			return 0;
		}
	}
	struct av_label *items = realloc(l->items, (size_t)(l->n + 1) * sizeof(*items));
	char *k = strdup(key);
	if (items)
		l->items = items;
	if (!items || !k) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	l->items[l->n].key = k;
	l->items[l->n].value = v;
	l->n++;
	return 0;
}

static int addf(struct av_labels *l, const char *value, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int addf(struct av_labels *l, const char *value, const char *fmt, ...)
{
	char key[512];
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(key))
		return note(l, "a label key is too long and was left out");
	return add(l, key, value);
}

/* AMD's createLabels shape (contract section 5): the plain key when every
 * GPU agrees, per-value counters under beta always and under amd.com only
 * when the values differ. */
static int add_counted(struct av_labels *l, const char *kind, const struct tally *t, bool beta)
{
	int r = 0;
	if (t->n == 1) {
		r = addf(l, t->values[0], "amd.com/gpu.%s", kind);
		if (!r && beta)
			r = addf(l, t->values[0], "beta.amd.com/gpu.%s", kind);
	}
	for (int i = 0; !r && i < t->n; i++) {
		char count[16];
		snprintf(count, sizeof(count), "%d", t->counts[i]);
		if (beta)
			r = addf(l, count, "beta.amd.com/gpu.%s.%s", kind, t->values[i]);
		if (!r && t->n > 1)
			r = addf(l, count, "amd.com/gpu.%s.%s", kind, t->values[i]);
	}
	return r;
}

static int add_version(struct av_labels *l, const char *raw)
{
	char v[VALUE_MAX];
	if (!raw || !*av_label_value_clean(raw, true, v, sizeof(v)))
		return 0;
	return add(l, "amd.com/gpu.driver-version", v);
}

static bool counted(const struct av_func *f, enum av_role role)
{
	return f->role == role && f->selected;
}

static int add_device_ids(struct av_labels *l, const struct av_model *m, enum av_role role)
{
	struct tally t = { 0 };
	int r = 0;
	for (int i = 0; !r && i < m->n_funcs; i++) {
		if (!counted(&m->funcs[i], role))
			continue;
		char id[8];
		snprintf(id, sizeof(id), "%04x", m->funcs[i].device);
		r = tally_add(&t, id);
	}
	if (!r)
		r = add_counted(l, "device-id", &t, true);
	tally_clear(&t);
	return r;
}

/* The facts of the GPUs this mode counts (a fact whose PF is not counted,
 * say a display adapter left out by the selection, does not describe what
 * the node offers). */
static bool fact_counted(const struct av_model *m, const struct av_gpu_facts *g)
{
	int i = av_model_find(m, g->bdf);
	return i >= 0 && counted(&m->funcs[i], AV_ROLE_PF);
}

static int add_container(struct av_labels *l, const struct av_model *m,
                         const struct av_label_facts *facts)
{
	struct tally name = { 0 }, vram = { 0 }, cu = { 0 }, simd = { 0 };
	int r = add_version(l, facts->amdgpu_version);
	for (int i = 0; !r && i < facts->n_gpus; i++) {
		const struct av_gpu_facts *g = &facts->gpus[i];
		char v[VALUE_MAX];
		if (!fact_counted(m, g))
			continue;
		if (g->product_name && *av_label_value_clean(g->product_name, false, v, sizeof(v)))
			r = tally_add(&name, v);
		if (!r && g->vram_bytes > 0) {
			/* Rounded to whole GiB, as AMD's labeller writes it ("192G"). */
			snprintf(v, sizeof(v), "%lldG", (g->vram_bytes + (1LL << 29)) >> 30);
			r = tally_add(&vram, v);
		}
		if (!r && g->simd_count > 0) {
			snprintf(v, sizeof(v), "%ld", g->simd_count);
			r = tally_add(&simd, v);
			if (!r && g->simd_per_cu > 0) {
				snprintf(v, sizeof(v), "%ld", g->simd_count / g->simd_per_cu);
				r = tally_add(&cu, v);
			}
		}
	}
	if (!r)
		r = add_counted(l, "product-name", &name, false);
	if (!r)
		r = add_counted(l, "vram", &vram, false);
	if (!r)
		r = add_counted(l, "cu-count", &cu, false);
	if (!r)
		r = add_counted(l, "simd-count", &simd, false);
	tally_clear(&name);
	tally_clear(&vram);
	tally_clear(&cu);
	tally_clear(&simd);
	return r;
}

static bool vfio_ready(const struct av_model *m)
{
	int n = 0;
	for (int i = 0; i < m->n_funcs; i++) {
		const struct av_func *f = &m->funcs[i];
		if (!f->selected || !av_func_is_gpu(f))
			continue;
		if (!av_func_on(f, "vfio-pci"))
			return false;
		n++;
	}
	return n > 0;
}

static int add_operator(struct av_labels *l, const struct av_model *m)
{
	const struct av_config *cfg = m->config;
	if (!cfg || !cfg->present || (cfg->driver_enable_set && !cfg->driver_enable))
		return 0;
	char prefix[512];
	if (!av_label_operator_prefix(cfg, prefix, sizeof(prefix)))
		return note(l, "DeviceConfig has no usable name: gpu.operator.amd.com labels left out");
	const char *driver = cfg->driver_type ? cfg->driver_type : av_mode_name(m->mode);
	int r = addf(l, driver, "%sdriver", prefix);
	if (!r && (m->mode == AV_MODE_VF || m->mode == AV_MODE_PF) && vfio_ready(m))
		r = addf(l, "", "%svfio.ready", prefix);
	return r;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct av_label *)a)->key, ((const struct av_label *)b)->key);
}

int av_labels_compute(const struct av_model *m, const struct av_label_facts *facts,
                      struct av_labels *out)
{
	static const struct av_label_facts none = { 0 };
	memset(out, 0, sizeof(*out));
	if (!facts)
		facts = &none;
	/* A node where nothing was detected carries none of our labels, so a
	 * selector on amd.com/gpu.mode never matches it. */
	if (m->mode == AV_MODE_NONE)
		return 0;

	const char *mode = av_mode_name(m->mode);
	int r = add(out, "amd.com/gpu.mode", mode);
	if (!r)
		r = add(out, "beta.amd.com/gpu.mode", mode);
	if (!r)
		r = add_device_ids(out, m, m->mode == AV_MODE_VF ? AV_ROLE_VF : AV_ROLE_PF);
	if (!r && m->mode == AV_MODE_VF)
		r = add_version(out, facts->gim_version);
	if (!r && m->mode == AV_MODE_CONTAINER)
		r = add_container(out, m, facts);
	if (!r)
		r = add_operator(out, m);
	if (r) {
		av_labels_clear(out);
		return r;
	}
	if (out->n > 1)
		qsort(out->items, (size_t)out->n, sizeof(out->items[0]), by_key);
	return 0;
}

void av_labels_clear(struct av_labels *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	for (int i = 0; i < l->n_notes; i++)
		free(l->notes[i]);
	free(l->notes);
	memset(l, 0, sizeof(*l));
}

const char *av_labels_get(const struct av_labels *l, const char *key)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return l->items[i].value;
	return NULL;
}
