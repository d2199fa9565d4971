/* The PCI topology: root complexes laid out as on a two-socket EPYC host
 * (one IOMMU per root complex, root ports behind dummy host bridges), the
 * functions' BDFs and directories, SR-IOV VFs and IOMMU group numbers. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"
#include "pciconfig.h"

#define AMD 0x1022

static bool bdfset_add(struct fh_host *h, uint32_t key)
{
	uint32_t k = key + 1, i;

	if (2 * (h->bdfset_n + 1) > h->bdfset_cap) {
		uint32_t *old = h->bdfset;
		int oldcap = h->bdfset_cap;

		h->bdfset_cap = oldcap ? oldcap * 2 : 1024;
		h->bdfset = fh_alloc((size_t)h->bdfset_cap * sizeof(*h->bdfset));
		h->bdfset_n = 0;
		for (int j = 0; j < oldcap; j++)
			if (old[j])
				bdfset_add(h, old[j] - 1);
		free(old);
	}
	for (i = (k * 2654435761u) & (uint32_t)(h->bdfset_cap - 1); h->bdfset[i];
	     i = (i + 1) & (uint32_t)(h->bdfset_cap - 1))
		if (h->bdfset[i] == k)
			return false;
	h->bdfset[i] = k;
	h->bdfset_n++;
	return true;
}

int fh_dev_new(struct fh_host *h, int parent, int rc, int bus, int devfn)
{
	struct fh_dev *d;
	int domain = h->rcs[rc].domain;
	int i = h->n_devs;

	if (bus < 0 || bus > 255 || devfn < 0 || devfn > 255)
		return fh_fail(h, EINVAL, "bus %d devfn %d out of range", bus, devfn);
	if (!bdfset_add(h, (uint32_t)domain << 16 | (uint32_t)bus << 8 | (uint32_t)devfn)) {
		char bdf[FH_BDF_LEN];

		fh_format_bdf(bdf, domain, bus, devfn);
		return fh_fail(h, EEXIST, "two functions at %s", bdf);
	}
	h->devs = fh_grow(h->devs, &h->cap_devs, i + 1, sizeof(*h->devs));
	h->n_devs++;
	d = &h->devs[i];
	memset(d, 0, sizeof(*d));
	fh_format_bdf(d->bdf, domain, bus, devfn);
	d->domain = domain;
	d->bus = bus;
	d->devfn = devfn;
	d->parent = parent;
	d->rc = rc;
	if (parent >= 0)
		d->path = fh_printf("%s/%s", h->devs[parent].path, d->bdf);
	else
		d->path = fh_printf("sys/devices/pci%04x:%02x/%s", (unsigned)domain,
				    (unsigned)h->rcs[rc].bus, d->bdf);
	d->pcie = PCICFG_PORT_ENDPOINT;
	d->group = FH_AUTO;
	d->group_with = -1;
	d->numa = FH_AUTO;
	d->enable = FH_AUTO;
	d->boot_vga = -1;
	d->pm = true;
	d->rebar_bar = -1;
	d->physfn = -1;
	d->hive = -1;
	d->card = -1;
	d->first_child = d->next_sibling = -1;
	return i;
}

static int platform_fn(struct fh_host *h, int rc, int devfn, uint16_t device, uint32_t cls)
{
	int i = fh_dev_new(h, -1, rc, h->rcs[rc].bus, devfn);

	if (i < 0)
		return i;
	h->devs[i].vendor = h->devs[i].ss_vendor = AMD;
	h->devs[i].device = h->devs[i].ss_device = device;
	h->devs[i].class_code = cls;
	h->devs[i].pcie = -1;
	return i;
}

int fh_rc_new(struct fh_host *h, int domain, int bus, int last_bus, int socket)
{
	int r = h->n_rcs, i;
	struct fh_rc *rc;

	/* Each root complex gets 8 TiB above 4 GiB; the space below is
	 * shared out once the host is complete (fh_assign_bars). */
	if (r >= 30)
		return fh_fail(h, ENOSPC, "more than 30 root complexes: the host is too large");
	h->rcs = fh_grow(h->rcs, &h->cap_rcs, r + 1, sizeof(*h->rcs));
	h->n_rcs++;
	rc = &h->rcs[r];
	rc->domain = domain;
	rc->bus = bus;
	rc->next_bus = bus + 1;
	rc->last_bus = last_bus;
	rc->socket = socket;
	rc->pref = rc->pref_base = (uint64_t)(r + 1) << 43;
	rc->pref_end = rc->pref_base + (1ull << 43);

	/* Root complex and its IOMMU: no IOMMU group, no driver. */
	i = platform_fn(h, r, 0x00, 0x1480, 0x060000);
	if (i >= 0) {
		h->devs[i].group = -1;
		h->devs[i].multifunction = true;
		i = platform_fn(h, r, 0x02, 0x1481, 0x080600);
	}
	if (i < 0)
		return i;
	h->devs[i].group = -1;
	h->devs[i].msix = false;
	rc->iommu = i;
	if (r == 0) {
		/* The FCH: SMBus and LPC bridge, one group between them. */
		int smbus = platform_fn(h, r, 0x14 << 3, 0x790b, 0x0c0500);

		if (smbus < 0)
			return smbus;
		h->devs[smbus].driver = fh_strdup("piix4_smbus");
		h->devs[smbus].multifunction = true;
		h->devs[smbus].revision = 0x61;
		i = platform_fn(h, r, 0x14 << 3 | 3, 0x790e, 0x060100);
		if (i < 0)
			return i;
		h->devs[i].group_with = smbus;
		h->devs[i].revision = 0x51;
	}
	return r;
}

