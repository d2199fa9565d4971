/* BAR placement and the PCIe path of each GPU: pci.above-4g, pci.rebar,
 * pci.acs, pci.link. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"
#include "checks/pcicfg.h"
#include "host/pcires.h"

static void pci_above_4g_one(struct av_ck *c, int idx, const struct av_func *f)
{
	struct av_resource res[17];
	char why[200], path[96], v[160], sz[32];
	ck_dev_path(path, sizeof(path), f->bdf, "resource");
	int nr = ck_read_resources(c, f->bdf, res, 17, why, sizeof(why));
	if (nr < 0) {
		ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, NULL, "%s", why);
		return;
	}
	int n64 = 0, high = 0, bad = -1;
	uint64_t largest = 0;
	for (int k = 0; k < 6 && k < nr; k++) {
		uint64_t fl = res[k].flags;
		if (!(fl & AV_RES_MEM) || !(fl & AV_RES_MEM_64) || !(fl & AV_RES_PREFETCH))
			continue;
		n64++;
		if (av_resource_unassigned(&res[k])) {
			if (bad < 0)
				bad = k;
			continue;
		}
		uint64_t size = res[k].end - res[k].start + 1;
		/* The framebuffer BAR is what needs the high window; a
		 * small doorbell BAR up there proves nothing about it. */
		if (size > largest) {
			largest = size;
			high = res[k].start >= 0x100000000ull;
		}
	}
	av_size_str(largest, sz, sizeof(sz));
	if (bad >= 0) {
		snprintf(v, sizeof(v), "0x%016" PRIx64 " 0x%016" PRIx64 " 0x%016" PRIx64, res[bad].start, res[bad].end,
		         res[bad].flags);
		ck_add(c, AV_CHECK_FAIL, f->bdf, "enable Above 4G Decoding (and Re-Size BAR) in the BIOS", path, v,
		       "64-bit prefetchable BAR %d is not assigned", bad);
	} else if (!n64) {
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, "no 64-bit BAR", "no 64-bit prefetchable BAR to place");
	} else if (!high) {
		snprintf(v, sizeof(v), "largest %s below 4 GiB", sz);
		ck_add(c, AV_CHECK_WARN, f->bdf, "enable Above 4G Decoding in the BIOS", path, v,
		       "the largest 64-bit BAR (%s) sits below 4 GiB: the firmware did not open a high MMIO "
		       "window for it", sz);
	} else {
		snprintf(v, sizeof(v), "largest %s above 4 GiB", sz);
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "64-bit BARs assigned, the largest (%s) above 4 GiB", sz);
	}
}

void ck_pci_above_4g(struct av_ck *c)
{
	ck_each(c, ck_phys_gpus, "AMD GPU", pci_above_4g_one);
}

static void pci_rebar_one(struct av_ck *c, int idx, const struct av_func *f)
{
	int len;
	const uint8_t *cfg = ck_config_for(c, f->bdf, idx, false, &len);
	if (!cfg)
		return;
	char path[96], v[96], cur[32], max[32];
	ck_dev_path(path, sizeof(path), f->bdf, "config");
	struct av_rebar_entry e[6];
	int ne = av_cfg_rebar(cfg, len, AV_ECAP_REBAR, e, 6);
	bool vf_rebar = av_cfg_find_ecap(cfg, len, AV_ECAP_VF_REBAR, 0) != 0;
	if (!ne) {
		ck_add(c, AV_CHECK_NOTE, f->bdf, "nothing to do unless the vendor documents Re-Size BAR for this board",
		       path, "no Resizable BAR capability", "no Resizable BAR capability%s",
		       vf_rebar ? " (VF Resizable BAR present: gim sizes VF BARs)" : "");
		return;
	}
	int small = -1;
	for (int k = 0; k < ne; k++)
		if (e[k].largest > e[k].current && small < 0)
			small = k;
	int k = small >= 0 ? small : 0;
	av_size_str(1ull << (e[k].current + 20), cur, sizeof(cur));
	av_size_str(e[k].largest >= 0 ? 1ull << (e[k].largest + 20) : 0, max, sizeof(max));
	snprintf(v, sizeof(v), "BAR %d: %s of %s", e[k].bar, cur, max);
	if (small >= 0)
		ck_add(c, AV_CHECK_WARN, f->bdf,
		       c->m->mode == AV_MODE_PF ? "enable Re-Size BAR Support (and Above 4G) in the BIOS; the guest "
		                                  "firmware also needs a 64-bit MMIO window this large"
		                                : "enable Re-Size BAR Support (and Above 4G) in the BIOS",
		       path, v, "BAR %d is %s but supports %s", e[k].bar, cur, max);
	else
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "BAR %d at its largest size (%s)%s", e[k].bar, cur,
		       c->m->mode == AV_MODE_PF ? ": the guest needs a 64-bit MMIO window this large" : "");
}

