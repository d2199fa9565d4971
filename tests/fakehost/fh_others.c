/* "others": non-GPU endpoints (NICs, NVMe, audio functions sharing a GPU's
 * group, ...) and {"filler": N}, N more functions of many kinds and
 * drivers for large hosts. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"
#include "pciconfig.h"

struct card {
	const struct fh_kind *kind;
	int functions;
	bool shared_group;
	bool unbound;
	int vfs;
	const char *vf_driver;
	const cJSON *props;
	const char *where;
};

/* Where a card goes: its bus and first function, and the group it joins. */
struct slot {
	int parent, rc, bus, devfn;
	int group_with;
};

static const char *const other_keys[] = {
	"kind", "count", "functions", "numa", "gpu", "gpu_slot", "shared_group", "vfs",
	"vf_driver", NULL,
};

static int add_sriov(struct fh_host *h, int i, const struct card *c, int fn)
{
	struct fh_dev *d = &h->devs[i];
	struct fh_sriov *sr;

	if (c->vfs > c->kind->total_vfs)
		return fh_fail(h, EINVAL, "%s.vfs: %s functions have %d VFs at most", c->where,
			       c->kind->name, c->kind->total_vfs);
	sr = d->sriov = fh_alloc(sizeof(*sr));
	sr->total = c->kind->total_vfs;
	sr->num = c->vfs;
	/* VFs of all functions of the card follow each other after them. */
	sr->offset = c->functions - fn + fn * sr->total;
	sr->stride = 1;
	sr->vf_device = c->kind->vf_device;
	sr->autoprobe = 1;
	sr->vf_driver = fh_strdup(c->vf_driver);
	sr->where = fh_strdup(c->where);
	sr->vf_group_with = -1;
	sr->first_vf = -1;
	sr->vf_bars[0].type = FH_BAR_PREF64;
	sr->vf_bars[0].size = 1 << 20;
	sr->ari_hierarchy = true;
	d->ari = true;
	return 0;
}

static int place_card(struct fh_host *h, const struct card *c, const struct slot *s)
{
	int first = -1;

	for (int f = 0; f < c->functions; f++) {
		int i = fh_dev_new(h, s->parent, s->rc, s->bus, s->devfn + f);
		struct fh_dev *d;

		if (i < 0)
			return i;
		d = &h->devs[i];
		fh_set_kind(d, c->kind);
		if (c->unbound) {
			free(d->driver);
			d->driver = NULL;
		}
		d->multifunction = c->functions > 1 || s->devfn > 0;
		if (first < 0)
			first = i;
		if (s->group_with >= 0)
			d->group_with = s->group_with;
		else if (c->shared_group && i != first)
			d->group_with = first;
		if (c->kind->total_vfs > 0 && add_sriov(h, i, c, f) < 0)
			return -h->err;
		if (c->props && fh_apply_props(h, &h->devs[i], c->props, c->where, true) < 0)
			return -h->err;
	}
	/* A downstream port trains its link to the card's. */
	if (s->parent >= 0 && s->devfn == 0 && h->devs[s->parent].bridge && first >= 0) {
		h->devs[s->parent].link_speed = h->devs[first].max_speed;
		h->devs[s->parent].link_width = h->devs[first].max_width;
	}
	return first;
}

/* A card on a root port of its own. */
static int own_port(struct fh_host *h, int socket, struct slot *s)
{
	int rc = fh_rc_pick(h, socket, 1), b, rp;

	if (rc < 0)
		return rc;
	b = fh_rc_buses(h, rc, 1);
	if (b < 0)
		return b;
	rp = fh_root_port(h, rc, b, b);
	if (rp < 0)
		return rp;
	s->parent = rp;
	s->rc = rc;
	s->bus = b;
	s->devfn = 0;
	s->group_with = -1;
	return 0;
}

