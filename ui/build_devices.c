/* The Devices screen: every AMD GPU PF with its VFs below it, and the
 * detail pane that answers "can this function be passed through, and if
 * not, why" without leaving the screen. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "build.h"
#include "host/holders.h"

static const struct { uint16_t cls; const char *name; } class_names[] = {
	{ 0x0100, "SCSI controller" }, { 0x0106, "SATA controller" }, { 0x0108, "NVMe controller" },
	{ 0x0200, "Ethernet controller" }, { 0x0207, "InfiniBand controller" },
	{ 0x0300, "VGA controller" }, { 0x0302, "3D controller" }, { 0x0380, "Display controller" },
	{ 0x0403, "Audio device" }, { 0x0600, "Host bridge" }, { 0x0601, "ISA bridge" },
	{ 0x0604, "PCI bridge" }, { 0x0609, "PCI bridge" }, { 0x0806, "IOMMU" },
	{ 0x0880, "System peripheral" }, { 0x0c03, "USB controller" }, { 0x0c05, "SMBus" },
	{ 0x1080, "Encryption controller" }, { 0x1200, "Processing accelerator" },
	{ 0x1300, "Non-essential instrumentation" },
};

const char *ui_class_name(uint32_t class_code)
{
	uint16_t sub = (uint16_t)(class_code >> 8);
	for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
		if (class_names[i].cls == sub)
			return class_names[i].name;
	switch (sub >> 8) {
	case 0x01: return "Storage controller";
	case 0x02: return "Network controller";
	case 0x03: return "Display controller";
	case 0x04: return "Multimedia device";
	case 0x06: return "Bridge";
	case 0x0c: return "Serial bus controller";
	case 0x12: return "Processing accelerator";
	default: return "PCI function";
	}
}

int ui_plugin_device_of(const struct av_resources *res, int func)
{
	for (int d = 0; res && d < res->n_devices; d++)
		for (int k = 0; k < res->devices[d].n_funcs; k++)
			if (res->devices[d].funcs[k] == func)
				return d;
	return -1;
}

/* The function the mode would hand to VMs (VF mode: VFs; PF mode: PFs). */
static bool wants_vfio(const struct av_model *m, const struct av_func *f)
{
	return f->selected && (m->mode == AV_MODE_VF || m->mode == AV_MODE_PF);
}

const char *ui_func_state(const struct av_model *m, const struct av_resources *res,
                          const struct av_func *f, enum ui_tone *tone)
{
	enum ui_tone t = UI_TONE_DIM;
	const char *s = "-";
	int fi = (int)(f - m->funcs);
	const struct av_group *g = f->iommu_group >= 0 ? av_model_group(m, f->iommu_group) : NULL;

	if (wants_vfio(m, f)) {
		if (!av_func_on(f, "vfio-pci")) {
			s = f->driver[0] ? "not bound" : "unbound";
			t = UI_TONE_WARN;
		} else if (!g) {
			s = "no group";
			t = UI_TONE_BAD;
		} else if (!g->viable) {
			s = "group blocked";
			t = UI_TONE_BAD;
		} else if (f->enable_count > 0 || av_model_func_holder(m, fi)) {
			s = "in use";
			t = UI_TONE_GOOD;
		} else {
			int d = ui_plugin_device_of(res, fi);
			bool healthy = d >= 0 && res->devices[d].healthy;
			s = healthy ? "ready" : "no vfio node";
			t = healthy ? UI_TONE_GOOD : UI_TONE_BAD;
		}
	} else if (f->role == AV_ROLE_PF && m->mode == AV_MODE_VF) {
		if (av_func_on(f, "gim")) {
			s = f->n_vfs > 0 ? "hosts VFs" : "no VFs";
			t = f->n_vfs > 0 ? UI_TONE_GOOD : UI_TONE_WARN;
		} else {
			s = f->driver[0] ? "not on gim" : "unbound";
			t = UI_TONE_WARN;
		}
	} else if (m->mode == AV_MODE_CONTAINER && f->selected) {
		s = av_func_on(f, "amdgpu") ? "container" : "not on amdgpu";
		t = av_func_on(f, "amdgpu") ? UI_TONE_GOOD : UI_TONE_WARN;
	} else if (av_func_is_gpu(f)) {
		s = "not selected";
	}
	if (tone)
		*tone = t;
	return s;
}

/* A group only matters for passthrough when it holds a target of the mode
 * (in VF mode the PFs' groups stay with the host and need not be viable). */
