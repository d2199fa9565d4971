/* Config-space and BAR prerequisites: pci.sriov, pci.vf-bars,
 * pci.above-4g, pci.rebar, pci.ari, pci.bus-range, pci.acs, pci.link. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"
#include "checks/pcicfg.h"

/* A SKIP line for a function whose config space cannot be used. */
static void cfg_skip(struct av_ck *c, const char *subject, const char *bdf, int err)
{
	char path[96];
	ck_dev_path(path, sizeof(path), bdf, "config");
	if (err == -EACCES)
		ck_add(c, AV_CHECK_SKIP, subject, NULL, path, "64 bytes",
		       "%s: extended config space is readable only by root", path);
	else if (err == -ENOTSUP)
		ck_add(c, AV_CHECK_SKIP, subject, NULL, path, NULL, "libpci is not available to read %s", path);
	else
		ck_add(c, AV_CHECK_SKIP, subject, NULL, path, NULL, "cannot read %s: %s", path, ck_errstr(err));
}

static int read_resources(struct av_ck *c, const char *bdf, struct av_resource *res, int max, char *why,
                          size_t why_size)
{
	char path[96], *text = NULL;
	ck_dev_path(path, sizeof(path), bdf, "resource");
	ssize_t r = av_read_all(c->host, path, 1 << 16, &text);
	if (r < 0) {
		snprintf(why, why_size, "cannot read %s: %s", path, ck_errstr((int)r));
		return (int)r;
	}
	int bad = 0;
	int n = av_resource_parse(text, res, max, &bad);
	free(text);
	if (n < 0)
		snprintf(why, why_size, "%s line %d is not \"start end flags\"", path, bad);
	return n;
}

static int sysfs_int(struct av_ck *c, const char *bdf, const char *attr, long *out)
{
	char path[96];
	return av_read_long(c->host, ck_dev_path(path, sizeof(path), bdf, attr), 10, out);
}

void ck_pci_sriov(struct av_ck *c)
{
	int *p = NULL, n = ck_vf_pfs(c, &p);
	if (!n)
		ck_no_subjects(c, "GPU PF that gim supports");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
		int len, err;
		const uint8_t *cfg = ck_config(c, p[i], &len, &err);
		char path[96];
		ck_dev_path(path, sizeof(path), f->bdf, "config");
		if (!cfg) {
			cfg_skip(c, f->bdf, f->bdf, err);
			continue;
		}
		struct av_sriov_info sr;
		av_cfg_sriov(cfg, len, &sr);
		int total = f->sriov_total >= 0 ? f->sriov_total : sr.total_vfs;
		char v[96];
		snprintf(v, sizeof(v), "TotalVFs %d, stride %u, offset %u", total, sr.stride, sr.offset);
		if (!sr.off)
			ck_add(c, AV_CHECK_FAIL, f->bdf, "enable SR-IOV in the BIOS; the GPU needs an SR-IOV (MxGPU) VBIOS",
			       path, "no SR-IOV capability", "no SR-IOV extended capability: no VFs can exist");
		else if (total <= 0)
			ck_add(c, AV_CHECK_FAIL, f->bdf, "enable SR-IOV in the BIOS", path, v,
			       "SR-IOV capability reports no VFs (TotalVFs 0)");
		else if (sr.stride != 1)
			ck_add(c, AV_CHECK_FAIL, f->bdf, "update the VBIOS / firmware; gim supports only stride 1", path, v,
			       "VF stride is %u: gim supports only stride 1", sr.stride);
		else if (!av_cfg_has_vsec(cfg, len, 0x0002))
			ck_add(c, AV_CHECK_FAIL, f->bdf, "flash a VBIOS with GPU-IOV (MxGPU) support", path, v,
			       "no GPU-IOV vendor-specific capability (VSEC ID 2): gim reports \"No GPUIOV caps\"");
		else
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "SR-IOV with %d VF%s, stride 1, GPU-IOV VSEC", total,
			       total == 1 ? "" : "s");
	}
	free(p);
}

