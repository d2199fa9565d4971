#include "config.h"

#include <string.h>

#include "pciconfig.h"

/* Fixed offsets for the standard capabilities, as many real devices use
 * them; only the capabilities present are chained. */
#define OFF_PM 0x50
#define OFF_EXP 0x64
#define OFF_MSI 0xa0
#define OFF_MSIX 0xc0
#define OFF_SSVID 0xc8

#define EXP_SIZE 0x3c

struct img {
	uint8_t b[PCICFG_SIZE_EXT];
};

static void put8(struct img *m, unsigned off, uint8_t v)
{
	if (off < sizeof(m->b))
		m->b[off] = v;
}

static void put16(struct img *m, unsigned off, uint16_t v)
{
	put8(m, off, (uint8_t)v);
	put8(m, off + 1, (uint8_t)(v >> 8));
}

static void put32(struct img *m, unsigned off, uint32_t v)
{
	put16(m, off, (uint16_t)v);
	put16(m, off + 2, (uint16_t)(v >> 16));
}

/* Writes BAR slots starting at base; a 64-bit BAR takes two slots. */
static void put_bars(struct img *m, unsigned base, const struct pcicfg_bar *bars, int n)
{
	for (int i = 0; i < n; i++) {
		const struct pcicfg_bar *b = &bars[i];
		unsigned off = base + 4u * (unsigned)i;
		uint32_t lo;

		switch (b->kind) {
		case PCICFG_BAR_IO:
			put32(m, off, (uint32_t)(b->addr & ~3ull) | 1u);
			break;
		case PCICFG_BAR_MEM32:
			lo = (uint32_t)(b->addr & ~0xfull) | (b->prefetch ? 8u : 0u);
			put32(m, off, lo);
			break;
		case PCICFG_BAR_MEM64:
			lo = (uint32_t)(b->addr & 0xfffffff0ull) | 4u | (b->prefetch ? 8u : 0u);
			put32(m, off, lo);
			if (i + 1 < n)
				put32(m, off + 4, (uint32_t)(b->addr >> 32));
			i++;
			break;
		default:
			break;
		}
	}
}

static void put_type1(struct img *m, const struct pcicfg_desc *d)
{
	put_bars(m, 0x10, d->bars, 2);
	put8(m, 0x18, d->primary_bus);
	put8(m, 0x19, d->secondary_bus);
	put8(m, 0x1a, d->subordinate_bus);
	/* No I/O window: base above limit closes it. */
	put8(m, 0x1c, 0xf0);
	put8(m, 0x1d, 0x00);
	if (d->mem_base <= d->mem_limit && d->mem_limit) {
		put16(m, 0x20, (uint16_t)((d->mem_base >> 16) & 0xfff0));
		put16(m, 0x22, (uint16_t)((d->mem_limit >> 16) & 0xfff0));
	} else {
		put16(m, 0x20, 0xfff0);
		put16(m, 0x22, 0x0000);
	}
	if (d->pref_base <= d->pref_limit && d->pref_limit) {
		put16(m, 0x24, (uint16_t)(((d->pref_base >> 16) & 0xfff0) | 1));
		put16(m, 0x26, (uint16_t)(((d->pref_limit >> 16) & 0xfff0) | 1));
		put32(m, 0x28, (uint32_t)(d->pref_base >> 32));
		put32(m, 0x2c, (uint32_t)(d->pref_limit >> 32));
	} else {
		put16(m, 0x24, 0xfff1);
		put16(m, 0x26, 0x0001);
	}
	put32(m, 0x38, d->rom);
	put16(m, 0x3e, 0x0002);   /* SERR# enable */
}

static void put_type0(struct img *m, const struct pcicfg_desc *d)
{
	put_bars(m, 0x10, d->bars, 6);
	put16(m, 0x2c, d->subsys_vendor);
	put16(m, 0x2e, d->subsys_device);
	put32(m, 0x30, d->rom);
}