int fh_rc_init(struct fh_host *h, int count)
{
	for (int i = 0; i < count; i++) {
		int domain = i / 8;
		int in_domain = count - domain * 8 < 8 ? count - domain * 8 : 8;
		int spacing = 256 / in_domain;
		int pos = i % 8;
		int last = pos == in_domain - 1 ? 255 : (pos + 1) * spacing - 1;
		int r = fh_rc_new(h, domain, pos * spacing, last, i * h->sockets / count);

		if (r < 0)
			return r;
	}
	h->rcs_initial = count;
	return 0;
}

/* Root ports fit at devices 1-0x17 but 0x14, functions 1-7. */
#define MAX_ROOT_PORTS (22 * 7)

static bool rc_has_buses(const struct fh_rc *rc, int n)
{
	return rc->next_bus + n - 1 <= rc->last_bus && rc->next_port < MAX_ROOT_PORTS;
}

int fh_rc_pick(struct fh_host *h, int socket, int buses)
{
	int slot = socket >= 0 && socket < 8 ? socket + 1 : 0;
	int n = h->rcs_initial;
	int domain = 0;

	for (int tries = 0; tries < n; tries++) {
		int r = h->rr[slot]++ % n;

		if ((slot == 0 || h->rcs[r].socket == socket) && rc_has_buses(&h->rcs[r], buses))
			return r;
	}
	for (int r = 0; r < h->n_rcs; r++)
		if (rc_has_buses(&h->rcs[r], buses))
			return r;
	/* Every root complex is full: large hosts get another PCI domain. */
	for (int r = 0; r < h->n_rcs; r++)
		if (h->rcs[r].domain >= domain)
			domain = h->rcs[r].domain + 1;
	return fh_rc_new(h, domain, 0, 255, socket >= 0 ? socket : 0);
}

int fh_rc_buses(struct fh_host *h, int rc, int n)
{
	struct fh_rc *r = &h->rcs[rc];
	int b = r->next_bus;

	if (!rc_has_buses(r, n))
		return fh_fail(h, ENOSPC, "root complex %04x:%02x has no %d free bus numbers",
			       (unsigned)r->domain, (unsigned)r->bus, n);
	r->next_bus += n;
	return b;
}

int fh_bridge(struct fh_host *h, int parent, int bus, int devfn, int type,
              int secondary, int subordinate)
{
	int rc = parent >= 0 ? h->devs[parent].rc : -1;
	int i;
	struct fh_dev *d;

	if (rc < 0)
		return fh_fail(h, EINVAL, "a bridge needs a parent");
	i = fh_dev_new(h, parent, rc, bus, devfn);
	if (i < 0)
		return i;
	d = &h->devs[i];
	d->bridge = true;
	d->class_code = 0x060400;
	d->pcie = type;
	d->secondary = secondary;
	d->subordinate = subordinate;
	d->driver = fh_strdup("pcieport");
	d->link_speed = d->max_speed = 5;
	d->link_width = d->max_width = 16;
	if (type == PCICFG_PORT_ROOT || type == PCICFG_PORT_DOWNSTREAM) {
		d->acs = 1;
		d->ari_fwd = 2;
	}
	/* A Broadcom PEX89000 switch, as on many Instinct baseboards. */
	d->vendor = d->ss_vendor = 0x1000;
	d->device = d->ss_device = 0xc030;
	d->revision = 0xb0;
	return i;
}

/* Root ports sit at functions 1-7 of devices 1, 2, ... of the root bus;
 * function 0 of each is a dummy host bridge, as on EPYC. */
