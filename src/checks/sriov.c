/* SR-IOV prerequisites of the PFs gim drives: pci.sriov, pci.vf-bars,
 * pci.ari, pci.bus-range, and which of them keeps a PF without VFs. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"
#include "checks/pcicfg.h"
#include "host/pcires.h"

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
	out->offset = ck_sysfs_int(c, f->bdf, "sriov_offset", &v) == 0 && v >= 0 ? (unsigned)v : sr.offset;
	out->stride = ck_sysfs_int(c, f->bdf, "sriov_stride", &v) == 0 && v >= 0 ? (unsigned)v : sr.stride;
	int total = f->sriov_total >= 0 ? f->sriov_total : sr.total_vfs;
	out->count = (unsigned)(f->sriov_num > 0 ? f->sriov_num : total > 0 ? total : 1);
}

static void pci_sriov_one(struct av_ck *c, int idx, const struct av_func *f)
{
	int len;
	const uint8_t *cfg = ck_config_for(c, f->bdf, idx, false, &len);
	if (!cfg)
		return;
	char path[96];
	ck_dev_path(path, sizeof(path), f->bdf, "config");
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

void ck_pci_sriov(struct av_ck *c)
{
	ck_each(c, ck_vf_pfs, "GPU PF that gim supports", pci_sriov_one);
}

static void pci_vf_bars_one(struct av_ck *c, int idx, const struct av_func *f)
{
	struct av_resource res[17];
	char why[200], path[96];
	ck_dev_path(path, sizeof(path), f->bdf, "resource");
	int nr = ck_read_resources(c, f->bdf, res, 17, why, sizeof(why));
	if (nr < 0) {
		ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, NULL, "%s", why);
		return;
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

void ck_pci_vf_bars(struct av_ck *c)
{
	ck_each(c, ck_vf_pfs, "GPU PF that gim supports", pci_vf_bars_one);
}

static void pci_ari_one(struct av_ck *c, int idx, const struct av_func *f)
{
	int len;
	const uint8_t *cfg = ck_config_for(c, f->bdf, idx, false, &len);
	if (!cfg)
		return;
	if (f->parent < 0) {
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, NULL, NULL, "on a root bus: no port has to forward ARI");
		return;
	}
	const struct av_func *port = &c->m->funcs[f->parent];
	int plen;
	const uint8_t *pcfg = ck_config_for(c, f->bdf, f->parent, false, &plen);
	if (!pcfg)
		return;
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

void ck_pci_ari(struct av_ck *c)
{
	ck_each(c, ck_vf_pfs, "GPU PF that gim supports", pci_ari_one);
}

static void pci_bus_range_one(struct av_ck *c, int idx, const struct av_func *f)
{
	int len;
	const uint8_t *cfg = ck_config_for(c, f->bdf, idx, false, &len);
	if (!cfg)
		return;
	if (f->parent < 0) {
		ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, NULL, NULL, "on a root bus: no bridge bus range to compare");
		return;
	}
	const struct av_func *br = &c->m->funcs[f->parent];
	int blen;
	const uint8_t *bcfg = ck_config_for(c, f->bdf, f->parent, true, &blen);
	if (!bcfg)
		return;
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

void ck_pci_bus_range(struct av_ck *c)
{
	ck_each(c, ck_vf_pfs, "GPU PF that gim supports", pci_bus_range_one);
}

const char *ck_vf_blocker(struct av_ck *c, int pf)
{
	const struct av_func *f = &c->m->funcs[pf];
	struct av_resource res[17];
	char why[200];
	int nr = ck_read_resources(c, f->bdf, res, 17, why, sizeof(why));
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