enum ui_tone ui_group_tone(const struct av_model *m, const struct av_group *g)
{
	bool target = false;
	for (int k = 0; k < g->n_members; k++)
		target |= m->funcs[g->members[k]].selected;
	if (!target)
		return UI_TONE_NORMAL;
	return g->viable ? UI_TONE_GOOD : UI_TONE_BAD;
}

/* The list has room for the model ("MI300X VF"); the detail pane shows
 * the full name. */
static const char *short_name(const struct av_func *f, char *buf, size_t size)
{
	if (f->known && f->known->model) {
		snprintf(buf, size, "%s%s", f->known->model, f->known->is_vf ? " VF" : "");
		return buf;
	}
	return f->name ? f->name : "?";
}

static void func_row(const struct av_model *m, const struct av_resources *res, int fi, int depth,
                     bool last, struct ui_rows *out)
{
	const struct av_func *f = &m->funcs[fi];
	char group[16], numa[16], vfs[24] = "", name[64];
	enum ui_tone tone;
	const char *state = ui_func_state(m, res, f, &tone);

	snprintf(group, sizeof(group), f->iommu_group >= 0 ? "%d" : "-", f->iommu_group);
	snprintf(numa, sizeof(numa), f->numa_node >= 0 ? "%d" : "-", f->numa_node);
	if (f->role == AV_ROLE_PF && f->sriov_total > 0)
		snprintf(vfs, sizeof(vfs), "%d/%d", f->sriov_num, f->sriov_total);
	/* Who holds it matters more than its model, which the detail pane
	 * gives: at 80 columns only one of them fits. */
	const struct av_holder *h = av_model_func_holder(m, fi);
	if (h)
		av_holder_short(h, name, sizeof(name));
	struct ui_row *row = ui_rows_add(out, tone, "%-*s %-10s %5s %4s %-4s %-5s %-13s %s",
	                                 15 - 3 * depth, f->bdf, f->driver[0] ? f->driver : "(none)",
	                                 group, numa, f->hive >= 0 ? m->hives[f->hive].id : "-", vfs,
	                                 state, h ? name : short_name(f, name, sizeof(name)));
	if (row) {
		row->func = fi;
		row->group = f->iommu_group;
		row->hive = f->hive;
		row->depth = depth;
		row->last = last;
	}
}

void ui_build_devices(const struct av_model *m, const struct av_resources *res, struct ui_rows *out)
{
	ui_rows_set_head(out, "%-15s %-10s %5s %4s %-4s %-5s %-13s %s", "BDF", "DRIVER", "GROUP", "NUMA",
	                 "HIVE", "VFS", "STATE", m->holders_known ? "NAME / HELD BY" : "NAME");
	for (int i = 0; i < m->n_gpus; i++) {
		const struct av_func *pf = &m->funcs[m->gpus[i]];
		func_row(m, res, m->gpus[i], 0, false, out);
		for (int k = 0; k < pf->n_vfs; k++)
			func_row(m, res, pf->vfs[k], 1, k + 1 == pf->n_vfs, out);
	}
	/* VFs whose PF is not in the model still belong on screen. */
	int orphans = 0;
	for (int i = 0; i < m->n_funcs; i++)
		if (m->funcs[i].role == AV_ROLE_VF && m->funcs[i].physfn < 0) {
			if (orphans++ == 0)
				ui_rows_heading(out, "VFs whose PF is not visible");
			func_row(m, res, i, 0, false, out);
		}
}

static void detail_group(const struct av_model *m, const struct av_group *g, struct ui_rows *out)
{
	enum ui_tone gtone = ui_group_tone(m, g);
	struct ui_row *row = ui_rows_add(out, gtone,
	                                 "group %-4d %s%s%s, /dev/vfio/%d %s", g->id,
	                                 g->type[0] ? g->type : "", g->type[0] ? ", " : "",
	                                 g->viable ? "viable" : "NOT viable (a member is on a host driver)",
	                                 g->id, g->vfio_node ? "present" : "absent");
	if (row)
		row->group = g->id;
	for (int k = 0; k < g->n_members; k++) {
		const struct av_func *mf = &m->funcs[g->members[k]];
		bool blocks = !mf->is_bridge && mf->driver[0] && !av_func_on(mf, "vfio-pci")
		              && !av_func_on(mf, "pci-stub");
		row = ui_rows_add(out, blocks && gtone == UI_TONE_BAD ? UI_TONE_BAD : UI_TONE_NORMAL, "%-12s %-10s %s", mf->bdf,
		                  mf->driver[0] ? mf->driver : "(none)",
		                  mf->name ? mf->name : ui_class_name(mf->class_code));
		if (row) {
			row->depth = 1;
			row->last = k + 1 == g->n_members;
			row->func = g->members[k];
			row->group = g->id;
		}
	}
}