static bool is_port(uint8_t t)
{
	return t == PCICFG_PORT_ROOT || t == PCICFG_PORT_UPSTREAM ||
	       t == PCICFG_PORT_DOWNSTREAM;
}

static uint32_t speeds_vector(uint8_t max_speed)
{
	return max_speed ? (((1u << max_speed) - 1u) << 1) : 0;
}

static void put_exp(struct img *m, unsigned c, const struct pcicfg_desc *d)
{
	bool port = is_port(d->port_type);
	bool slot = d->port_type == PCICFG_PORT_ROOT || d->port_type == PCICFG_PORT_DOWNSTREAM;
	uint16_t flags = 2 | (uint16_t)((d->port_type & 0xf) << 4) | (slot ? 0x100 : 0);
	uint32_t devcap = 0x2 | 0x20 | 0x8000;   /* MPS 512, extended tags, role-based errors */
	uint32_t lnkcap, lnksta, devcap2;

	if (d->flr)
		devcap |= PCICFG_EXP_DEVCAP_FLR;
	put16(m, c + PCICFG_EXP_FLAGS, flags);
	put32(m, c + PCICFG_EXP_DEVCAP, devcap);
	put16(m, c + 0x08, 0x2930);   /* MRRS 512, MPS 256, ext tags, no snoop, RO */
	lnkcap = (uint32_t)(d->max_link_speed & 0xf) | ((uint32_t)(d->max_link_width & 0x3f) << 4);
	if (d->max_link_speed) {
		lnkcap |= 0xc00;   /* ASPM L0s/L1 */
		if (port)
			lnkcap |= 1u << 20;   /* DLL link active reporting */
	}
	put32(m, c + PCICFG_EXP_LNKCAP, lnkcap);
	put16(m, c + 0x10, d->link_speed ? 0x0040 : 0);   /* common clock */
	lnksta = (uint32_t)(d->link_speed & 0xf) | ((uint32_t)(d->link_width & 0x3f) << 4);
	if (d->link_speed) {
		lnksta |= 1u << 12;
		if (port)
			lnksta |= 1u << 13;
	}
	put16(m, c + PCICFG_EXP_LNKSTA, (uint16_t)lnksta);
	if (slot)
		put32(m, c + 0x14, 0x00080000u | 0x60);   /* slot 1, power limit */
	devcap2 = 0x1f | 0x800;   /* completion timeout ranges + disable, LTR */
	if (d->ari_fwd_supported)
		devcap2 |= PCICFG_EXP_DEVCAP2_ARI;
	put32(m, c + PCICFG_EXP_DEVCAP2, devcap2);
	put16(m, c + PCICFG_EXP_DEVCTL2, d->ari_fwd_enabled ? PCICFG_EXP_DEVCTL2_ARI : 0);
	put32(m, c + 0x2c, speeds_vector(d->max_link_speed));
	put16(m, c + 0x30, d->max_link_speed);
}