static int gpu_index(struct fh_host *h, const cJSON *e, const char *key, const char *where,
                     int *out)
{
	int g = -1;

	if (fh_get_int(h, e, key, where, 0, 1 << 16, &g) <= 0)
		return h->cause ? -h->err : 0;
	if (g >= h->n_gpus)
		return fh_fail(h, EINVAL, "%s.%s: no GPU %d (there are %d)", where, key, g, h->n_gpus);
	*out = g;
	return 1;
}

static int other_entry(struct fh_host *h, const cJSON *e, const char *where)
{
	const char *kind = NULL;
	struct card c = { 0 };
	int count = 1, numa = -1, gpu = -1, gpu_slot = -1;
	const cJSON *it;

	cJSON_ArrayForEach(it, e) {
		bool ok = it->string[0] == '_';

		for (const char *const *k = other_keys; !ok && *k; k++)
			ok = !strcmp(*k, it->string);
		for (const char *const *k = fh_prop_keys; !ok && *k; k++)
			ok = !strcmp(*k, it->string) && strcmp(*k, "numa") != 0;
		if (!ok)
			return fh_fail(h, EINVAL, "%s.%s: unknown field", where, it->string);
	}
	if (fh_get_str(h, e, "kind", where, &kind) <= 0 || !kind)
		return h->cause ? -h->err : fh_fail(h, EINVAL, "%s.kind: missing", where);
	c.kind = fh_kind_find(kind);
	if (!c.kind)
		return fh_fail(h, EINVAL, "%s.kind: unknown kind '%s'", where, kind);
	c.functions = c.kind->functions;
	c.where = where;
	fh_get_int(h, e, "count", where, 1, 4096, &count);
	fh_get_int(h, e, "functions", where, 1, 8, &c.functions);
	fh_get_int(h, e, "numa", where, -1, 7, &numa);
	fh_get_int(h, e, "vfs", where, 0, 256, &c.vfs);
	fh_get_str(h, e, "vf_driver", where, &c.vf_driver);
	fh_get_bool(h, e, "shared_group", where, &c.shared_group);
	if (h->cause || gpu_index(h, e, "gpu", where, &gpu) < 0 ||
	    gpu_index(h, e, "gpu_slot", where, &gpu_slot) < 0)
		return -h->err;
	{
		/* The card's own numa is where it is placed, not a property. */
		cJSON *props = cJSON_Duplicate(e, 1);

		for (const char *const *k = other_keys; *k; k++)
			cJSON_DeleteItemFromObjectCaseSensitive(props, *k);
		cJSON_AddItemToArray(h->owned, props);
		c.props = props;
	}
	for (int n = 0; n < count; n++) {
		struct slot s;

		if (gpu >= 0) {
			/* Extra functions of the GPU itself (an HDMI audio function):
			 * no ACS between functions, so they share the GPU's group. */
			int pf = h->gpus[gpu].pf;
			struct fh_dev *p = &h->devs[pf];

			s.parent = p->parent;
			s.rc = p->rc;
			s.bus = p->bus;
			s.devfn = p->devfn + 1 + n * c.functions;
			s.group_with = p->group_with >= 0 ? p->group_with : pf;
			p->multifunction = true;
			if (!p->ari_next_fn)
				p->ari_next_fn = (uint8_t)s.devfn;
		} else if (gpu_slot >= 0) {
			int k = h->gpus[gpu_slot].free_slots[0] >= 0 ? 0 : 1;
			int ds = h->gpus[gpu_slot].free_slots[k];

			if (ds < 0)
				return fh_fail(h, ENOSPC, "%s.gpu_slot: GPU %d's switch has no free slot",
					       where, gpu_slot);
			h->gpus[gpu_slot].free_slots[k] = -1;
			s.parent = ds;
			s.rc = h->devs[ds].rc;
			s.bus = h->devs[ds].secondary;
			s.devfn = 0;
			s.group_with = h->gpus[gpu_slot].merge;
		} else if (own_port(h, numa, &s) < 0) {
			return -h->err;
		}
		if (place_card(h, &c, &s) < 0)
			return -h->err;
	}
	return 0;
}

