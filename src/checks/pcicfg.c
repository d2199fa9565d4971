#include "config.h"

#include <string.h>

#include "checks/pcicfg.h"

uint32_t av_cfg_get(const uint8_t *cfg, int len, int off, int width)
{
	if (!cfg || off < 0 || width < 1 || width > 4 || off + width > len)
		return 0;
	uint32_t v = 0;
	for (int i = width - 1; i >= 0; i--)
		v = v << 8 | cfg[off + i];
	return v;
}

int av_cfg_find_cap(const uint8_t *cfg, int len, unsigned id)
{
	/* Status bit 4: the capability list exists. */
	if (!(av_cfg_get(cfg, len, 0x06, 2) & 0x10))
		return 0;
	int off = (int)av_cfg_get(cfg, len, 0x34, 1) & 0xfc;
	/* 48 hops bound a malformed (looping) list, as the kernel does. */
	for (int hops = 0; off >= 0x40 && hops < 48; hops++) {
		if (av_cfg_get(cfg, len, off, 1) == id)
			return off;
		off = (int)av_cfg_get(cfg, len, off + 1, 1) & 0xfc;
	}
	return 0;
}

int av_cfg_find_ecap(const uint8_t *cfg, int len, unsigned id, int after)
{
	int off = 0x100;
	bool seen = after == 0;
	for (int hops = 0; off >= 0x100 && hops < (4096 - 0x100) / 8; hops++) {
		uint32_t hdr = av_cfg_get(cfg, len, off, 4);
		if (hdr == 0 || hdr == 0xffffffffu)
			return 0;
		if (seen && (hdr & 0xffff) == id)
			return off;
		if (off == after)
			seen = true;
		off = (int)(hdr >> 20) & 0xffc;
	}
	return 0;
}

void av_cfg_pcie(const uint8_t *cfg, int len, struct av_pcie_info *out)
{
	memset(out, 0, sizeof(*out));
	int off = av_cfg_find_cap(cfg, len, AV_CAP_EXP);
	if (!off)
		return;
	out->present = true;
	uint32_t flags = av_cfg_get(cfg, len, off + 0x02, 2);
	out->version = (int)(flags & 0xf);
	out->type = (int)(flags >> 4) & 0xf;
	out->flr = av_cfg_get(cfg, len, off + 0x04, 4) & (1u << 28);
	out->has_cap2 = out->version >= 2 && off + 0x2a <= len;
	if (out->has_cap2) {
		out->ari_fwd_supported = av_cfg_get(cfg, len, off + 0x24, 4) & (1u << 5);
		out->ari_fwd_enabled = av_cfg_get(cfg, len, off + 0x28, 2) & (1u << 5);
	}
}

void av_cfg_sriov(const uint8_t *cfg, int len, struct av_sriov_info *out)
{
	memset(out, 0, sizeof(*out));
	int off = av_cfg_find_ecap(cfg, len, AV_ECAP_SRIOV, 0);
	if (!off)
		return;
	out->off = off;
	out->caps = av_cfg_get(cfg, len, off + 0x04, 4);
	out->ctrl = (uint16_t)av_cfg_get(cfg, len, off + 0x08, 2);
	out->initial_vfs = (uint16_t)av_cfg_get(cfg, len, off + 0x0c, 2);
	out->total_vfs = (uint16_t)av_cfg_get(cfg, len, off + 0x0e, 2);
	out->num_vfs = (uint16_t)av_cfg_get(cfg, len, off + 0x10, 2);
	out->offset = (uint16_t)av_cfg_get(cfg, len, off + 0x14, 2);
	out->stride = (uint16_t)av_cfg_get(cfg, len, off + 0x16, 2);
	out->vf_device = (uint16_t)av_cfg_get(cfg, len, off + 0x1a, 2);
}

void av_cfg_acs(const uint8_t *cfg, int len, struct av_acs_info *out)
{
	memset(out, 0, sizeof(*out));
	int off = av_cfg_find_ecap(cfg, len, AV_ECAP_ACS, 0);
	if (!off)
		return;
	out->off = off;
	out->cap = (uint16_t)av_cfg_get(cfg, len, off + 0x04, 2);
	out->ctrl = (uint16_t)av_cfg_get(cfg, len, off + 0x06, 2);
}

unsigned av_acs_missing(const struct av_acs_info *acs)
{
	unsigned want = AV_ACS_REQUIRED & ((unsigned)acs->cap | AV_ACS_EC);
	return want & ~(unsigned)acs->ctrl;
}

int av_cfg_rebar(const uint8_t *cfg, int len, unsigned id, struct av_rebar_entry *out, int max)
{
	int off = av_cfg_find_ecap(cfg, len, id, 0);
	if (!off)
		return 0;
	uint32_t ctrl0 = av_cfg_get(cfg, len, off + 0x08, 4);
	int n = (int)(ctrl0 >> 5) & 7;
	if (n > 6)
		n = 6;
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++) {
		uint32_t cap = av_cfg_get(cfg, len, off + 0x04 + 8 * i, 4);
		uint32_t ctrl = av_cfg_get(cfg, len, off + 0x08 + 8 * i, 4);
		out[i].bar = (int)(ctrl & 7);
		out[i].current = (int)(ctrl >> 8) & 0x3f;
		out[i].largest = -1;
		for (int b = 4; b < 32; b++)
			if (cap & (1u << b))
				out[i].largest = b - 4;
		/* Sizes above 128 TB live in the control register's top half. */
		for (int b = 16; b < 32; b++)
			if (ctrl & (1u << b))
				out[i].largest = 28 + (b - 16);
	}
	return n;
}

bool av_cfg_has_vsec(const uint8_t *cfg, int len, uint16_t vsec_id)
{
	int off = 0x100;
	/* One bounded walk: a looping chain must not loop us. */
	for (int hops = 0; off >= 0x100 && hops < (4096 - 0x100) / 8; hops++) {
		uint32_t hdr = av_cfg_get(cfg, len, off, 4);
		if (hdr == 0 || hdr == 0xffffffffu)
			return false;
		if ((hdr & 0xffff) == AV_ECAP_VSEC && (av_cfg_get(cfg, len, off + 0x04, 4) & 0xffff) == vsec_id)
			return true;
		off = (int)(hdr >> 20) & 0xffc;
	}
	return false;
}
