/* The IOMMU groups and Hives screens.  A group is what vfio hands to a VM,
 * so it is shown whole: a GPU function can only be passed through when
 * every other endpoint in its group is off host drivers too. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "build.h"
#include "host/holders.h"
#include "plugin/alloc.h"

static bool group_has_gpu(const struct av_model *m, const struct av_group *g)
{
	for (int k = 0; k < g->n_members; k++)
		if (av_func_is_gpu(&m->funcs[g->members[k]]))
			return true;
	return false;
}

static void group_rows(const struct av_model *m, const struct av_group *g, struct ui_rows *out)
{
	enum ui_tone gtone = ui_group_tone(m, g);
	struct ui_row *row = ui_rows_add(out, gtone,
	                                 "group %-5d %-8s %-10s /dev/vfio/%d %s, %d member%s", g->id,
	                                 g->type[0] ? g->type : "-", g->viable ? "viable" : "NOT viable",
	                                 g->id, g->vfio_node ? "present" : "absent", g->n_members,
	                                 g->n_members == 1 ? "" : "s");
	if (row)
		row->group = g->id;
	for (int k = 0; k < g->n_members; k++) {
		int fi = g->members[k];
		const struct av_func *f = &m->funcs[fi];
		bool blocks = !f->is_bridge && f->driver[0] && !av_func_on(f, "vfio-pci")
		              && !av_func_on(f, "pci-stub");
		/* The holder before the name, which the right edge may cut. */
		const struct av_holder *h = av_model_func_holder(m, fi);
		char who[96] = "";
		if (h) {
			av_holder_short(h, who, sizeof(who) - 3);
			strcat(who, " | ");
		}
		row = ui_rows_add(out, blocks && gtone == UI_TONE_BAD ? UI_TONE_BAD
		                       : f->is_bridge ? UI_TONE_DIM : UI_TONE_NORMAL,
		                  "%-12s %-10s %04x:%04x  %s%s%s", f->bdf, f->driver[0] ? f->driver : "(none)",
		                  f->vendor, f->device, who, f->name ? f->name : ui_class_name(f->class_code),
		                  blocks ? "  <- on a host driver" : "");
		if (row) {
			row->depth = 1;
			row->last = k + 1 == g->n_members;
			row->func = fi;
			row->group = g->id;
		}
	}
}

void ui_build_groups(const struct av_model *m, struct ui_rows *out)
{
	int gpu = 0, other = 0;
	for (int i = 0; i < m->n_groups; i++)
		if (group_has_gpu(m, &m->groups[i]))
			gpu++;
		else
			other++;
	if (!m->iommu_enabled) {
		ui_rows_add(out, UI_TONE_BAD, "No IOMMU groups: the IOMMU is off (BIOS IOMMU/SVM and amd_iommu=on iommu=pt).");
		ui_rows_add(out, UI_TONE_BAD, "Passthrough is impossible until it is on; see the Checks screen.");
		return;
	}
	ui_rows_heading(out, "Groups with AMD GPU functions (%d)", gpu);
	for (int i = 0; i < m->n_groups; i++)
		if (group_has_gpu(m, &m->groups[i]))
			group_rows(m, &m->groups[i], out);
	if (other) {
		ui_rows_blank(out);
		ui_rows_heading(out, "Other groups (%d)", other);
		for (int i = 0; i < m->n_groups; i++)
			if (!group_has_gpu(m, &m->groups[i]))
				group_rows(m, &m->groups[i], out);
	}
}

/* What the plugin counts in a hive: VF groups in VF mode, GPUs otherwise. */
static const char *unit(const struct av_model *m, int n)
{
	if (m->mode == AV_MODE_VF)
		return n == 1 ? "VF" : "VFs";
	return n == 1 ? "GPU" : "GPUs";
}

static int hive_devices(const struct av_resources *res, int hive, int *devs, int max)
{
	int n = 0;
	for (int d = 0; res && d < res->n_devices; d++)
		if (res->devices[d].hive == hive && n < max)
			devs[n++] = d;
	return n;
}

/* The shapes are asked of the plugin's own rule (av_alloc_hive_ok), so
 * the screen says what Allocate will accept. */
void ui_hive_shapes(const struct av_model *m, const struct av_resources *res, int hive, char *buf,
                    size_t size)
{
	int devs[32], n = hive_devices(res, hive, devs, 32);
	char why[8];
	if (n == 0) {
		snprintf(buf, size, "nothing advertised for this hive yet (no %s of it on vfio-pci)", unit(m, 2));
		return;
	}
	int ok[32], n_ok = 0;
	for (int k = 1; k < n; k++)
		if (av_alloc_hive_ok(res, m, devs, k, why, sizeof(why)))
			ok[n_ok++] = k;
	if (n_ok == 0) {
		snprintf(buf, size, "the whole hive only (%d %s together)", n, unit(m, n));
	} else {
		size_t len = 0;
		ok[n_ok++] = n;
		for (int i = 0; i < n_ok && len < size; i++) {
			int w = snprintf(buf + len, size - len, "%s%d", i == 0 ? "" : i + 1 == n_ok ? " or " : ", ", ok[i]);
			len += w > 0 ? (size_t)w : 0;
		}
		if (len < size)
			snprintf(buf + len, size - len, " of its %d %s (%d: the whole hive)", n, unit(m, n), n);
	}
	/* With another hive: one of ours beside the whole other hive. */
	for (int h = 0; h < m->n_hives; h++) {
		int other[32], no = h == hive ? 0 : hive_devices(res, h, other + 1, 31);
		if (no == 0)
			continue;
		other[0] = devs[0];
		bool mixed = n > 1 && av_alloc_hive_ok(res, m, other, no + 1, why, sizeof(why));
		size_t len = strlen(buf);
		if (len < size)
			snprintf(buf + len, size - len, mixed ? "; any mix with other hives" : "; with other hives: whole hives only");
		break;
	}
}

