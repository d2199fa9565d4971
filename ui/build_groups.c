/* The IOMMU groups and Hives screens.  A group is what vfio hands to a VM,
 * so it is shown whole: a GPU function can only be passed through when
 * every other endpoint in its group is off host drivers too. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "build.h"

static bool group_has_gpu(const struct av_model *m, const struct av_group *g)
{
	for (int k = 0; k < g->n_members; k++)
		if (av_func_is_gpu(&m->funcs[g->members[k]]))
			return true;
	return false;
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
		row = ui_rows_add(out, blocks && gtone == UI_TONE_BAD ? UI_TONE_BAD
		                       : f->is_bridge ? UI_TONE_DIM : UI_TONE_NORMAL,
		                  "%-12s %-10s %04x:%04x  %s%s", f->bdf, f->driver[0] ? f->driver : "(none)",
		                  f->vendor, f->device, f->name ? f->name : ui_class_name(f->class_code),
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

const char *ui_hive_shapes(int n, int n_hives_of_4)
{
	if (n == 4)
		return n_hives_of_4 >= 2 ? "1, 2 or 4 GPUs of this hive; 8 with another hive of 4"
		                         : "1, 2 or 4 GPUs of this hive";
	if (n == 8)
		return "the whole hive (8 GPUs)";
	return "the whole hive only";
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
	int of4 = 0;
	for (int h = 0; h < m->n_hives; h++)
		of4 += m->hives[h].n_members == 4;
	for (int h = 0; h < m->n_hives; h++) {
		const struct av_hive *hv = &m->hives[h];
		struct ui_row *row = ui_rows_add(out, UI_TONE_TITLE, "hive %-4s %d GPU%s  %s%s  (%s)", hv->id,
		                                 hv->n_members, hv->n_members == 1 ? "" : "s",
		                                 hv->xgmi_id ? "xgmi " : "", hv->xgmi_id ? hv->xgmi_id : "",
		                                 hv->source == AV_HIVE_SYSFS ? "from sysfs"
		                                 : hv->source == AV_HIVE_CONFIG ? "from config" : "recorded");
		if (row)
			row->hive = h;
		row = ui_rows_add(out, UI_TONE_NORMAL, "  allocation: %s", ui_hive_shapes(hv->n_members, of4));
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
			snprintf(numa, sizeof(numa), f->numa_node >= 0 ? "%d" : "-", f->numa_node);
			row = ui_rows_add(out, tone, "%-12s %-10s numa %-3s %2d VF%s %-13s %s", f->bdf,
			                  f->driver[0] ? f->driver : "(none)", numa, f->n_vfs, f->n_vfs == 1 ? " " : "s",
			                  state, f->name ? f->name : "?");
			if (row) {
				row->depth = 1;
				row->last = k + 1 == hv->n_members;
				row->func = fi;
				row->hive = h;
				row->group = f->iommu_group;
			}
		}
	}
}