void ck_pci_rebar(struct av_ck *c)
{
	ck_each(c, ck_phys_gpus, "AMD GPU", pci_rebar_one);
}

static void pci_acs_one(struct av_ck *c, int idx, const struct av_func *f)
{
	char problems[400] = "", first_path[96] = "", first_val[64] = "";
	int ports = 0, skipped_err = 0, skipped_at = -1;
	for (int up = f->parent, hops = 0; up >= 0 && hops < 32; up = c->m->funcs[up].parent, hops++) {
		int plen, perr;
		const uint8_t *pcfg = ck_config(c, up, &plen, &perr);
		if (!pcfg) {
			skipped_err = perr;
			skipped_at = up;
			break;
		}
		struct av_pcie_info pi;
		av_cfg_pcie(pcfg, plen, &pi);
		if (!pi.present || (pi.type != AV_EXP_TYPE_ROOT_PORT && pi.type != AV_EXP_TYPE_DOWNSTREAM))
			continue;
		ports++;
		struct av_acs_info acs;
		av_cfg_acs(pcfg, plen, &acs);
		const char *bdf = c->m->funcs[up].bdf;
		char one[120];
		if (!acs.off)
			snprintf(one, sizeof(one), "%s has no ACS capability", bdf);
		else if (av_acs_missing(&acs))
			snprintf(one, sizeof(one), "%s ACS control 0x%04x lacks 0x%02x (SV/RR/CR/UF)", bdf, acs.ctrl,
			         av_acs_missing(&acs));
		else
			continue;
		if (!first_path[0]) {
			ck_dev_path(first_path, sizeof(first_path), bdf, "config");
			snprintf(first_val, sizeof(first_val), acs.off ? "ACSCtl 0x%04x" : "no ACS", acs.ctrl);
		}
		snprintf(problems + strlen(problems), sizeof(problems) - strlen(problems), "%s%s",
		         problems[0] ? "; " : "", one);
	}
	if (skipped_at >= 0) {
		ck_cfg_skip(c, f->bdf, c->m->funcs[skipped_at].bdf, skipped_err);
	} else if (problems[0]) {
		ck_add(c, AV_CHECK_WARN, f->bdf, "enable ACS in the BIOS, or use a slot behind ACS-capable ports; root "
		       "ports without ACS may still isolate through kernel quirks (see the IOMMU group)",
		       first_path, first_val, "%s", problems);
	} else {
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, NULL, NULL, "ACS enabled on %d port%s above", ports,
		       ports == 1 ? "" : "s");
	}
}

void ck_pci_acs(struct av_ck *c)
{
	ck_each(c, ck_phys_gpus, "AMD GPU", pci_acs_one);
}

static void pci_link_one(struct av_ck *c, int idx, const struct av_func *f)
{
	char cs[64], ms[64], cw[16], mw[16], path[96];
	const char *miss = NULL;
	if (av_read_text(c->host, ck_dev_path(path, sizeof(path), f->bdf, "current_link_speed"), cs, sizeof(cs)) < 0)
		miss = "current_link_speed";
	else if (av_read_text(c->host, ck_dev_path(path, sizeof(path), f->bdf, "max_link_speed"), ms, sizeof(ms)) < 0)
		miss = "max_link_speed";
	else if (av_read_text(c->host, ck_dev_path(path, sizeof(path), f->bdf, "current_link_width"), cw, sizeof(cw)) < 0)
		miss = "current_link_width";
	else if (av_read_text(c->host, ck_dev_path(path, sizeof(path), f->bdf, "max_link_width"), mw, sizeof(mw)) < 0)
		miss = "max_link_width";
	if (miss) {
		ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, NULL, "cannot read %s", path);
		return;
	}
	double csv = strtod(cs, NULL), msv = strtod(ms, NULL);
	long cwv = strtol(cw, NULL, 10), mwv = strtol(mw, NULL, 10);
	char v[256];
	snprintf(v, sizeof(v), "%s x%s of %s x%s", cs, cw, ms, mw);
	ck_dev_path(path, sizeof(path), f->bdf, "current_link_speed");
	if (csv <= 0 || msv <= 0 || cwv <= 0 || mwv <= 0)
		ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, v, "link state unknown (%s)", v);
	else if (csv < msv || cwv < mwv)
		ck_add(c, AV_CHECK_WARN, f->bdf, "GPUs lower the speed when idle: recheck under load; "
		       "otherwise reseat the card, check the riser/slot and the BIOS PCIe link speed", path, v, "link runs below its maximum: %s", v);
	else
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "link at maximum: %s x%s", cs, cw);
}

void ck_pci_link(struct av_ck *c)
{
	ck_each(c, ck_phys_gpus, "AMD GPU", pci_link_one);
}
