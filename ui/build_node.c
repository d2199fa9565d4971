/* The Node screen: how the node presents itself to Kubernetes and KubeVirt
 * (mode, advertised resources, labels, the KubeVirt CR fragment), i.e. the
 * things the operator otherwise checks with kubectl after the fact. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/actions.h"
#include "build.h"
#include "host/mode.h"
#include "host/holders.h"
#include "host/draclaims.h"
#include "labels/kubevirt.h"
#include "yaml.h"

void ui_build_kubevirt_snippet(const struct av_model *m, const struct av_resources *res,
                               struct ui_rows *out)
{
	if (!av_kubevirt_mode_ok(m)) {
		ui_rows_add(out, UI_TONE_DIM, "KubeVirt passthrough needs vf-passthrough or pf-passthrough (now %s).",
		            av_mode_name(m->mode));
		return;
	}
	if (!av_kubevirt_has_devices(m)) {
		ui_rows_add(out, UI_TONE_DIM, "No GPU function is selected, so there is nothing to permit.");
		return;
	}
	/* The very object `amdvirt kubevirt-config` prints, shown as YAML. */
	cJSON *patch = av_kubevirt_patch(m, res->resource);
	char *text = patch ? ui_yaml(patch) : NULL;
	cJSON_Delete(patch);
	if (text)
		ui_rows_add_text(out, UI_TONE_NORMAL, 0, text);
	else
		out->oom = true;
	free(text);
}

static void resources_rows(const struct av_model *m, const struct av_resources *res, struct ui_rows *out)
{
	ui_rows_heading(out, "Device plugin");
	if (m->mode == AV_MODE_NONE) {
		ui_rows_add(out, UI_TONE_DIM, "nothing advertised: no mode detected");
		return;
	}
	ui_rows_add(out, res->n_healthy ? UI_TONE_GOOD : UI_TONE_WARN, "%s: %d (%d device%s, %d unhealthy)",
	            res->resource, res->n_healthy, res->n_devices, res->n_devices == 1 ? "" : "s",
	            res->n_devices - res->n_healthy);
	for (int d = 0; d < res->n_devices; d++) {
		const struct av_plugin_device *pd = &res->devices[d];
		char funcs[160] = "";
		for (int k = 0; k < pd->n_funcs; k++)
			snprintf(funcs + strlen(funcs), sizeof(funcs) - strlen(funcs), "%s%s", k ? "," : "",
			         m->funcs[pd->funcs[k]].bdf);
		char numa[16], who[96] = "";
		snprintf(numa, sizeof(numa), pd->numa_node >= 0 ? "%d" : "-", pd->numa_node);
		const struct av_holder *h = av_model_device_holder(m, pd->id);
		if (h) {
			strcpy(who, "  ");
			av_holder_short(h, who + 2, sizeof(who) - 2);
		}
		struct ui_row *row = ui_rows_add(out, pd->healthy ? UI_TONE_NORMAL : UI_TONE_BAD,
		                                 "device %-6s numa %-3s %-9s %s%s", pd->id, numa,
		                                 pd->healthy ? "healthy" : "UNHEALTHY", funcs, who);
		if (row) {
			row->depth = 1;
			row->last = d + 1 == res->n_devices;
			row->group = pd->group;
			row->func = pd->n_funcs ? pd->funcs[0] : -1;
		}
	}
}

/* kubelet's side of the plugin: what it lists for our resource, who
 * holds what, and where the two lists disagree. */
static void kubelet_rows(const struct av_model *m, const struct av_resources *res, struct ui_rows *out)
{
	const struct av_kubelet_view *k = &m->kubelet;
	if (k->state == AV_KUBELET_NOT_ASKED)
		return;
	ui_rows_blank(out);
	ui_rows_heading(out, "kubelet (pod-resources API)");
	if (k->state == AV_KUBELET_ABSENT) {
		ui_rows_add(out, UI_TONE_DIM, "no pod-resources socket: no kubelet runs on this host");
		return;
	}
	if (k->state == AV_KUBELET_ERROR) {
		ui_rows_add(out, UI_TONE_WARN, "%s", k->error ? k->error : "no answer");
		return;
	}
	int held = 0;
	for (int i = 0; i < m->n_holders; i++)
		held += m->holders[i].pod != NULL;
	if (k->have_allocatable) {
		char ids[256] = "";
		for (int i = 0; i < k->n_devices; i++)
			snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s", i ? "," : "", k->devices[i]);
		ui_rows_add(out, k->n_devices ? UI_TONE_NORMAL : UI_TONE_WARN, "registered %s: %d device%s%s%s",
		            res->resource, k->n_devices, k->n_devices == 1 ? "" : "s", k->n_devices ? ": " : "", ids);
		ui_rows_add(out, UI_TONE_NORMAL, "allocatable per kubelet: %d, held by pods: %d, free: %d",
		            k->n_devices, held, k->n_devices - held);
	} else {
		ui_rows_add(out, UI_TONE_DIM, "kubelet does not answer GetAllocatableResources; %d device%s held by pods",
		            held, held == 1 ? "" : "s");
	}
	for (int i = 0; i < k->n_problems; i++)
		ui_rows_add(out, UI_TONE_BAD, "! %s", k->problems[i]);
}

