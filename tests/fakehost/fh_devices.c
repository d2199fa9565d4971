/* "devices": functions placed explicitly, for full control. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"
#include "pciconfig.h"

static const char *const dev_keys[] = {
	"bdf", "parent", "kind", "model", "type", "secondary", "subordinate", "bars", "sriov",
	"hive", NULL,
};

static const char *const sriov_keys[] = {
	"total", "num", "offset", "stride", "vf_device", "vf_driver", "vf_props", "vf", NULL,
};

static const char *const bar_keys[] = { "size", "type", "state", NULL };

static const struct { const char *name; int pcie; bool bridge; } types[] = {
	{ "endpoint", PCICFG_PORT_ENDPOINT, false }, { "rciep", PCICFG_PORT_RCIEP, false },
	{ "legacy", PCICFG_PORT_LEGACY_ENDPOINT, false }, { "pci", -1, false },
	{ "root_port", PCICFG_PORT_ROOT, true }, { "upstream", PCICFG_PORT_UPSTREAM, true },
	{ "downstream", PCICFG_PORT_DOWNSTREAM, true }, { "pci_bridge", -1, true },
};

static int set_type(struct fh_host *h, struct fh_dev *d, const char *type, const char *where)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcmp(types[i].name, type) != 0)
			continue;
		d->pcie = types[i].pcie;
		d->bridge = types[i].bridge;
		if (d->bridge) {
			d->class_code = 0x060400;
			free(d->driver);
			d->driver = fh_strdup("pcieport");
			if (d->pcie == PCICFG_PORT_ROOT || d->pcie == PCICFG_PORT_DOWNSTREAM) {
				d->acs = 1;
				d->ari_fwd = 2;
			}
		}
		return 0;
	}
	return fh_fail(h, EINVAL, "%s.type: unknown type '%s'", where, type);
}

static int bars(struct fh_host *h, struct fh_dev *d, const cJSON *obj, const char *where)
{
	static const char *const tnames[] = { "none", "mem32", "mem64", "pref64" };
	static const char *const snames[] = { "assigned", "below4g", "unset", "zero" };
	const cJSON *it;

	if (!obj)
		return 0;
	if (!cJSON_IsObject(obj))
		return fh_fail(h, EINVAL, "%s.bars: expected an object", where);
	cJSON_ArrayForEach(it, obj) {
		char w[300], *end;
		long n = strtol(it->string, &end, 10);
		const char *s = NULL;
		struct fh_bar *b;

		snprintf(w, sizeof(w), "%s.bars.%s", where, it->string);
		if (*end || n < 0 || n > 6)
			return fh_fail(h, EINVAL, "%s: BAR index 0-5, or 6 for the ROM", w);
		b = n == 6 ? &d->rom : &d->bars[n];
		if (fh_keys(h, it, w, bar_keys) < 0 || fh_get_size(h, it, "size", w, &b->size) < 0)
			return -h->err;
		if (fh_get_str(h, it, "type", w, &s) > 0) {
			int k = -1;

			for (int t = 0; s && t < 4; t++)
				if (!strcmp(tnames[t], s))
					k = t;
			if (k < 0)
				return fh_fail(h, EINVAL, "%s.type: none, mem32, mem64 or pref64", w);
			b->type = (uint8_t)k;
		}
		if (fh_get_str(h, it, "state", w, &s) > 0) {
			int k = -1;

			for (int t = 0; s && t < 4; t++)
				if (!strcmp(snames[t], s))
					k = t;
			if (k < 0)
				return fh_fail(h, EINVAL, "%s.state: assigned, below4g, unset or zero", w);
			b->state = (uint8_t)k;
		}
		if (b->type == FH_BAR_NONE)
			b->type = FH_BAR_MEM32;
		if (b->size & (b->size - 1))
			return fh_fail(h, EINVAL, "%s.size: BAR sizes are powers of two", w);
	}
	return h->cause ? -h->err : 0;
}

static int sriov(struct fh_host *h, struct fh_dev *d, const cJSON *obj, const char *where)
{
	struct fh_sriov *sr;
	char w[300];
	uint32_t vf;

	if (!obj)
		return 0;
	snprintf(w, sizeof(w), "%s.sriov", where);
	if (fh_keys(h, obj, w, sriov_keys) < 0)
		return -h->err;
	if (!d->sriov) {
		d->sriov = fh_alloc(sizeof(*d->sriov));
		d->sriov->stride = 1;
		d->sriov->offset = 1;
		d->sriov->autoprobe = 1;
		d->sriov->vf_device = d->device;
		d->sriov->vf_bars[0].type = FH_BAR_PREF64;
		d->sriov->vf_bars[0].size = 1 << 20;
	}
	sr = d->sriov;
	sr->where = fh_strdup(w);
	sr->vf_group_with = -1;
	sr->first_vf = -1;
	fh_get_int(h, obj, "total", w, 0, 65535, &sr->total);
	fh_get_int(h, obj, "num", w, 0, 65535, &sr->num);
	fh_get_int(h, obj, "offset", w, 0, 65535, &sr->offset);
	fh_get_int(h, obj, "stride", w, 0, 255, &sr->stride);
	if (fh_get_hex(h, obj, "vf_device", w, 0xffff, &vf) > 0)
		sr->vf_device = (uint16_t)vf;
	{
		const char *s = NULL;

		if (fh_get_str(h, obj, "vf_driver", w, &s) > 0) {
			free(sr->vf_driver);
			sr->vf_driver = fh_strdup(s);
		}
	}
	sr->vf_props = fh_get(obj, "vf_props");
	sr->vf_each = fh_get(obj, "vf");
	if (sr->num > sr->total)
		return fh_fail(h, EINVAL, "%s.num: more than total", w);
	sr->ari_hierarchy = d->ari;
	return h->cause ? -h->err : 0;
}

/* A GPU model gives an explicit device the IDs and BARs of its PF. */
static void gpu_model(struct fh_dev *d, const struct fh_model *m)
{
	d->vendor = d->ss_vendor = 0x1002;
	d->device = d->ss_device = m->pf;
	d->class_code = m->pf_class;
	d->revision = m->revision;
	d->link_speed = d->max_speed = m->gen;
	d->link_width = d->max_width = m->width;
	d->flr = d->msix = d->ari = true;
	d->model = m;
	d->bars[0].type = FH_BAR_PREF64;
	d->bars[0].size = m->bar0;
	d->bars[2].type = FH_BAR_PREF64;
	d->bars[2].size = 2 << 20;
	d->bars[5].type = FH_BAR_MEM32;
	d->bars[5].size = 512 << 10;
	if (m->vf) {
		d->gpuiov = true;
		d->sriov = fh_alloc(sizeof(*d->sriov));
		d->sriov->total = m->total_vfs;
		d->sriov->offset = 16;
		d->sriov->stride = 1;
		d->sriov->autoprobe = 1;
		d->sriov->vf_device = m->vf;
		d->sriov->vf_class = m->vf_class;
		d->sriov->ari_hierarchy = true;
		d->sriov->vf_bars[0].type = FH_BAR_PREF64;
		d->sriov->vf_bars[0].size = m->vf_bar0;
		d->sriov->vf_bars[2].type = FH_BAR_PREF64;
		d->sriov->vf_bars[2].size = 2 << 20;
		d->sriov->vf_bars[5].type = FH_BAR_MEM32;
		d->sriov->vf_bars[5].size = 512 << 10;
	}
}