static void detail_plugin(const struct av_model *m, const struct av_resources *res, int fi,
                          struct ui_rows *out)
{
	const struct av_func *f = &m->funcs[fi];
	int d = ui_plugin_device_of(res, fi);
	if (d >= 0) {
		const struct av_plugin_device *pd = &res->devices[d];
		char numa[24] = "no NUMA topology";
		if (pd->numa_node >= 0)
			snprintf(numa, sizeof(numa), "NUMA %d", pd->numa_node);
		ui_rows_add(out, pd->healthy ? UI_TONE_GOOD : UI_TONE_BAD, "plugin    %s device \"%s\", %s, %s",
		            res->resource, pd->id, pd->healthy ? "healthy" : "unhealthy", numa);
		return;
	}
	const char *why;
	if (m->mode == AV_MODE_NONE)
		why = "no mode detected on this host";
	else if (!f->selected)
		why = f->role == AV_ROLE_PF && m->mode == AV_MODE_VF ? "the PF hosts VFs; VMs get the VFs"
		                                                      : "not selected by the mode or config";
	else if ((m->mode == AV_MODE_VF || m->mode == AV_MODE_PF) && !av_func_on(f, "vfio-pci"))
		why = "bind it to vfio-pci (key b)";
	else
		why = "not advertised";
	ui_rows_add(out, UI_TONE_DIM, "plugin    nothing: %s", why);
}

/* Who holds the function: kubelet's pod and container, the VM, and the
 * processes with its group open. */
static void detail_holder(const struct av_model *m, int fi, struct ui_rows *out)
{
	const struct av_holder *h = av_model_func_holder(m, fi);
	if (!h)
		return;
	if (h->vm)
		ui_rows_add(out, UI_TONE_GOOD, "vm        %s", h->vm);
	if (h->pod)
		ui_rows_add(out, UI_TONE_NORMAL, "pod       %s/%s, container %s", h->ns ? h->ns : "?", h->pod,
		            h->container ? h->container : "?");
	else
		ui_rows_add(out, UI_TONE_WARN, "pod       none that kubelet knows of%s",
		            m->kubelet.state == AV_KUBELET_OK ? "" : " (kubelet not asked or not reachable)");
	char pids[160] = "";
	for (int k = 0; k < h->n_pids; k++)
		snprintf(pids + strlen(pids), sizeof(pids) - strlen(pids), "%s%d", k ? ", " : "", h->pids[k]);
	if (h->n_pids)
		ui_rows_add(out, UI_TONE_NORMAL, "pids      %s%s%s%s", pids, h->pod_uid ? " (pod uid " : "",
		            h->pod_uid ? h->pod_uid : "", h->pod_uid ? ")" : "");
	else
		ui_rows_add(out, UI_TONE_DIM, "pids      none hold /dev/vfio/%d", m->funcs[fi].iommu_group);
}

static void detail_hw(const struct av_model *m, int fi, const struct ui_hw_source *hw, struct ui_rows *out)
{
	const struct av_func *f = &m->funcs[fi];
	const struct av_func_details *d = hw->get(hw->ctx, f->bdf), *pf = NULL;
	if (d && f->role == AV_ROLE_VF && f->physfn >= 0 && !av_link_known(&d->link))
		pf = hw->get(hw->ctx, m->funcs[f->physfn].bdf);
	ui_build_hw_rows(m, fi, d, pf, out);
}

