/* BAR placement and the sysfs "resource" file.
 *
 * Addresses are handed out depth first per root complex, largest BAR
 * first, from a 32-bit window (non-prefetchable BARs, ROMs, 64-bit BARs
 * placed below 4 GiB) and a 64-bit prefetchable window above 4 GiB; each
 * bridge's windows then cover what lies below it, as firmware does it. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"

#define WIN_ALIGN (1ull << 20)

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

struct req {
	struct fh_bar *bar;
	uint64_t size, align;
	bool pref;
};

static int take(struct fh_host *h, struct fh_rc *rc, const struct req *r)
{
	uint64_t *cur = r->pref ? &rc->pref : &rc->mem32;
	uint64_t end = r->pref ? rc->pref_end : rc->mem32_end;
	uint64_t at = align_up(*cur, r->align);

	if (at + r->size > end || at + r->size < at)
		return fh_fail(h, ENOSPC, "root complex %04x:%02x: no room for a %llu MiB BAR",
			       (unsigned)rc->domain, (unsigned)rc->bus,
			       (unsigned long long)(r->size >> 20));
	r->bar->start = at;
	*cur = at + r->size;
	return 0;
}

static int cmp_req(const void *a, const void *b)
{
	const struct req *x = a, *y = b;

	return x->align < y->align ? 1 : x->align > y->align ? -1 : 0;
}

static bool wants_space(const struct fh_bar *b)
{
	return b->type != FH_BAR_NONE && b->size &&
	       (b->state == FH_BAR_ASSIGNED || b->state == FH_BAR_LOW);
}

static int endpoint(struct fh_host *h, struct fh_dev *d)
{
	struct req reqs[14];
	int n = 0;

	for (int b = 0; b < 6; b++)
		if (wants_space(&d->bars[b]))
			reqs[n++] = (struct req){ &d->bars[b], d->bars[b].size, d->bars[b].size,
				d->bars[b].type == FH_BAR_PREF64 && d->bars[b].state == FH_BAR_ASSIGNED };
	if (wants_space(&d->rom))
		reqs[n++] = (struct req){ &d->rom, d->rom.size, d->rom.size, false };
	/* An SR-IOV BAR is one window for TotalVFs VFs, aligned to one VF's. */
	for (int b = 0; d->sriov && d->sriov->total > 0 && b < 6; b++) {
		struct fh_bar *v = &d->sriov->vf_bars[b];

		if (wants_space(v))
			reqs[n++] = (struct req){ v, v->size * (uint64_t)d->sriov->total, v->size,
				v->type == FH_BAR_PREF64 && v->state == FH_BAR_ASSIGNED };
	}
	qsort(reqs, (size_t)n, sizeof(reqs[0]), cmp_req);
	for (int i = 0; i < n; i++)
		if (take(h, &h->rcs[d->rc], &reqs[i]) < 0)
			return -h->err;
	return 0;
}

struct span {
	uint64_t lo, hi;   /* hi == 0: empty */
};

static void span_add(struct span *s, uint64_t start, uint64_t size)
{
	if (!start || !size)
		return;
	if (!s->hi || start < s->lo)
		s->lo = start;
	if (start + size - 1 > s->hi)
		s->hi = start + size - 1;
}

static void span_bar(struct span *mem, struct span *pref, const struct fh_bar *b, uint64_t size)
{
	if (wants_space(b))
		span_add(b->type == FH_BAR_PREF64 && b->state == FH_BAR_ASSIGNED ? pref : mem,
			 b->start, size);
}