void ck_pci_vf_bars(struct av_ck *c)
{
	int *p = NULL, n = ck_vf_pfs(c, &p);
	if (!n)
		ck_no_subjects(c, "GPU PF that gim supports");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
		struct av_resource res[17];
		char why[200], path[96];
		ck_dev_path(path, sizeof(path), f->bdf, "resource");
		int nr = read_resources(c, f->bdf, res, 17, why, sizeof(why));
		if (nr < 0) {
			ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, NULL, "%s", why);
			continue;
		}
		int used = 0, bad = -1;
		for (int k = 7; k <= 12 && k < nr; k++) {
			if (!res[k].flags && !res[k].start)
				continue;
			used++;
			if (bad < 0 && av_resource_unassigned(&res[k]))
				bad = k;
		}
		char v[128];
		static const char hint[] = "enable Above 4G Decoding and SR-IOV (and a large MMIO-high size) in the "
		                           "BIOS; as a last resort boot with pci=realloc";
		if (!used && f->sriov_total <= 0) {
			ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, NULL, "not SR-IOV capable (see pci.sriov)");
		} else if (!used) {
			ck_add(c, AV_CHECK_FAIL, f->bdf, hint, path, "lines 7-12 empty",
			       "SR-IOV capable but no VF BAR is reported: the firmware assigned no VF BAR space");
		} else if (bad >= 0) {
			snprintf(v, sizeof(v), "0x%016" PRIx64 " 0x%016" PRIx64 " 0x%016" PRIx64, res[bad].start, res[bad].end,
			         res[bad].flags);
			ck_add(c, AV_CHECK_FAIL, f->bdf, hint, path, v,
			       "SR-IOV VF BAR %d (resource line %d) is not assigned: VFs cannot be enabled", bad - 7, bad);
		} else {
			snprintf(v, sizeof(v), "%d VF BAR%s assigned", used, used == 1 ? "" : "s");
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "%s", v);
		}
	}
	free(p);
}

void ck_pci_above_4g(struct av_ck *c)
{
	int *p = NULL, n = ck_phys_gpus(c, &p);
	if (!n)
		ck_no_subjects(c, "AMD GPU");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
		struct av_resource res[17];
		char why[200], path[96], v[160], sz[32];
		ck_dev_path(path, sizeof(path), f->bdf, "resource");
		int nr = read_resources(c, f->bdf, res, 17, why, sizeof(why));
		if (nr < 0) {
			ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, NULL, "%s", why);
			continue;
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
	free(p);
}