/* Links the standard capabilities present, in offset order. */
static void put_std_caps(struct img *m, const struct pcicfg_desc *d)
{
	unsigned offs[5];
	uint8_t ids[5];
	int n = 0;

	if (d->pm) {
		offs[n] = OFF_PM;
		ids[n++] = PCICFG_CAP_PM;
	}
	if (d->pcie) {
		offs[n] = OFF_EXP;
		ids[n++] = PCICFG_CAP_EXP;
	}
	if (d->msi) {
		offs[n] = OFF_MSI;
		ids[n++] = PCICFG_CAP_MSI;
	}
	if (d->msix) {
		offs[n] = OFF_MSIX;
		ids[n++] = PCICFG_CAP_MSIX;
	}
	if (d->header_type == 1) {
		offs[n] = OFF_SSVID;
		ids[n++] = PCICFG_CAP_SSVID;
	}
	if (n == 0)
		return;
	put16(m, 0x06, (uint16_t)(m->b[0x06] | 0x10));   /* capability list */
	put8(m, 0x34, (uint8_t)offs[0]);
	for (int i = 0; i < n; i++) {
		unsigned c = offs[i];

		put8(m, c, ids[i]);
		put8(m, c + 1, (uint8_t)(i + 1 < n ? offs[i + 1] : 0));
		switch (ids[i]) {
		case PCICFG_CAP_PM:
			put16(m, c + 2, 0x0003);   /* version 3 */
			put16(m, c + 4, 0x0008);   /* D0, no soft reset */
			break;
		case PCICFG_CAP_EXP:
			put_exp(m, c, d);
			break;
		case PCICFG_CAP_MSI:
			put16(m, c + 2, 0x0080);   /* 64-bit address */
			break;
		case PCICFG_CAP_MSIX: {
			uint16_t entries = d->msix_entries ? d->msix_entries : 1;

			put16(m, c + 2, (uint16_t)((entries - 1) & 0x7ff));
			put32(m, c + 4, 0x00000000);   /* table in BAR 0 at 0 */
			put32(m, c + 8, 0x00001000);   /* PBA in BAR 0 at 4 KiB */
			break;
		}
		case PCICFG_CAP_SSVID:
			put16(m, c + 4, d->subsys_vendor);
			put16(m, c + 6, d->subsys_device);
			break;
		default:
			break;
		}
	}
}

/* Extended capabilities are appended from 0x100; each header's next
 * pointer is patched once the following one is placed. */
struct ext_chain {
	struct img *m;
	unsigned cur;    /* where the next capability goes */
	unsigned last;   /* header of the previous one, 0 = none yet */
};

static unsigned ext_add(struct ext_chain *ch, uint16_t id, uint8_t ver, unsigned size)
{
	unsigned at = ch->cur;

	if (ch->last) {
		uint32_t h = pcicfg_get(ch->m->b, sizeof(ch->m->b), ch->last, 32);

		put32(ch->m, ch->last, (h & 0x000fffffu) | ((uint32_t)at << 20));
	}
	put32(ch->m, at, (uint32_t)id | ((uint32_t)ver << 16));
	ch->last = at;
	ch->cur = (at + size + 3u) & ~3u;
	return at;
}

static void put_sriov(struct img *m, unsigned c, const struct pcicfg_sriov *s)
{
	put32(m, c + PCICFG_SRIOV_CAPS, s->caps);
	put16(m, c + PCICFG_SRIOV_CTRL, s->ctrl);
	put16(m, c + PCICFG_SRIOV_INITIAL, s->initial_vfs);
	put16(m, c + PCICFG_SRIOV_TOTAL, s->total_vfs);
	put16(m, c + PCICFG_SRIOV_NUM, s->num_vfs);
	put16(m, c + PCICFG_SRIOV_OFFSET, s->offset);
	put16(m, c + PCICFG_SRIOV_STRIDE, s->stride);
	put16(m, c + PCICFG_SRIOV_VF_DID, s->vf_device);
	put32(m, c + PCICFG_SRIOV_SUP_PGSIZE, s->supported_pages);
	put32(m, c + PCICFG_SRIOV_SYS_PGSIZE, s->system_page);
	put_bars(m, c + PCICFG_SRIOV_BAR, s->vf_bars, 6);
}