/* A bridge window is what its children use, in whole MiB. */
static void windows(struct fh_host *h, struct fh_dev *d)
{
	struct span mem = { 0, 0 }, pref = { 0, 0 };

	for (int c = d->first_child; c >= 0; c = h->devs[c].next_sibling) {
		const struct fh_dev *k = &h->devs[c];

		if (k->physfn >= 0)
			continue;
		if (k->bridge) {
			if (k->win_mem[1])
				span_add(&mem, k->win_mem[0], k->win_mem[1] - k->win_mem[0] + 1);
			if (k->win_pref[1])
				span_add(&pref, k->win_pref[0], k->win_pref[1] - k->win_pref[0] + 1);
			continue;
		}
		for (int b = 0; b < 6; b++)
			span_bar(&mem, &pref, &k->bars[b], k->bars[b].size);
		span_bar(&mem, &pref, &k->rom, k->rom.size);
		for (int b = 0; k->sriov && b < 6; b++)
			span_bar(&mem, &pref, &k->sriov->vf_bars[b],
				 k->sriov->vf_bars[b].size * (uint64_t)k->sriov->total);
	}
	if (mem.hi) {
		d->win_mem[0] = mem.lo & ~(WIN_ALIGN - 1);
		d->win_mem[1] = mem.hi | (WIN_ALIGN - 1);
	}
	if (pref.hi) {
		d->win_pref[0] = pref.lo & ~(WIN_ALIGN - 1);
		d->win_pref[1] = pref.hi | (WIN_ALIGN - 1);
	}
}

static int place(struct fh_host *h, int i)
{
	struct fh_dev *d = &h->devs[i];
	struct fh_rc *rc = &h->rcs[d->rc];

	if (d->physfn >= 0)
		return 0;   /* inside its PF's SR-IOV window */
	if (!d->bridge)
		return endpoint(h, d);
	/* Sibling windows must not share a MiB: start and end on one. */
	rc->mem32 = align_up(rc->mem32, WIN_ALIGN);
	rc->pref = align_up(rc->pref, WIN_ALIGN);
	for (int c = d->first_child; c >= 0; c = h->devs[c].next_sibling)
		if (place(h, c) < 0)
			return -h->err;
	rc->mem32 = align_up(rc->mem32, WIN_ALIGN);
	rc->pref = align_up(rc->pref, WIN_ALIGN);
	windows(h, &h->devs[i]);
	return 0;
}

static void vf_bars(struct fh_host *h)
{
	for (int i = 0; i < h->n_devs; i++) {
		struct fh_dev *d = &h->devs[i];
		const struct fh_sriov *sr;

		if (d->physfn < 0)
			continue;
		sr = h->devs[d->physfn].sriov;
		for (int b = 0; b < 6; b++) {
			const struct fh_bar *w = &sr->vf_bars[b];

			if (d->bars[b].type == FH_BAR_NONE || d->bars[b].size != w->size)
				continue;
			d->bars[b].state = w->state;
			d->bars[b].start = w->start ? w->start + (uint64_t)d->vf_index * w->size : 0;
		}
	}
}

/* The 32-bit MMIO space (2 GiB to the APIC and flash area) shared out
 * among root complexes by their number of bridges: every bridge window
 * takes at least 1 MiB of it. */
static void split_mem32(struct fh_host *h)
{
	const uint64_t base = 0x80000000ull, end = 0xf8000000ull;
	uint64_t weight = 0, at = base;
	uint64_t *w = fh_alloc((size_t)h->n_rcs * sizeof(*w));

	for (int i = 0; i < h->n_devs; i++)
		w[h->devs[i].rc] += h->devs[i].bridge ? 4 : 1;
	for (int r = 0; r < h->n_rcs; r++)
		weight += ++w[r];
	for (int r = 0; r < h->n_rcs; r++) {
		uint64_t size = ((end - base) * w[r] / weight) & ~(WIN_ALIGN - 1);

		h->rcs[r].mem32 = h->rcs[r].mem32_base = at;
		h->rcs[r].mem32_end = at + size;
		at += size;
	}
	free(w);
}