/* The root complex of a root bus, created when the scenario names a new
 * one. */
static int root_of(struct fh_host *h, int domain, int bus)
{
	for (int r = 0; r < h->n_rcs; r++)
		if (h->rcs[r].domain == domain && h->rcs[r].bus == bus)
			return r;
	return fh_rc_new(h, domain, bus, bus, 0);
}

static int device_entry(struct fh_host *h, const cJSON *e, const char *where)
{
	const char *bdf = NULL, *parent_bdf = NULL, *kind = NULL, *model = NULL, *type = NULL;
	const char *hive = NULL;
	int domain, bus, devfn, parent = -1, rc, i;
	struct fh_dev *d;
	const cJSON *it;
	char w[300];

	cJSON_ArrayForEach(it, e) {
		bool ok = it->string[0] == '_';

		for (const char *const *k = dev_keys; !ok && *k; k++)
			ok = !strcmp(*k, it->string);
		for (const char *const *k = fh_prop_keys; !ok && *k; k++)
			ok = !strcmp(*k, it->string);
		if (!ok)
			return fh_fail(h, EINVAL, "%s.%s: unknown field", where, it->string);
	}
	snprintf(w, sizeof(w), "%s.bdf", where);
	if (fh_get_str(h, e, "bdf", where, &bdf) <= 0 || fh_parse_bdf(bdf, &domain, &bus, &devfn) < 0)
		return fh_fail(h, EINVAL, "%s: expected a BDF such as \"0000:c1:00.0\"", w);
	if (fh_get_str(h, e, "parent", where, &parent_bdf) > 0 && parent_bdf) {
		snprintf(w, sizeof(w), "%s.parent", where);
		parent = fh_resolve_bdf(h, parent_bdf, w);
		if (parent < 0)
			return parent;
		if (h->devs[parent].domain != domain)
			return fh_fail(h, EINVAL, "%s: parent in another PCI domain", w);
		rc = h->devs[parent].rc;
	} else {
		rc = root_of(h, domain, bus);
		if (rc < 0)
			return rc;
	}
	i = fh_dev_new(h, parent, rc, bus, devfn);
	if (i < 0)
		return i;
	d = &h->devs[i];
	d->msix = true;
	fh_get_str(h, e, "kind", where, &kind);
	fh_get_str(h, e, "model", where, &model);
	fh_get_str(h, e, "type", where, &type);
	fh_get_str(h, e, "hive", where, &hive);
	if (kind) {
		const struct fh_kind *k = fh_kind_find(kind);

		if (!k)
			return fh_fail(h, EINVAL, "%s.kind: unknown kind '%s'", where, kind);
		fh_set_kind(d, k);
	}
	if (model) {
		const struct fh_model *m = fh_model_find(model);

		if (!m)
			return fh_fail(h, EINVAL, "%s.model: unknown model '%s'", where, model);
		gpu_model(d, m);
	}
	if (type && set_type(h, d, type, where) < 0)
		return -h->err;
	fh_get_int(h, e, "secondary", where, 0, 255, &d->secondary);
	fh_get_int(h, e, "subordinate", where, 0, 255, &d->subordinate);
	if (h->cause || fh_apply_props(h, d, e, where, true) < 0 ||
	    bars(h, d, fh_get(e, "bars"), where) < 0 || sriov(h, d, fh_get(e, "sriov"), where) < 0)
		return -h->err;
	if (d->sriov && !d->sriov->where) {
		d->sriov->where = fh_strdup(where);
		d->sriov->vf_group_with = -1;
	}
	if (d->bridge && d->subordinate < d->secondary)
		return fh_fail(h, EINVAL, "%s: a bridge needs secondary <= subordinate", where);
	if (hive && fh_hive_add(h, hive, i) < 0)
		return -h->err;
	return 0;
}

int fh_devices(struct fh_host *h, const cJSON *list)
{
	return fh_each(h, list, "devices", device_entry);
}
