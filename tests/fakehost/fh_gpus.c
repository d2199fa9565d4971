/* "gpus": AMD GPUs expanded to real PCI topology.  Each GPU sits behind a
 * root port and a switch (upstream port, three downstream ports of which
 * the third holds the GPU; the first two are empty slots "others" may
 * use), so on a root complex whose root bus is BB the GPU is at
 * (BB+5):00.0 and, with First VF Offset 16, its first VF at (BB+5):02.0. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"
#include "pciconfig.h"

#define MIB (1ull << 20)

struct gpu_spec {
	const struct fh_model *model;
	int vfs, total_vfs, vf_offset, vf_stride, vf_autoprobe;
	const char *vf_driver;
	int vf_bars, bar0;         /* enum fh_bar_state */
	int rebar;                 /* 0 none, 1 at the largest size, 2 at 256 MiB */
	bool gpuiov, ari, sriov, bus_reserve, switch_acs;
	int ari_fwd;               /* of the GPU's downstream port; FH_AUTO keeps 2 */
	int root_complex;
	const char *hive;
	bool hive_set;
	int numa;
	const cJSON *pf[2], *port[2], *upstream[2], *root_port[2];
	const cJSON *vf_props[2], *vf_each[2];
};

static const char *const gpu_only_keys[] = {
	"model", "count", "overrides", "hives", "hive", "vfs", "vf_driver", "total_vfs",
	"vf_offset", "vf_stride", "vf_bars", "vf_autoprobe", "bar0", "rebar", "gpuiov", "sriov",
	"bus_reserve", "switch_acs", "root_complex", "port", "upstream", "root_port",
	"vf_props", "vf", "ari_forwarding", "numa", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static int check_keys(struct fh_host *h, const cJSON *obj, const char *where, bool entry)
{
	const cJSON *it;

	if (!cJSON_IsObject(obj))
		return fh_fail(h, EINVAL, "%s: expected an object", where);
	cJSON_ArrayForEach(it, obj) {
		const char *k = it->string;
		bool entry_only = !strcmp(k, "model") || !strcmp(k, "count") ||
				  !strcmp(k, "overrides") || !strcmp(k, "hives");

		if (k[0] == '_')
			continue;
		if (entry_only && !entry)
			return fh_fail(h, EINVAL, "%s.%s: only allowed in the gpus entry", where, k);
		if (!in_list(gpu_only_keys, k) && !in_list(fh_prop_keys, k))
			return fh_fail(h, EINVAL, "%s.%s: unknown field", where, k);
	}
	return 0;
}

/* The PF's own device properties: the object minus the GPU-level keys. */
static const cJSON *pf_props(struct fh_host *h, const cJSON *obj)
{
	cJSON *c = cJSON_Duplicate(obj, 1);

	for (const char *const *k = gpu_only_keys; *k; k++)
		cJSON_DeleteItemFromObjectCaseSensitive(c, *k);
	cJSON_AddItemToArray(h->owned, c);
	return c;
}

static int pick(struct fh_host *h, const cJSON *obj, const char *key, const char *where,
                const char *const *names, int *out)
{
	const cJSON *v = fh_get(obj, key);

	if (!v)
		return 0;
	for (int i = 0; cJSON_IsString(v) && names[i]; i++)
		if (strcmp(names[i], v->valuestring) == 0) {
			*out = i;
			return 1;
		}
	return fh_fail(h, EINVAL, "%s.%s: expected one of %s%s%s%s%s%s%s", where, key,
		       names[0], names[1] ? ", " : "", names[1] ? names[1] : "",
		       names[1] && names[2] ? ", " : "", names[1] && names[2] ? names[2] : "",
		       names[1] && names[2] && names[3] ? ", " : "",
		       names[1] && names[2] && names[3] ? names[3] : "");
}

static int objfield(struct fh_host *h, const cJSON *obj, const char *key, const char *where,
                    const cJSON **out)
{
	const cJSON *v = fh_get(obj, key);

	if (!v)
		return 0;
	if (!cJSON_IsObject(v))
		return fh_fail(h, EINVAL, "%s.%s: expected an object", where, key);
	*out = v;
	return 1;
}

static int parse_fields(struct fh_host *h, struct gpu_spec *s, const cJSON *obj,
                        const char *where, int layer)
{
	static const char *const vf_bar_states[] = { "assigned", "unset", "zero", NULL };
	static const char *const bar0_states[] = { "above4g", "below4g", "unset", "zero", NULL };
	static const char *const rebar_states[] = { "none", "max", "min", NULL };
	const cJSON *v;
	int st;

	if (check_keys(h, obj, where, layer == 0) < 0)
		return -h->err;
	fh_get_int(h, obj, "vfs", where, 0, 256, &s->vfs);
	fh_get_int(h, obj, "total_vfs", where, 0, 65535, &s->total_vfs);
	fh_get_int(h, obj, "vf_offset", where, 0, 65535, &s->vf_offset);
	fh_get_int(h, obj, "vf_stride", where, 1, 255, &s->vf_stride);
	fh_get_int(h, obj, "vf_autoprobe", where, 0, 1, &s->vf_autoprobe);
	fh_get_int(h, obj, "root_complex", where, 0, 14, &s->root_complex);
	fh_get_str(h, obj, "vf_driver", where, &s->vf_driver);
	if (fh_get_str(h, obj, "hive", where, &s->hive) > 0)
		s->hive_set = true;
	fh_get_bool(h, obj, "gpuiov", where, &s->gpuiov);
	fh_get_bool(h, obj, "sriov", where, &s->sriov);
	fh_get_bool(h, obj, "ari", where, &s->ari);
	fh_get_bool(h, obj, "bus_reserve", where, &s->bus_reserve);
	fh_get_bool(h, obj, "switch_acs", where, &s->switch_acs);
	if (pick(h, obj, "vf_bars", where, vf_bar_states, &st) > 0)
		s->vf_bars = st == 0 ? FH_BAR_ASSIGNED : st == 1 ? FH_BAR_UNSET : FH_BAR_ZERO;
	if (pick(h, obj, "bar0", where, bar0_states, &st) > 0)
		s->bar0 = st == 0 ? FH_BAR_ASSIGNED : st == 1 ? FH_BAR_LOW :
			  st == 2 ? FH_BAR_UNSET : FH_BAR_ZERO;
	v = fh_get(obj, "rebar");
	if (v && cJSON_IsFalse(v))
		s->rebar = 0;
	else
		pick(h, obj, "rebar", where, rebar_states, &s->rebar);
	v = fh_get(obj, "ari_forwarding");
	if (v) {
		if (cJSON_IsBool(v))
			s->ari_fwd = cJSON_IsTrue(v) ? 2 : 0;
		else if (cJSON_IsString(v) && !strcmp(v->valuestring, "supported"))
			s->ari_fwd = 1;
		else
			return fh_fail(h, EINVAL,
				       "%s.ari_forwarding: expected true, false or \"supported\"", where);
	}
	v = fh_get(obj, "numa");
	if (v && !cJSON_IsArray(v))
		fh_get_int(h, obj, "numa", where, -1, 7, &s->numa);
	objfield(h, obj, "port", where, &s->port[layer]);
	objfield(h, obj, "upstream", where, &s->upstream[layer]);
	objfield(h, obj, "root_port", where, &s->root_port[layer]);
	objfield(h, obj, "vf_props", where, &s->vf_props[layer]);
	objfield(h, obj, "vf", where, &s->vf_each[layer]);
	s->pf[layer] = pf_props(h, obj);
	return h->cause ? -h->err : 0;
}

/* Override keys replace the entry's ones. */
static const cJSON *merge(struct fh_host *h, const cJSON *a, const cJSON *b)
{
	cJSON *m;
	const cJSON *it;

	if (!a || !b)
		return a ? a : b;
	m = cJSON_Duplicate(a, 1);
	cJSON_ArrayForEach(it, b) {
		cJSON_DeleteItemFromObjectCaseSensitive(m, it->string);
		cJSON_AddItemToObject(m, it->string, cJSON_Duplicate(it, 1));
	}
	cJSON_AddItemToArray(h->owned, m);
	return m;
}

static void set_bar(struct fh_bar *b, int type, uint64_t size, int state)
{
	b->type = (uint8_t)type;
	b->size = size;
	b->state = (uint8_t)state;
}

static int apply2(struct fh_host *h, int dev, const cJSON *const obj[2], const char *where,
                  const char *what)
{
	char w[300];

	for (int l = 0; l < 2; l++) {
		if (!obj[l])
			continue;
		snprintf(w, sizeof(w), "%s%s%s", where, what[0] ? "." : "", what);
		if (fh_apply_props(h, &h->devs[dev], obj[l], w, false) < 0)
			return -h->err;
	}
	return 0;
}

static int make_pf(struct fh_host *h, const struct gpu_spec *s, int pf, const char *where)
{
	struct fh_dev *d = &h->devs[pf];
	const struct fh_model *m = s->model;
	struct fh_sriov *sr;

	d->vendor = d->ss_vendor = 0x1002;
	d->device = d->ss_device = m->pf;
	d->class_code = m->pf_class;
	d->revision = m->revision;
	d->link_speed = d->max_speed = m->gen;
	d->link_width = d->max_width = m->width;
	d->flr = true;
	d->msix = true;
	d->ari = s->ari;
	d->model = m;
	d->numa = s->numa;
	set_bar(&d->bars[0], FH_BAR_PREF64, s->bar0 == FH_BAR_LOW ? 64 * MIB : m->bar0, s->bar0);
	set_bar(&d->bars[2], FH_BAR_PREF64, 2 * MIB, FH_BAR_ASSIGNED);
	set_bar(&d->bars[5], FH_BAR_MEM32, 512 << 10, FH_BAR_ASSIGNED);
	set_bar(&d->rom, FH_BAR_MEM32, 128 << 10, FH_BAR_ASSIGNED);
	if (s->rebar) {
		d->rebar_bar = 0;
		d->rebar_max = m->bar0;
		d->rebar_cur = s->rebar == 2 || s->bar0 == FH_BAR_LOW ? d->bars[0].size : m->bar0;
		if (s->rebar == 2 && s->bar0 != FH_BAR_LOW)
			d->bars[0].size = d->rebar_cur = 256 * MIB;
	}
	if (!m->vf || !s->sriov) {
		if (s->vfs > 0)
			return fh_fail(h, EINVAL, "%s.vfs: %s has no SR-IOV capability", where,
				       s->sriov ? m->name : "this GPU");
		return 0;
	}
	if (s->vfs > s->total_vfs)
		return fh_fail(h, EINVAL, "%s.vfs: %d is more than total_vfs %d", where, s->vfs,
			       s->total_vfs);
	d->gpuiov = s->gpuiov;
	sr = d->sriov = fh_alloc(sizeof(*sr));
	sr->total = s->total_vfs;
	/* The kernel cannot enable VFs whose BARs got no space. */
	sr->num = s->vf_bars == FH_BAR_ASSIGNED ? s->vfs : 0;
	sr->offset = s->vf_offset;
	sr->stride = s->vf_stride;
	sr->vf_device = m->vf;
	sr->vf_class = m->vf_class;
	sr->autoprobe = s->vf_autoprobe;
	sr->vf_driver = fh_strdup(s->vf_driver);
	sr->vf_props = merge(h, s->vf_props[0], s->vf_props[1]);
	sr->vf_each = merge(h, s->vf_each[0], s->vf_each[1]);
	sr->where = fh_strdup(where);
	sr->vf_group_with = -1;
	sr->first_vf = -1;
	set_bar(&sr->vf_bars[0], FH_BAR_PREF64, m->vf_bar0, s->vf_bars);
	set_bar(&sr->vf_bars[2], FH_BAR_PREF64, 2 * MIB, s->vf_bars);
	set_bar(&sr->vf_bars[5], FH_BAR_MEM32, 512 << 10, s->vf_bars);
	return 0;
}

/* Buses below the GPU's own that its last possible VF needs. */
static int vf_extra_buses(const struct gpu_spec *s)
{
	if (!s->model->vf || !s->sriov || s->total_vfs == 0 || !s->bus_reserve)
		return 0;
	return (s->vf_offset + (s->total_vfs - 1) * s->vf_stride) >> 8;
}

static int build_gpu(struct fh_host *h, const struct gpu_spec *s, const char *where)
{
	int extra = vf_extra_buses(s);
	int socket = h->numa && s->numa >= 0 ? s->numa % h->sockets : -1;
	int rc, b, rp, us, ds[3], pf, g;

	rc = s->root_complex != FH_AUTO ? s->root_complex : fh_rc_pick(h, socket, 5 + extra);
	if (rc < 0 || rc >= h->n_rcs)
		return rc < 0 ? rc : fh_fail(h, EINVAL, "%s.root_complex: no root complex %d",
					     where, rc);
	b = fh_rc_buses(h, rc, 5 + extra);
	if (b < 0)
		return b;
	rp = fh_root_port(h, rc, b, b + 4 + extra);
	if (rp < 0)
		return rp;
	us = fh_bridge(h, rp, b, 0, PCICFG_PORT_UPSTREAM, b + 1, b + 4 + extra);
	for (int k = 0; us >= 0 && k < 3; k++) {
		ds[k] = fh_bridge(h, us, b + 1, k << 3, PCICFG_PORT_DOWNSTREAM, b + 2 + k,
				  k == 2 ? b + 4 + extra : b + 2 + k);
		if (ds[k] < 0)
			return ds[k];
		/* Empty slots train no link. */
		if (k < 2) {
			h->devs[ds[k]].link_speed = 1;
			h->devs[ds[k]].link_width = 0;
		}
	}
	if (us < 0)
		return us;
	pf = fh_dev_new(h, ds[2], rc, b + 4, 0);
	if (pf < 0)
		return pf;
	if (s->ari_fwd != FH_AUTO)
		h->devs[ds[2]].ari_fwd = s->ari_fwd;
	if (make_pf(h, s, pf, where) < 0)
		return -h->err;
	if (h->devs[pf].sriov)
		h->devs[pf].sriov->ari_hierarchy = s->ari && h->devs[ds[2]].ari_fwd == 2;
	g = h->n_gpus++;
	h->gpus = realloc(h->gpus, (size_t)h->n_gpus * sizeof(*h->gpus));
	if (!h->gpus)
		abort();
	h->gpus[g].pf = pf;
	h->gpus[g].free_slots[0] = ds[0];
	h->gpus[g].free_slots[1] = ds[1];
	h->gpus[g].merge = -1;
	if (!s->switch_acs) {
		/* Without ACS the downstream ports do not isolate their devices
		 * from each other: the kernel groups them all together. */
		for (int k = 0; k < 3; k++) {
			h->devs[ds[k]].acs = 0;
			if (k)
				h->devs[ds[k]].group_with = ds[0];
		}
		h->devs[pf].group_with = ds[0];
		if (h->devs[pf].sriov)
			h->devs[pf].sriov->vf_group_with = ds[0];
		h->gpus[g].merge = ds[0];
	}
	if (apply2(h, rp, s->root_port, where, "root_port") < 0 ||
	    apply2(h, us, s->upstream, where, "upstream") < 0 ||
	    apply2(h, ds[2], s->port, where, "port") < 0 || apply2(h, pf, s->pf, where, "") < 0)
		return -h->err;
	if (s->hive && fh_hive_add(h, s->hive, pf) < 0)
		return -h->err;
	return 0;
}

static void defaults(struct gpu_spec *s, const struct fh_model *m)
{
	memset(s, 0, sizeof(*s));
	s->model = m;
	s->total_vfs = m->total_vfs;
	s->vf_offset = 16;
	s->vf_stride = 1;
	s->vf_autoprobe = 1;
	s->rebar = 1;
	s->gpuiov = s->ari = s->sriov = s->bus_reserve = s->switch_acs = true;
	s->ari_fwd = FH_AUTO;
	s->root_complex = FH_AUTO;
	s->numa = FH_AUTO;
}

static int gpu_entry(struct fh_host *h, const cJSON *e, const char *where)
{
	const char *model_name = NULL;
	const struct fh_model *m;
	const cJSON *numa = fh_get(e, "numa"), *hives = fh_get(e, "hives");
	const cJSON *overrides = fh_get(e, "overrides"), *it;
	int count = 1, n_hives = 0;
	struct gpu_spec base;

	if (check_keys(h, e, where, true) < 0)
		return -h->err;
	if (fh_get_str(h, e, "model", where, &model_name) <= 0 || !model_name)
		return h->cause ? -h->err : fh_fail(h, EINVAL, "%s.model: missing", where);
	m = fh_model_find(model_name);
	if (!m)
		return fh_fail(h, EINVAL, "%s.model: unknown model '%s'", where, model_name);
	fh_get_int(h, e, "count", where, 1, 64, &count);
	if (numa && cJSON_IsArray(numa) && cJSON_GetArraySize(numa) != count)
		return fh_fail(h, EINVAL, "%s.numa: %d entries for %d GPUs", where,
			       cJSON_GetArraySize(numa), count);
	if (hives) {
		n_hives = cJSON_IsArray(hives) ? cJSON_GetArraySize(hives) : 0;
		if (n_hives == 0 || count % n_hives != 0)
			return fh_fail(h, EINVAL, "%s.hives: expected a list of hive ids dividing "
				       "the %d GPUs evenly", where, count);
	}
	if (overrides && !cJSON_IsObject(overrides))
		return fh_fail(h, EINVAL, "%s.overrides: expected an object", where);
	cJSON_ArrayForEach(it, overrides) {
		char *end;
		long k = strtol(it->string, &end, 10);

		if (*end || k < 0 || k >= count)
			return fh_fail(h, EINVAL, "%s.overrides.%s: no such GPU in this entry (0..%d)",
				       where, it->string, count - 1);
	}
	defaults(&base, m);
	if (parse_fields(h, &base, e, where, 0) < 0)
		return -h->err;
	for (int i = 0; i < count; i++) {
		struct gpu_spec s = base;
		char key[16], w[300];
		const cJSON *ov;

		snprintf(key, sizeof(key), "%d", i);
		snprintf(w, sizeof(w), "%s[%d]", where, i);
		if (numa && cJSON_IsArray(numa)) {
			const cJSON *x = cJSON_GetArrayItem(numa, i);

			if (!cJSON_IsNumber(x) || x->valuedouble < -1 || x->valuedouble > 7)
				return fh_fail(h, EINVAL, "%s.numa[%d]: expected -1..7", where, i);
			s.numa = (int)x->valuedouble;
		}
		if (n_hives) {
			const cJSON *x = cJSON_GetArrayItem(hives, i / (count / n_hives));

			if (!cJSON_IsString(x) && !cJSON_IsNull(x))
				return fh_fail(h, EINVAL, "%s.hives: expected strings", where);
			s.hive = cJSON_IsString(x) ? x->valuestring : NULL;
		}
		s.pf[1] = s.port[1] = s.upstream[1] = s.root_port[1] = NULL;
		s.vf_props[1] = s.vf_each[1] = NULL;
		ov = fh_get(overrides, key);
		if (ov) {
			snprintf(w, sizeof(w), "%s.overrides.%d", where, i);
			if (parse_fields(h, &s, ov, w, 1) < 0)
				return -h->err;
		}
		if (build_gpu(h, &s, w) < 0)
			return -h->err;
	}
	return 0;
}

int fh_gpus(struct fh_host *h, const cJSON *list)
{
	return fh_each(h, list, "gpus", gpu_entry);
}