/* The filler's cards, in turn; "switch" is two NVMe drives behind a PCIe
 * switch.  Every fifth card is left unbound. */
static const struct { const char *kind; int functions; bool shared; } recipe[] = {
	{ "nic", 2, false }, { "nvme", 1, false }, { "nic-intel", 4, true }, { "usb", 1, false },
	{ "nvme", 1, false }, { "sata", 1, false }, { "nic-bcm", 2, false }, { "switch", 0, false },
	{ "raid", 1, false }, { "dma", 1, false }, { "nic-intel", 4, false }, { "accel", 1, false },
};

static int filler_switch(struct fh_host *h, int *left)
{
	int rc = fh_rc_pick(h, -1, 4), b, rp, us, before = h->n_devs;
	struct card c = { fh_kind_find("nvme"), 1, false, false, 0, NULL, NULL, "filler" };

	if (rc < 0 || (b = fh_rc_buses(h, rc, 4)) < 0 || (rp = fh_root_port(h, rc, b, b + 3)) < 0)
		return -h->err;
	us = fh_bridge(h, rp, b, 0, PCICFG_PORT_UPSTREAM, b + 1, b + 3);
	for (int k = 0; us >= 0 && k < 2; k++) {
		int ds = fh_bridge(h, us, b + 1, k << 3, PCICFG_PORT_DOWNSTREAM, b + 2 + k, b + 2 + k);
		struct slot s = { ds, rc, b + 2 + k, 0, -1 };

		if (ds < 0 || place_card(h, &c, &s) < 0)
			return -h->err;
	}
	if (us < 0)
		return us;
	*left -= h->n_devs - before;
	return 0;
}

static int filler(struct fh_host *h, int n)
{
	int left = n, turn = 0;
	int last_card = -1, last_fns = 0;

	while (left > 0) {
		int r = turn % (int)(sizeof(recipe) / sizeof(recipe[0]));
		int before = h->n_devs;
		struct card c = { 0 };
		struct slot s;

		turn++;
		if (!strcmp(recipe[r].kind, "switch")) {
			if (left >= 8 && filler_switch(h, &left) < 0)
				return -h->err;
			continue;
		}
		c.kind = fh_kind_find(recipe[r].kind);
		c.functions = recipe[r].functions;
		c.shared_group = recipe[r].shared;
		c.unbound = turn % 5 == 0;
		c.where = "others.filler";
		/* A new root port costs one function, two with its dummy host
		 * bridge; too few left: extend the last card instead. */
		if (left < 3 && last_card >= 0 && last_fns + left <= 8) {
			struct fh_dev *l = &h->devs[last_card];
			struct slot ext = { l->parent, l->rc, l->bus, l->devfn + last_fns, -1 };

			c.functions = left;
			h->devs[last_card].multifunction = true;
			if (place_card(h, &c, &ext) < 0)
				return -h->err;
			left = 0;
			break;
		}
		if (own_port(h, -1, &s) < 0)
			return -h->err;
		left -= h->n_devs - before;
		if (c.functions > left)
			c.functions = left > 0 ? left : 1;
		before = h->n_devs;
		last_card = place_card(h, &c, &s);
		if (last_card < 0)
			return -h->err;
		last_fns = c.functions;
		left -= h->n_devs - before;
	}
	return 0;
}

/* An entry of "others": {"filler": N} alone, or an endpoint. */
static int others_entry(struct fh_host *h, const cJSON *e, const char *where)
{
	int n = 0;

	if (!fh_get(e, "filler"))
		return other_entry(h, e, where);
	if (cJSON_GetArraySize(e) != 1 || fh_get_int(h, e, "filler", where, 0, 100000, &n) < 0)
		return h->cause ? -h->err : fh_fail(h, EINVAL, "%s: a filler entry has only \"filler\": N", where);
	return filler(h, n) < 0 ? -h->err : 0;
}

int fh_others(struct fh_host *h, const cJSON *list)
{
	return fh_each(h, list, "others", others_entry);
}