int fh_assign_bars(struct fh_host *h)
{
	split_mem32(h);
	fh_topo_link(h);
	for (int r = 0; r < h->n_rcs; r++) {
		/* Root bus devices in BDF order: the tree walk's roots. */
		int *roots = fh_alloc((size_t)h->n_devs * sizeof(int));
		int n = 0;

		for (int i = 0; i < h->n_devs; i++)
			if (h->devs[i].rc == r && h->devs[i].parent < 0 && h->devs[i].physfn < 0)
				roots[n++] = i;
		for (int a = 1; a < n; a++)
			for (int b = a; b > 0 && fh_cmp_bdf(&h->devs[roots[b - 1]], &h->devs[roots[b]]) > 0;
			     b--) {
				int t = roots[b];

				roots[b] = roots[b - 1];
				roots[b - 1] = t;
			}
		for (int k = 0; k < n; k++)
			if (place(h, roots[k]) < 0) {
				free(roots);
				return -h->err;
			}
		free(roots);
	}
	vf_bars(h);
	return 0;
}

static uint64_t bar_flags(const struct fh_bar *b)
{
	switch (b->type) {
	case FH_BAR_MEM32:
		return FH_IORES_MEM | FH_IORES_SIZEALIGN;
	case FH_BAR_MEM64:
		return FH_IORES_MEM | FH_IORES_SIZEALIGN | FH_IORES_MEM_64 | 0x4;
	case FH_BAR_PREF64:
		return FH_IORES_MEM | FH_IORES_PREFETCH | FH_IORES_SIZEALIGN | FH_IORES_MEM_64 | 0xc;
	default:
		return 0;
	}
}

static size_t line(char *buf, size_t size, uint64_t start, uint64_t end, uint64_t flags)
{
	int n = snprintf(buf, size, "0x%016llx 0x%016llx 0x%016llx\n", (unsigned long long)start,
			 (unsigned long long)end, (unsigned long long)flags);

	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

static size_t bar_line(char *buf, size_t size, const struct fh_bar *b, uint64_t span,
                       uint64_t flags)
{
	if (b->type == FH_BAR_NONE || !b->size || b->state == FH_BAR_ZERO)
		return line(buf, size, 0, 0, 0);
	if (b->state == FH_BAR_UNSET || !b->start)
		return line(buf, size, 0, span - 1, flags | FH_IORES_UNSET);
	return line(buf, size, b->start, b->start + span - 1, flags);
}

/* drivers/pci/pci-sysfs.c resource_show: BARs 0-5, the ROM, the six
 * SR-IOV BARs, and on bridges the four bridge windows. */
size_t fh_resource_text(const struct fh_host *h, const struct fh_dev *d, char *buf, size_t size)
{
	size_t len = 0;
	struct fh_bar none = { 0 };

	(void)h;
	for (int b = 0; b < 6; b++)
		len += bar_line(buf + len, size - len, &d->bars[b], d->bars[b].size, bar_flags(&d->bars[b]));
	len += bar_line(buf + len, size - len, &d->rom, d->rom.size,
			FH_IORES_MEM | FH_IORES_PREFETCH | FH_IORES_READONLY | FH_IORES_SIZEALIGN);
	for (int b = 0; b < 6; b++) {
		const struct fh_bar *v = d->sriov && d->sriov->total ? &d->sriov->vf_bars[b] : &none;
		uint64_t span = v->size * (uint64_t)(d->sriov ? d->sriov->total : 0);

		len += bar_line(buf + len, size - len, v, span, bar_flags(v));
	}
	if (!d->bridge)
		return len;
	len += line(buf + len, size - len, 0, 0, 0);   /* no I/O window */
	if (d->win_mem[1])
		len += line(buf + len, size - len, d->win_mem[0], d->win_mem[1], FH_IORES_MEM);
	else
		len += line(buf + len, size - len, 0, 0, 0);
	if (d->win_pref[1])
		len += line(buf + len, size - len, d->win_pref[0], d->win_pref[1],
			    FH_IORES_MEM | FH_IORES_PREFETCH | FH_IORES_MEM_64 | 0x1);
	else
		len += line(buf + len, size - len, 0, 0, 0);
	len += line(buf + len, size - len, 0, 0, 0);
	return len;
}