static void put_ext_caps(struct img *m, const struct pcicfg_desc *d)
{
	struct ext_chain ch = { m, 0x100, 0 };
	unsigned c;

	if (d->vsec) {
		c = ext_add(&ch, PCICFG_ECAP_VSEC, 1, 0x40);
		put32(m, c + 4, (uint32_t)d->vsec_id | ((uint32_t)(d->vsec_rev & 0xf) << 16) |
			       (0x40u << 20));
	}
	if (d->ari) {
		c = ext_add(&ch, PCICFG_ECAP_ARI, 1, 8);
		put16(m, c + 4, (uint16_t)((uint16_t)d->ari_next_fn << 8));
	}
	if (d->sriov) {
		c = ext_add(&ch, PCICFG_ECAP_SRIOV, 1, 0x40);
		put_sriov(m, c, &d->sr);
	}
	if (d->acs) {
		c = ext_add(&ch, PCICFG_ECAP_ACS, 1, 8);
		put16(m, c + 4, d->acs_cap);
		put16(m, c + 6, d->acs_ctrl);
	}
	if (d->n_rebar > 0) {
		int n = d->n_rebar > 6 ? 6 : d->n_rebar;

		c = ext_add(&ch, PCICFG_ECAP_REBAR, 1, 4 + 8u * (unsigned)n);
		for (int i = 0; i < n; i++) {
			const struct pcicfg_rebar *r = &d->rebar[i];
			uint32_t ctrl = (uint32_t)(r->bar & 7) | ((uint32_t)(r->current & 0x3f) << 8);

			if (i == 0)
				ctrl |= (uint32_t)n << 5;
			put32(m, c + 4 + 8u * (unsigned)i, (r->sizes & 0x0fffffffu) << 4);
			put32(m, c + 8 + 8u * (unsigned)i, ctrl);
		}
	}
}

size_t pcicfg_build(const struct pcicfg_desc *d, uint8_t *buf, size_t bufsize)
{
	struct img m;
	size_t n = d->size < bufsize ? d->size : bufsize;

	memset(&m, 0, sizeof(m));
	put16(&m, 0x00, d->vendor);
	put16(&m, 0x02, d->device);
	put16(&m, 0x04, d->command);
	put8(&m, 0x08, d->revision);
	put8(&m, 0x09, (uint8_t)d->class_code);
	put8(&m, 0x0a, (uint8_t)(d->class_code >> 8));
	put8(&m, 0x0b, (uint8_t)(d->class_code >> 16));
	put8(&m, 0x0c, 0x10);   /* cache line size: 64 bytes */
	put8(&m, 0x0e, (uint8_t)((d->header_type & 0x7f) | (d->multifunction ? 0x80 : 0)));
	if (d->header_type == 1)
		put_type1(&m, d);
	else
		put_type0(&m, d);
	put8(&m, 0x3c, d->irq_line);
	put8(&m, 0x3d, d->irq_pin);
	put_std_caps(&m, d);
	if (d->pcie)
		put_ext_caps(&m, d);
	if (n > sizeof(m.b))
		n = sizeof(m.b);
	memcpy(buf, m.b, n);
	return n;
}

uint32_t pcicfg_get(const uint8_t *cfg, size_t len, size_t off, int width)
{
	uint32_t v = 0;
	int bytes = width / 8;

	for (int i = bytes - 1; i >= 0; i--) {
		size_t at = off + (size_t)i;

		v = (v << 8) | (at < len ? cfg[at] : 0);
	}
	return v;
}

unsigned pcicfg_find_cap(const uint8_t *cfg, size_t len, uint8_t id)
{
	unsigned off;
	int guard = 48;   /* a looping list must not hang the reader */

	if (!(pcicfg_get(cfg, len, 0x06, 16) & 0x10))
		return 0;
	off = pcicfg_get(cfg, len, 0x34, 8) & 0xfc;
	while (off >= 0x40 && guard-- > 0) {
		if (pcicfg_get(cfg, len, off, 8) == id)
			return off;
		off = pcicfg_get(cfg, len, off + 1, 8) & 0xfc;
	}
	return 0;
}

unsigned pcicfg_find_ext_cap(const uint8_t *cfg, size_t len, uint16_t id)
{
	unsigned off = 0x100;
	int guard = (PCICFG_SIZE_EXT - 0x100) / 8;

	if (len <= 0x100)
		return 0;
	while (off >= 0x100 && guard-- > 0) {
		uint32_t h = pcicfg_get(cfg, len, off, 32);

		if (h == 0 || h == 0xffffffffu)
			return 0;
		if ((h & 0xffff) == id)
			return off;
		off = (h >> 20) & 0xffc;
	}
	return 0;
}