static void vf_rows(const struct av_model *m, const struct av_resources *res, int pf, int h, bool last_pf,
                    struct ui_rows *out)
{
	const struct av_func *p = &m->funcs[pf];
	for (int k = 0; k < p->n_vfs; k++) {
		int fi = p->vfs[k];
		const struct av_func *f = &m->funcs[fi];
		int d = ui_plugin_device_of(res, fi);
		const char *health = "not advertised";
		enum ui_tone tone = f->selected ? UI_TONE_WARN : UI_TONE_DIM;
		char group[16], dev[32] = "";
		if (d >= 0) {
			health = res->devices[d].healthy ? "healthy" : "UNHEALTHY";
			tone = res->devices[d].healthy ? UI_TONE_GOOD : UI_TONE_BAD;
			snprintf(dev, sizeof(dev), "device \"%s\"", res->devices[d].id);
		}
		snprintf(group, sizeof(group), f->iommu_group >= 0 ? "%d" : "-", f->iommu_group);
		struct ui_row *row = ui_rows_add(out, tone, "   VF %-12s %-10s group %-5s %-14s %s", f->bdf,
		                                 f->driver[0] ? f->driver : "(none)", group, health, dev);
		if (row) {
			row->depth = 1;
			row->last = last_pf && k + 1 == p->n_vfs;
			row->func = fi;
			row->hive = h;
			row->group = f->iommu_group;
		}
	}
}

void ui_build_hives(const struct av_model *m, const struct av_resources *res, struct ui_rows *out)
{
	if (m->n_hives == 0) {
		ui_rows_add(out, UI_TONE_NORMAL, "No XGMI hives known on this host.");
		ui_rows_add(out, UI_TONE_DIM, "amdgpu shows hive ids only while it owns the PFs; amdvirt records them in");
		ui_rows_add(out, UI_TONE_DIM, "/var/lib/amdvirt/hives.json, or set spec.amdvirt.hives in the config.");
		ui_rows_add(out, UI_TONE_DIM, "GPUs outside hives can be allocated in any combination.");
		return;
	}
	bool vf_mode = m->mode == AV_MODE_VF;
	for (int h = 0; h < m->n_hives; h++) {
		const struct av_hive *hv = &m->hives[h];
		int devs[32], nd = hive_devices(res, h, devs, 32);
		char shapes[256], adv[48] = "";
		if (m->mode != AV_MODE_NONE)
			snprintf(adv, sizeof(adv), ", %d %s advertised", nd, unit(m, nd));
		struct ui_row *row = ui_rows_add(out, UI_TONE_TITLE, "hive %-4s %d GPU%s%s  %s%s  (%s)", hv->id,
		                                 hv->n_members, hv->n_members == 1 ? "" : "s", adv,
		                                 hv->xgmi_id ? "xgmi " : "", hv->xgmi_id ? hv->xgmi_id : "",
		                                 hv->source == AV_HIVE_SYSFS ? "from sysfs"
		                                 : hv->source == AV_HIVE_CONFIG ? "from config" : "recorded");
		if (row)
			row->hive = h;
		ui_hive_shapes(m, res, h, shapes, sizeof(shapes));
		row = ui_rows_add(out, UI_TONE_NORMAL, "  allocation: %s", shapes);
		if (row) {
			row->hive = h;
			row->heading = true;
		}
		for (int k = 0; k < hv->n_members; k++) {
			int fi = hv->members[k];
			const struct av_func *f = &m->funcs[fi];
			enum ui_tone tone;
			const char *state = ui_func_state(m, res, f, &tone);
			char numa[16];
			bool last = k + 1 == hv->n_members;
			snprintf(numa, sizeof(numa), f->numa_node >= 0 ? "%d" : "-", f->numa_node);
			row = ui_rows_add(out, tone, "%-12s %-10s numa %-3s %2d VF%s %-13s %s", f->bdf,
			                  f->driver[0] ? f->driver : "(none)", numa, f->n_vfs, f->n_vfs == 1 ? " " : "s",
			                  state, f->name ? f->name : "?");
			if (row) {
				row->depth = 1;
				row->last = last && (!vf_mode || f->n_vfs == 0);
				row->func = fi;
				row->hive = h;
				row->group = f->iommu_group;
			}
			/* In VF mode the VFs are what VMs get: show them under their PF. */
			if (vf_mode)
				vf_rows(m, res, fi, h, last, out);
		}
	}
}