int fh_root_port(struct fh_host *h, int rc, int secondary, int subordinate)
{
	struct fh_rc *r = &h->rcs[rc];
	int k = r->next_port++;
	int dev = 1 + k / 7, fn = 1 + k % 7;
	int i;

	if (dev >= 0x14)
		dev++;   /* device 0x14 is the FCH on the first root complex */
	if (dev >= 0x18)
		return fh_fail(h, ENOSPC, "root complex %04x:%02x has no free root port",
			       (unsigned)r->domain, (unsigned)r->bus);
	if (fn == 1) {
		i = platform_fn(h, rc, dev << 3, 0x1482, 0x060000);
		if (i < 0)
			return i;
		h->devs[i].multifunction = true;
	}
	/* fh_bridge wants a parent; a root port has the root bus instead. */
	i = fh_dev_new(h, -1, rc, r->bus, dev << 3 | fn);
	if (i < 0)
		return i;
	{
		struct fh_dev *d = &h->devs[i];

		d->bridge = true;
		d->class_code = 0x060400;
		d->pcie = PCICFG_PORT_ROOT;
		d->secondary = secondary;
		d->subordinate = subordinate;
		d->driver = fh_strdup("pcieport");
		d->link_speed = d->max_speed = 5;
		d->link_width = d->max_width = 16;
		d->acs = 1;
		d->ari_fwd = 2;
		d->vendor = d->ss_vendor = AMD;
		d->device = d->ss_device = 0x1483;
	}
	return i;
}

void fh_set_kind(struct fh_dev *d, const struct fh_kind *k)
{
	d->vendor = k->vendor;
	d->device = k->device;
	d->ss_vendor = k->ss_vendor;
	d->ss_device = k->ss_device;
	d->class_code = k->class_code;
	d->revision = k->revision;
	free(d->driver);
	d->driver = fh_strdup(k->driver);
	d->pcie = k->pcie ? PCICFG_PORT_ENDPOINT : -1;
	d->link_speed = d->max_speed = k->gen;
	d->link_width = d->max_width = k->width;
	d->flr = k->pcie;
	d->msix = k->pcie;
	d->bars[0].type = k->bar_type;
	d->bars[0].size = k->bar_size;
	if ((k->class_code >> 8) == 0x0300)
		d->boot_vga = 1;
}

static int create_vf(struct fh_host *h, int pf, int n)
{
	struct fh_dev *p = &h->devs[pf];
	struct fh_sriov *sr = p->sriov;
	int rid = (p->bus << 8 | p->devfn) + sr->offset + n * sr->stride;
	int bus = rid >> 8, parent = p->parent, rc = p->rc, i;
	struct fh_dev *d;
	char key[16], where[256];
	const cJSON *each;

	if (parent >= 0 && (bus > h->devs[parent].subordinate || bus < h->devs[parent].secondary))
		return fh_fail(h, ERANGE, "%s: VF %d would be on bus %02x, outside %s's buses "
			       "%02x-%02x (the kernel refuses to enable it; set its vfs to %d)",
			       sr->where, n, (unsigned)bus, h->devs[parent].bdf,
			       (unsigned)h->devs[parent].secondary,
			       (unsigned)h->devs[parent].subordinate, n);
	i = fh_dev_new(h, parent, rc, bus, rid & 0xff);
	if (i < 0)
		return i;
	p = &h->devs[pf];
	sr = p->sriov;
	d = &h->devs[i];
	d->vendor = p->vendor;
	d->device = sr->vf_device;
	d->ss_vendor = p->ss_vendor;
	d->ss_device = sr->vf_device;
	d->class_code = sr->vf_class ? sr->vf_class : p->class_code;
	d->revision = p->revision;
	d->driver = fh_strdup(sr->vf_driver);
	d->flr = true;
	d->ari = p->ari;
	d->msix = true;
	d->pm = false;
	d->numa = p->numa;
	d->physfn = pf;
	d->vf_index = n;
	d->model = p->model;
	d->group_with = sr->vf_group_with;
	d->reset_method = fh_strdup("flr");
	for (int b = 0; b < 6; b++) {
		d->bars[b].type = sr->vf_bars[b].type;
		d->bars[b].size = sr->vf_bars[b].size;
		d->bars[b].state = sr->vf_bars[b].state;
	}
	if (n == 0)
		sr->first_vf = i;
	if (sr->vf_props) {
		snprintf(where, sizeof(where), "%s.vf_props", sr->where);
		if (fh_apply_props(h, &h->devs[i], sr->vf_props, where, false) < 0)
			return -h->err;
	}
	snprintf(key, sizeof(key), "%d", n);
	each = fh_get(sr->vf_each, key);
	if (each) {
		snprintf(where, sizeof(where), "%s.vf.%d", sr->where, n);
		if (fh_apply_props(h, &h->devs[i], each, where, false) < 0)
			return -h->err;
	}
	return i;
}