void ck_pci_rebar(struct av_ck *c)
{
	int *p = NULL, n = ck_phys_gpus(c, &p);
	if (!n)
		ck_no_subjects(c, "AMD GPU");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
		int len, err;
		const uint8_t *cfg = ck_config(c, p[i], &len, &err);
		if (!cfg) {
			cfg_skip(c, f->bdf, f->bdf, err);
			continue;
		}
		char path[96], v[96], cur[32], max[32];
		ck_dev_path(path, sizeof(path), f->bdf, "config");
		struct av_rebar_entry e[6];
		int ne = av_cfg_rebar(cfg, len, AV_ECAP_REBAR, e, 6);
		bool vf_rebar = av_cfg_find_ecap(cfg, len, AV_ECAP_VF_REBAR, 0) != 0;
		if (!ne) {
			ck_add(c, AV_CHECK_NOTE, f->bdf, "nothing to do unless the vendor documents Re-Size BAR for this board",
			       path, "no Resizable BAR capability", "no Resizable BAR capability%s",
			       vf_rebar ? " (VF Resizable BAR present: gim sizes VF BARs)" : "");
			continue;
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
	free(p);
}

/* Routing ID of VF k (0-based). */
static unsigned vf_rid(const struct av_func *pf, unsigned offset, unsigned stride, unsigned k)
{
	unsigned dom, bus, dev, fn;
	if (sscanf(pf->bdf, "%x:%x:%x.%u", &dom, &bus, &dev, &fn) != 4)
		return 0;
	return (bus << 8 | dev << 3 | fn) + offset + k * stride;
}

struct vf_layout {
	unsigned offset, stride, count;
};

static void vf_layout(struct av_ck *c, const struct av_func *f, const uint8_t *cfg, int len, struct vf_layout *out)
{
	struct av_sriov_info sr;
	av_cfg_sriov(cfg, len, &sr);
	long v;
	out->offset = sysfs_int(c, f->bdf, "sriov_offset", &v) == 0 && v >= 0 ? (unsigned)v : sr.offset;
	out->stride = sysfs_int(c, f->bdf, "sriov_stride", &v) == 0 && v >= 0 ? (unsigned)v : sr.stride;
	int total = f->sriov_total >= 0 ? f->sriov_total : sr.total_vfs;
	out->count = (unsigned)(f->sriov_num > 0 ? f->sriov_num : total > 0 ? total : 1);
}

void ck_pci_ari(struct av_ck *c)
{
	int *p = NULL, n = ck_vf_pfs(c, &p);
	if (!n)
		ck_no_subjects(c, "GPU PF that gim supports");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
		int len, err;
		const uint8_t *cfg = ck_config(c, p[i], &len, &err);
		if (!cfg) {
			cfg_skip(c, f->bdf, f->bdf, err);
			continue;
		}
		if (f->parent < 0) {
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, NULL, NULL, "on a root bus: no port has to forward ARI");
			continue;
		}
		const struct av_func *port = &c->m->funcs[f->parent];
		int plen, perr;
		const uint8_t *pcfg = ck_config(c, f->parent, &plen, &perr);
		if (!pcfg) {
			cfg_skip(c, f->bdf, port->bdf, perr);
			continue;
		}
		struct vf_layout lay;
		vf_layout(c, f, cfg, len, &lay);
		bool beyond7 = false;
		for (unsigned k = 0; k < lay.count && !beyond7; k++)
			beyond7 = (vf_rid(f, lay.offset, lay.stride, k) & 0xff) > 7;
		struct av_pcie_info pi;
		av_cfg_pcie(pcfg, plen, &pi);
		struct av_sriov_info sr;
		av_cfg_sriov(cfg, len, &sr);
		bool pf_ari = av_cfg_find_ecap(cfg, len, AV_ECAP_ARI, 0) != 0;
		char path[96], v[96];
		ck_dev_path(path, sizeof(path), port->bdf, "config");
		snprintf(v, sizeof(v), "DevCap2 ARIFwd%c DevCtl2 ARIFwd%c", pi.ari_fwd_supported ? '+' : '-',
		         pi.ari_fwd_enabled ? '+' : '-');
		static const char hint[] = "enable ARI / ARI Forwarding (and SR-IOV) in the BIOS; do not boot with pci=noari";
		enum av_check_status st = beyond7 ? AV_CHECK_FAIL : AV_CHECK_WARN;
		const char *tail = beyond7 ? ": VFs beyond function 7 are unreachable (\"unknown header type 7f\")"
		                           : " (VFs fit in functions 0-7 today)";
		if (!pf_ari) {
			char pv[96];
			ck_dev_path(pv, sizeof(pv), f->bdf, "config");
			ck_add(c, st, f->bdf, hint, pv, "no ARI capability", "the PF has no ARI capability%s", tail);
		} else if (!pi.present || (pi.type != AV_EXP_TYPE_ROOT_PORT && pi.type != AV_EXP_TYPE_DOWNSTREAM)) {
			ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, NULL, "upstream %s is not a PCIe root or downstream port",
			       port->bdf);
		} else if (!pi.ari_fwd_supported) {
			ck_add(c, st, f->bdf, hint, path, v, "upstream port %s does not support ARI Forwarding%s", port->bdf, tail);
		} else if (!pi.ari_fwd_enabled) {
			ck_add(c, st, f->bdf, hint, path, v, "ARI Forwarding is off on upstream port %s%s", port->bdf, tail);
		} else if (sr.off && !(sr.ctrl & AV_SRIOV_CTRL_ARI)) {
			char pv[96];
			ck_dev_path(pv, sizeof(pv), f->bdf, "config");
			ck_add(c, AV_CHECK_WARN, f->bdf, hint, pv, "SR-IOV ARI Capable Hierarchy off",
			       "ARI Forwarding is on at %s but the PF's SR-IOV ARI Capable Hierarchy bit is off", port->bdf);
		} else {
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "ARI on the PF and ARI Forwarding on %s", port->bdf);
		}
	}
	free(p);
}