/* with_holder: the holder's lines first, where a small pane shows them. */
static void device_detail(const struct av_model *m, const struct av_resources *res, int fi,
                          const struct ui_hw_source *hw, bool with_holder, struct ui_rows *out)
{
	if (fi < 0 || fi >= m->n_funcs)
		return;
	const struct av_func *f = &m->funcs[fi];
	enum ui_tone tone;
	const char *state = ui_func_state(m, res, f, &tone);

	ui_rows_heading(out, "%s  %s", f->bdf, f->name ? f->name : ui_class_name(f->class_code));
	if (with_holder)
		detail_holder(m, fi, out);
	ui_rows_add(out, UI_TONE_NORMAL, "ids       %04x:%04x  subsystem %04x:%04x  rev %02x  class %06x",
	            f->vendor, f->device, f->subsys_vendor, f->subsys_device, f->revision, f->class_code);
	if (f->pci_name)
		ui_rows_add(out, UI_TONE_NORMAL, "pci.ids   %s", f->pci_name);
	ui_rows_add(out, f->driver[0] ? UI_TONE_NORMAL : UI_TONE_WARN, "driver    %s%s%s%s",
	            f->driver[0] ? f->driver : "(none)", f->driver_override[0] ? "  (driver_override " : "",
	            f->driver_override, f->driver_override[0] ? ")" : "");
	if (f->role == AV_ROLE_VF && f->physfn >= 0) {
		const struct av_func *pf = &m->funcs[f->physfn];
		int n = 0;
		for (int k = 0; k < pf->n_vfs; k++)
			if (pf->vfs[k] == fi)
				n = k;
		ui_rows_add(out, UI_TONE_NORMAL, "role      VF %d of %s (%s)", n, pf->bdf, pf->driver[0] ? pf->driver : "unbound");
	} else {
		ui_rows_add(out, UI_TONE_NORMAL, "role      %s", f->role == AV_ROLE_PF ? "physical function"
		                                                : f->role == AV_ROLE_VF ? "VF (PF not visible)" : "other");
	}
	if (f->sriov_total >= 0)
		ui_rows_add(out, UI_TONE_NORMAL, "sr-iov    %d of %d VFs enabled, %d visible%s", f->sriov_num,
		            f->sriov_total, f->n_vfs,
		            f->sriov_autoprobe == 0 ? ", autoprobe off" : f->sriov_autoprobe > 0 ? ", autoprobe on" : "");
	if (f->numa_node >= 0)
		ui_rows_add(out, UI_TONE_NORMAL, "numa      %d", f->numa_node);
	else
		ui_rows_add(out, UI_TONE_NORMAL, "numa      unknown");
	if (f->hive >= 0) {
		const struct av_hive *h = &m->hives[f->hive];
		ui_rows_add(out, UI_TONE_NORMAL, "hive      %s, %d GPUs%s%s (%s)", h->id, h->n_members,
		            h->xgmi_id ? ", xgmi " : "", h->xgmi_id ? h->xgmi_id : "",
		            h->source == AV_HIVE_SYSFS ? "from sysfs" : h->source == AV_HIVE_CONFIG ? "from config"
		                                                                                    : "recorded");
	}
	ui_rows_add(out, tone, "state     %s%s", state,
	            f->enable_count > 0 ? "  (enabled: a VM or driver holds it open)" : "");
	detail_plugin(m, res, fi, out);
	if (m->holders_known && !av_model_func_holder(m, fi) && ui_plugin_device_of(res, fi) >= 0)
		ui_rows_add(out, UI_TONE_DIM, "held by   nobody");
	if (f->n_drm_nodes > 0) {
		char nodes[256] = "";
		for (int k = 0; k < f->n_drm_nodes; k++)
			snprintf(nodes + strlen(nodes), sizeof(nodes) - strlen(nodes), "%s%s", k ? " " : "", f->drm_nodes[k]);
		ui_rows_add(out, UI_TONE_NORMAL, "nodes     %s", nodes);
	}
	if (f->vfio_cdev)
		ui_rows_add(out, UI_TONE_NORMAL, "vfio dev  %s", f->vfio_cdev);
	const struct av_group *g = f->iommu_group >= 0 ? av_model_group(m, f->iommu_group) : NULL;
	if (g)
		detail_group(m, g, out);
	else
		ui_rows_add(out, UI_TONE_BAD, "group     none: IOMMU off or the device is not translated");
	if (hw)
		detail_hw(m, fi, hw, out);
	if (f->sysfs_dir)
		ui_rows_add(out, UI_TONE_DIM, "sysfs     %s", f->sysfs_dir);
}

void ui_build_device_detail(const struct av_model *m, const struct av_resources *res, int fi,
                            const struct ui_hw_source *hw, struct ui_rows *out)
{
	device_detail(m, res, fi, hw, true, out);
}

void ui_build_group_detail(const struct av_model *m, const struct av_resources *res, int group,
                           const struct ui_hw_source *hw, struct ui_rows *out)
{
	const struct av_group *g = av_model_group(m, group);
	if (!g)
		return;
	ui_rows_heading(out, "IOMMU group %d", g->id);
	/* Who holds the group comes first: it is what the group is for. */
	for (int k = 0; k < g->n_members; k++)
		if (av_model_func_holder(m, g->members[k])) {
			detail_holder(m, g->members[k], out);
			break;
		}
	detail_group(m, g, out);
	for (int k = 0; k < g->n_members; k++) {
		int fi = g->members[k];
		if (av_func_is_gpu(&m->funcs[fi])) {
			ui_rows_blank(out);
			device_detail(m, res, fi, hw, false, out);
			break;
		}
	}
}