void ui_build_node(const struct av_model *m, const struct av_resources *res,
                   const struct av_labels *labels, struct ui_rows *out)
{
	ui_rows_heading(out, "Mode");
	ui_rows_add(out, m->mode == AV_MODE_NONE ? UI_TONE_WARN : UI_TONE_NORMAL, "%s (%s)", av_mode_name(m->mode),
	            av_mode_source_name(m->mode_source));
	if (m->mode_evidence)
		ui_rows_add(out, UI_TONE_DIM, "evidence: %s", m->mode_evidence);
	if (m->mode_warning)
		ui_rows_add(out, UI_TONE_WARN, "warning: %s", m->mode_warning);
	/* The same verdict as check config.driver-type and the daemon's log. */
	char *conflict = av_mode_config_conflict(m);
	if (conflict)
		ui_rows_add(out, UI_TONE_BAD, "problem: %s", conflict);
	free(conflict);
	ui_rows_add(out, m->iommu_enabled ? UI_TONE_NORMAL : UI_TONE_BAD, "IOMMU %s, %d groups; vfio %s%s; kfd %s",
	            m->iommu_enabled ? "on" : "OFF", m->n_groups,
	            m->have_vfio_container ? "/dev/vfio/vfio" : "container absent",
	            m->have_iommufd ? ", /dev/iommu" : "", m->have_kfd ? "present" : "absent");
	ui_rows_blank(out);
	ui_rows_heading(out, "Driver management (amdvirt daemon)");
	const char *off = av_manage_off_reason(m);
	if (off)
		ui_rows_add(out, UI_TONE_DIM, "off: %s", off);
	else
		ui_rows_add(out, UI_TONE_NORMAL, "on: the daemon keeps %s", m->mode == AV_MODE_VF
		            ? "gim loaded and every selected VF on vfio-pci" : "every selected PF on vfio-pci");
	ui_rows_blank(out);
	resources_rows(m, res, out);
	kubelet_rows(m, res, out);

	ui_rows_blank(out);
	ui_rows_heading(out, "Node labels (what the labeller applies)");
	if (!labels || labels->n == 0)
		ui_rows_add(out, UI_TONE_DIM, "none");
	for (int i = 0; labels && i < labels->n; i++)
		ui_rows_add(out, UI_TONE_NORMAL, "%s=%s", labels->items[i].key, labels->items[i].value);
	for (int i = 0; labels && i < labels->n_notes; i++)
		ui_rows_add(out, UI_TONE_WARN, "left out: %s", labels->notes[i]);

	ui_rows_blank(out);
	ui_rows_heading(out, "KubeVirt CR (kubectl edit kubevirt -n kubevirt; or amdvirt kubevirt-config)");
	ui_build_kubevirt_snippet(m, res, out);

	if (m->n_diags > 0) {
		ui_rows_blank(out);
		ui_rows_heading(out, "Problems reading the host (%d)", m->n_diags);
		for (int i = 0; i < m->n_diags; i++)
			ui_rows_add(out, UI_TONE_WARN, "%s", m->diags[i].msg);
	}
}

void ui_build_node_dra(const struct av_model *m, const struct av_dra_claims *rec, struct ui_rows *out)
{
	if (!rec || !rec->present)
		return;
	ui_rows_heading(out, "DRA driver gpu.amdvirt.io");
	const struct av_dra_slice_info *sl = &rec->slice;
	if (sl->name)
		ui_rows_add(out, UI_TONE_NORMAL, "ResourceSlice %s: pool %s, generation %lld, %d device%s", sl->name,
		            sl->pool, sl->generation, sl->n_devices, sl->n_devices == 1 ? "" : "s");
	else
		ui_rows_add(out, UI_TONE_WARN, "no ResourceSlice published yet");
	for (int i = 0; sl->name && i < sl->n_devices; i++) {
		struct ui_row *row = ui_rows_add(out, UI_TONE_DIM, "%s", sl->devices[i]);
		if (row) {
			row->depth = 1;
			row->last = i + 1 == sl->n_devices;
		}
	}
	ui_rows_add(out, UI_TONE_NORMAL, "%d prepared claim%s", rec->n, rec->n == 1 ? "" : "s");
	for (int i = 0; i < rec->n; i++) {
		const struct av_dra_claim *c = &rec->v[i];
		for (int k = 0; k < c->n_devs; k++) {
			const struct av_dra_dev *d = &c->devs[k];
			int f = d->bdf[0] ? av_model_find(m, d->bdf) : -1;
			bool ok = f >= 0 && av_func_on(&m->funcs[f], "vfio-pci");
			struct ui_row *row = ui_rows_add(out, ok ? UI_TONE_NORMAL : UI_TONE_BAD, "%s/%s %s: %s %s%s",
			                                 c->namespace_, c->name, d->request, d->device, d->bdf,
			                                 ok ? "" : f < 0 ? " (GONE)" : " (NOT ON VFIO-PCI)");
			if (row) {
				row->depth = 1;
				row->last = i + 1 == rec->n && k + 1 == c->n_devs;
				row->func = f;
				row->group = f >= 0 ? m->funcs[f].iommu_group : -1;
			}
		}
	}
}