void ck_pci_bus_range(struct av_ck *c)
{
	int *p = NULL, n = ck_vf_pfs(c, &p);
	if (!n)
		ck_no_subjects(c, "GPU PF that gim supports");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
		int len, err;
		const uint8_t *cfg = ck_config(c, p[i], &len, &err);
		if (!cfg) {
			cfg_skip(c, f->bdf, f->bdf, err);
			continue;
		}
		if (f->parent < 0) {
			ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, NULL, NULL, "on a root bus: no bridge bus range to compare");
			continue;
		}
		const struct av_func *br = &c->m->funcs[f->parent];
		int blen, berr;
		const uint8_t *bcfg = ck_config_std(c, f->parent, &blen, &berr);
		if (!bcfg) {
			cfg_skip(c, f->bdf, br->bdf, berr);
			continue;
		}
		struct vf_layout lay;
		vf_layout(c, f, cfg, len, &lay);
		unsigned last = vf_rid(f, lay.offset, lay.stride, lay.count - 1);
		unsigned sec = av_cfg_get(bcfg, blen, 0x19, 1), sub = av_cfg_get(bcfg, blen, 0x1a, 1);
		char path[96], v[64];
		ck_dev_path(path, sizeof(path), br->bdf, "config");
		snprintf(v, sizeof(v), "bus %02x-%02x, last VF %02x:%02x.%u", sec, sub, last >> 8, (last >> 3) & 0x1f,
		         last & 7);
		if ((last >> 8) > sub || (last >> 8) < sec)
			ck_add(c, AV_CHECK_FAIL, f->bdf, "enable ARI in the BIOS (VFs then fit on one bus) or reserve more "
			       "buses for the slot", path, v,
			       "VF %u at %02x:%02x.%u is outside bridge %s's bus range [%02x-%02x]: can't enable VFs",
			       lay.count, last >> 8, (last >> 3) & 0x1f, last & 7, br->bdf, sec, sub);
		else
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "%u VF%s fit in bridge %s's bus range [%02x-%02x]",
			       lay.count, lay.count == 1 ? "" : "s", br->bdf, sec, sub);
	}
	free(p);
}

void ck_pci_acs(struct av_ck *c)
{
	int *p = NULL, n = ck_phys_gpus(c, &p);
	if (!n)
		ck_no_subjects(c, "AMD GPU");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
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
			cfg_skip(c, f->bdf, c->m->funcs[skipped_at].bdf, skipped_err);
		} else if (problems[0]) {
			ck_add(c, AV_CHECK_WARN, f->bdf, "enable ACS in the BIOS, or use a slot behind ACS-capable ports; root "
			       "ports without ACS may still isolate through kernel quirks (see the IOMMU group)",
			       first_path, first_val, "%s", problems);
		} else {
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, NULL, NULL, "ACS enabled on %d port%s above", ports,
			       ports == 1 ? "" : "s");
		}
	}
	free(p);
}

void ck_pci_link(struct av_ck *c)
{
	int *p = NULL, n = ck_phys_gpus(c, &p);
	if (!n)
		ck_no_subjects(c, "AMD GPU");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
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
			continue;
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
	free(p);
}

const char *ck_vf_blocker(struct av_ck *c, int pf)
{
	const struct av_func *f = &c->m->funcs[pf];
	struct av_resource res[17];
	char why[200];
	int nr = read_resources(c, f->bdf, res, 17, why, sizeof(why));
	for (int k = 7; k <= 12 && k < nr; k++)
		if (av_resource_unassigned(&res[k]))
			return "pci.vf-bars";
	int len, err;
	const uint8_t *cfg = ck_config(c, pf, &len, &err);
	if (!cfg)
		return NULL;
	struct av_sriov_info sr;
	av_cfg_sriov(cfg, len, &sr);
	if (!sr.off || !av_cfg_has_vsec(cfg, len, 0x0002) || sr.stride != 1)
		return "pci.sriov";
	if (f->parent < 0)
		return NULL;
	int plen, perr;
	const uint8_t *pcfg = ck_config(c, f->parent, &plen, &perr);
	struct av_pcie_info pi;
	if (pcfg) {
		av_cfg_pcie(pcfg, plen, &pi);
		bool port = pi.present && (pi.type == AV_EXP_TYPE_ROOT_PORT || pi.type == AV_EXP_TYPE_DOWNSTREAM);
		struct vf_layout lay;
		vf_layout(c, f, cfg, len, &lay);
		bool beyond7 = false;
		for (unsigned k = 0; k < lay.count && !beyond7; k++)
			beyond7 = (vf_rid(f, lay.offset, lay.stride, k) & 0xff) > 7;
		if (port && beyond7 && (!pi.ari_fwd_enabled || !av_cfg_find_ecap(cfg, len, AV_ECAP_ARI, 0)))
			return "pci.ari";
		unsigned last = vf_rid(f, lay.offset, lay.stride, lay.count - 1);
		if ((last >> 8) > av_cfg_get(pcfg, plen, 0x1a, 1) || (last >> 8) < av_cfg_get(pcfg, plen, 0x19, 1))
			return "pci.bus-range";
	}
	return NULL;
}