int fh_create_vfs(struct fh_host *h)
{
	int n = h->n_devs;

	for (int i = 0; i < n; i++) {
		struct fh_sriov *sr = h->devs[i].sriov;
		const cJSON *it;

		if (!sr)
			continue;
		sr->first_vf = -1;
		cJSON_ArrayForEach(it, sr->vf_each) {
			char *end;
			long k = strtol(it->string, &end, 10);

			if (*end || k < 0 || k >= sr->num)
				return fh_fail(h, EINVAL, "%s.vf.%s: no such VF (%d enabled)", sr->where,
					       it->string, sr->num);
		}
		for (int v = 0; v < sr->num; v++)
			if (create_vf(h, i, v) < 0)
				return -h->err;
	}
	return 0;
}

int fh_cmp_bdf(const struct fh_dev *a, const struct fh_dev *b)
{
	if (a->domain != b->domain)
		return a->domain - b->domain;
	if (a->bus != b->bus)
		return a->bus - b->bus;
	return a->devfn - b->devfn;
}

static const struct fh_host *sort_host;

static int cmp_index(const void *x, const void *y)
{
	const struct fh_dev *a = &sort_host->devs[*(const int *)x];
	const struct fh_dev *b = &sort_host->devs[*(const int *)y];

	return fh_cmp_bdf(a, b);
}

/* Device indexes in BDF order, VFs last in creation order: the order in
 * which the kernel meets them (VFs appear when SR-IOV is enabled later). */
int *fh_probe_order(const struct fh_host *h, int *n_out)
{
	int *order = fh_alloc((size_t)h->n_devs * sizeof(int));
	int n = 0;

	for (int i = 0; i < h->n_devs; i++)
		if (h->devs[i].physfn < 0)
			order[n++] = i;
	sort_host = h;
	qsort(order, (size_t)n, sizeof(int), cmp_index);
	for (int i = 0; i < h->n_devs; i++)
		if (h->devs[i].physfn >= 0)
			order[n++] = i;
	*n_out = n;
	return order;
}

int fh_number_groups(struct fh_host *h)
{
	int n, next = 0;
	int *order;
	unsigned char *used;
	int max_explicit = -1;

	if (!h->iommu) {
		for (int i = 0; i < h->n_devs; i++)
			h->devs[i].group = -1;
		return 0;
	}
	for (int i = 0; i < h->n_devs; i++)
		if (h->devs[i].group > max_explicit)
			max_explicit = h->devs[i].group;
	used = fh_alloc((size_t)max_explicit + 2);
	for (int i = 0; i < h->n_devs; i++)
		if (h->devs[i].group >= 0)
			used[h->devs[i].group] = 1;
	order = fh_probe_order(h, &n);
	for (int k = 0; k < n; k++) {
		struct fh_dev *d = &h->devs[order[k]];

		if (d->group != FH_AUTO || d->group_with >= 0)
			continue;
		while (next <= max_explicit && used[next])
			next++;
		d->group = next++;
	}
	for (int i = 0; i < h->n_devs; i++) {
		int j = i, hops = 0;

		if (h->devs[i].group_with < 0 || h->devs[i].group != FH_AUTO)
			continue;
		while (h->devs[j].group_with >= 0 && hops++ < h->n_devs)
			j = h->devs[j].group_with;
		if (h->devs[j].group_with >= 0)
			return fh_fail(h, ELOOP, "%s: group_with goes round in a circle", h->devs[i].bdf);
		h->devs[i].group = h->devs[j].group;
	}
	free(order);
	free(used);
	return 0;
}

void fh_topo_link(struct fh_host *h)
{
	int n;
	int *order = fh_probe_order(h, &n);
	int *tail = fh_alloc((size_t)h->n_devs * sizeof(int));

	sort_host = h;
	qsort(order, (size_t)n, sizeof(int), cmp_index);
	for (int i = 0; i < h->n_devs; i++) {
		h->devs[i].first_child = h->devs[i].next_sibling = -1;
		tail[i] = -1;
	}
	for (int k = 0; k < n; k++) {
		int i = order[k], p = h->devs[i].parent;

		if (p < 0)
			continue;
		if (tail[p] < 0)
			h->devs[p].first_child = i;
		else
			h->devs[tail[p]].next_sibling = i;
		tail[p] = i;
	}
	free(tail);
	free(order);
}
