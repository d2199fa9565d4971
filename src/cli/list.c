#include "config.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/list.h"
#include "base/textsafe.h"
#include "host/holders.h"

static void add_hex4(cJSON *o, const char *key, uint16_t v)
{
	char buf[8];
	snprintf(buf, sizeof(buf), "%04x", v);
	cJSON_AddStringToObject(o, key, buf);
}

static void add_str_or_null(cJSON *o, const char *key, const char *s)
{
	if (s && *s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_int_or_null(cJSON *o, const char *key, int v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static const char *role_name(enum av_role r)
{
	return r == AV_ROLE_PF ? "pf" : r == AV_ROLE_VF ? "vf" : "other";
}

cJSON *av_func_json(const struct av_model *m, const struct av_func *f)
{
	cJSON *o = cJSON_CreateObject();
	char cls[8];
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "bdf", f->bdf);
	add_hex4(o, "vendor_id", f->vendor);
	add_hex4(o, "device_id", f->device);
	add_str_or_null(o, "name", f->name);
	add_str_or_null(o, "pci_name", f->pci_name);
	cJSON_AddStringToObject(o, "role", role_name(f->role));
	snprintf(cls, sizeof(cls), "%04x", f->class_code >> 8);
	cJSON_AddStringToObject(o, "class", cls);
	add_str_or_null(o, "driver", f->driver);
	add_str_or_null(o, "driver_override", f->driver_override);
	add_int_or_null(o, "iommu_group", f->iommu_group);
	add_int_or_null(o, "numa_node", f->numa_node);
	add_str_or_null(o, "hive", f->hive >= 0 ? m->hives[f->hive].id : NULL);
	cJSON_AddBoolToObject(o, "selected", f->selected);
	cJSON_AddBoolToObject(o, "in_use", av_func_in_use(f));
	if (f->role == AV_ROLE_VF)
		add_str_or_null(o, "physfn", f->physfn >= 0 ? m->funcs[f->physfn].bdf : NULL);
	if (f->role != AV_ROLE_PF)
		return o;

	cJSON_AddBoolToObject(o, "boot_vga", f->boot_vga);
	if (f->sriov_total >= 0) {
		cJSON *s = cJSON_AddObjectToObject(o, "sriov");
		cJSON_AddNumberToObject(s, "total_vfs", f->sriov_total);
		cJSON_AddNumberToObject(s, "num_vfs", f->sriov_num);
		if (f->sriov_autoprobe >= 0)
			cJSON_AddBoolToObject(s, "drivers_autoprobe", f->sriov_autoprobe != 0);
	} else {
		cJSON_AddNullToObject(o, "sriov");
	}
	cJSON *vfs = cJSON_AddArrayToObject(o, "vfs");
	for (int k = 0; k < f->n_vfs; k++)
		cJSON_AddItemToArray(vfs, av_func_json(m, &m->funcs[f->vfs[k]]));
	return o;
}

static cJSON *groups_json(const struct av_model *m)
{
	cJSON *arr = cJSON_CreateArray();
	for (int gi = 0; gi < m->n_groups; gi++) {
		const struct av_group *g = &m->groups[gi];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", g->id);
		add_str_or_null(o, "type", g->type);
		cJSON *devs = cJSON_AddArrayToObject(o, "devices");
		bool gpu = false;
		for (int k = 0; k < g->n_members; k++) {
			const struct av_func *f = &m->funcs[g->members[k]];
			cJSON *d = cJSON_CreateObject();
			char cls[8];
			cJSON_AddStringToObject(d, "bdf", f->bdf);
			add_str_or_null(d, "driver", f->driver);
			snprintf(cls, sizeof(cls), "%04x", f->class_code >> 8);
			cJSON_AddStringToObject(d, "class", cls);
			char id[16];
			snprintf(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
			cJSON_AddStringToObject(d, "id", id);
			cJSON_AddBoolToObject(d, "bridge", f->is_bridge);
			cJSON_AddItemToArray(devs, d);
			gpu |= av_func_is_gpu(f);
		}
		cJSON_AddBoolToObject(o, "viable", g->viable);
		cJSON_AddBoolToObject(o, "gpu", gpu);
		cJSON_AddBoolToObject(o, "vfio_node", g->vfio_node);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *hives_json(const struct av_model *m)
{
	static const char *const sources[] = { "sysfs", "config", "record" };
	cJSON *arr = cJSON_CreateArray();
	for (int h = 0; h < m->n_hives; h++) {
		const struct av_hive *hv = &m->hives[h];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", hv->id);
		add_str_or_null(o, "xgmi_hive_id", hv->xgmi_id);
		cJSON_AddStringToObject(o, "source", sources[hv->source]);
		cJSON *gpus = cJSON_AddArrayToObject(o, "gpus");
		for (int k = 0; k < hv->n_members; k++)
			cJSON_AddItemToArray(gpus, cJSON_CreateString(m->funcs[hv->members[k]].bdf));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* doc/json.md: null, or who holds the device. */
static cJSON *holder_json(const struct av_holder *h)
{
	if (!h)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	add_str_or_null(o, "namespace", h->ns);
	add_str_or_null(o, "pod", h->pod);
	add_str_or_null(o, "container", h->container);
	add_str_or_null(o, "vm", h->vm);
	add_str_or_null(o, "pod_uid", h->pod_uid);
	cJSON *pids = cJSON_AddArrayToObject(o, "pids");
	for (int k = 0; k < h->n_pids; k++)
		cJSON_AddItemToArray(pids, cJSON_CreateNumber(h->pids[k]));
	return o;
}

static cJSON *devices_json(const struct av_model *m, const struct av_resources *r)
{
	cJSON *arr = cJSON_CreateArray();
	for (int i = 0; i < r->n_devices; i++) {
		const struct av_plugin_device *d = &r->devices[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", d->id);
		cJSON_AddBoolToObject(o, "healthy", d->healthy);
		add_int_or_null(o, "numa_node", d->numa_node);
		add_str_or_null(o, "hive", d->hive >= 0 ? m->hives[d->hive].id : NULL);
		cJSON *fs = cJSON_AddArrayToObject(o, "functions");
		for (int k = 0; k < d->n_funcs; k++)
			cJSON_AddItemToArray(fs, cJSON_CreateString(m->funcs[d->funcs[k]].bdf));
		/* Only when something is known, so a host without kubelet and
		 * without VMs prints what it always did. */
		if (m->holders_known)
			cJSON_AddItemToObject(o, "holder", holder_json(av_model_device_holder(m, d->id)));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

cJSON *av_list_json(const struct av_model *m, const struct av_resources *r)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	add_str_or_null(root, "hostname", m->hostname);
	cJSON_AddStringToObject(root, "mode", av_mode_name(m->mode));
	cJSON_AddStringToObject(root, "mode_source", av_mode_source_name(m->mode_source));
	add_str_or_null(root, "mode_evidence", m->mode_evidence);
	add_str_or_null(root, "mode_warning", m->mode_warning);
	cJSON_AddBoolToObject(root, "iommu_enabled", m->iommu_enabled);

	cJSON *gpus = cJSON_AddArrayToObject(root, "gpus");
	for (int i = 0; i < m->n_gpus; i++)
		cJSON_AddItemToArray(gpus, av_func_json(m, &m->funcs[m->gpus[i]]));
	cJSON_AddItemToObject(root, "iommu_groups", groups_json(m));
	cJSON_AddItemToObject(root, "hives", hives_json(m));
	cJSON *res = cJSON_AddObjectToObject(root, "resources");
	if (m->mode != AV_MODE_NONE)
		cJSON_AddNumberToObject(res, r->resource, r->n_healthy);
	cJSON_AddItemToObject(root, "devices", devices_json(m, r));
	cJSON *diags = cJSON_AddArrayToObject(root, "problems");
	for (int i = 0; i < m->n_diags; i++)
		cJSON_AddItemToArray(diags, cJSON_CreateString(m->diags[i].msg));
	return root;
}

/* ---- text ---------------------------------------------------------------- */

struct palette {
	const char *bold, *dim, *good, *warn, *bad, *off;
};

static const struct palette colours = { "\033[1m", "\033[2m", "\033[32m", "\033[33m", "\033[31m", "\033[0m" };
static const struct palette plain = { "", "", "", "", "", "" };

/* The colour of a driver says whether it is what the mode wants there. */
static const char *driver_colour(const struct palette *p, const struct av_model *m, const struct av_func *f)
{
	if (!f->driver[0])
		return p->warn;
	if (av_func_on(f, "vfio-pci") || av_func_on(f, "gim"))
		return p->good;
	if (av_func_on(f, "amdgpu"))
		return m->mode == AV_MODE_CONTAINER ? p->good : p->bad;
	return p->warn;
}

static void print_func(FILE *out, const struct palette *p, const struct av_model *m, const struct av_func *f,
                       const char *prefix)
{
	char group[16], numa[16];
	snprintf(group, sizeof(group), f->iommu_group >= 0 ? "%d" : "-", f->iommu_group);
	snprintf(numa, sizeof(numa), f->numa_node >= 0 ? "%d" : "-", f->numa_node);
	/* Names come from sysfs and pci.ids under ROOT: escaped, they
	 * cannot write to the terminal. */
	fprintf(out, "%s%s%s%s  %-28s [%04x:%04x]  %s%-9s%s group %-4s numa %-2s",
	        prefix, f->role == AV_ROLE_PF ? p->bold : "", f->bdf, p->off,
	        AV_SAFE(f->name ? f->name : "?"), f->vendor, f->device,
	        driver_colour(p, m, f), AV_SAFE(f->driver[0] ? f->driver : "(none)"), p->off, group, numa);
	if (f->hive >= 0)
		fprintf(out, " hive %s", AV_SAFE(m->hives[f->hive].id));
	if (f->role == AV_ROLE_PF && f->sriov_total >= 0)
		fprintf(out, " vfs %d/%d", f->sriov_num, f->sriov_total);
	if (av_func_in_use(f))
		fprintf(out, " %sin use%s", p->warn, p->off);
	if (f->selected)
		fprintf(out, " %s*%s", p->good, p->off);
	const struct av_holder *h = av_model_func_holder(m, (int)(f - m->funcs));
	if (h) {
		char who[160];
		av_holder_describe(h, who, sizeof(who));
		fprintf(out, " %sheld by %s%s", p->warn, AV_SAFE(who), p->off);
	}
	fputc('\n', out);
}

void av_list_text(FILE *out, const struct av_model *m, const struct av_resources *r, bool colour)
{
	const struct palette *p = colour ? &colours : &plain;

	fprintf(out, "%sHost%s %s   %smode%s %s (%s: %s)\n", p->bold, p->off, AV_SAFE(m->hostname ? m->hostname : "?"),
	        p->bold, p->off, av_mode_name(m->mode), av_mode_source_name(m->mode_source),
	        AV_SAFE(m->mode_evidence));
	if (!m->iommu_enabled)
		fprintf(out, "%sIOMMU off:%s no IOMMU groups, passthrough impossible\n", p->bad, p->off);
	fputc('\n', out);

	if (m->n_gpus == 0)
		fprintf(out, "No AMD GPU found.\n");
	for (int i = 0; i < m->n_gpus; i++) {
		const struct av_func *f = &m->funcs[m->gpus[i]];
		print_func(out, p, m, f, "");
		for (int k = 0; k < f->n_vfs; k++)
			print_func(out, p, m, &m->funcs[f->vfs[k]], k + 1 == f->n_vfs ? "  `- " : "  |- ");
	}

	/* Only groups that hold a target matter here: a PF on gim shares no
	 * group with a VM, so its group being "not viable" is no news. */
	int not_viable = 0, target_groups = 0;
	for (int gi = 0; gi < m->n_groups; gi++) {
		const struct av_group *g = &m->groups[gi];
		bool target = false;
		for (int k = 0; k < g->n_members; k++)
			target |= m->funcs[g->members[k]].selected;
		if (!target)
			continue;
		target_groups++;
		if (g->viable)
			continue;
		not_viable++;
		fprintf(out, "%sgroup %d is not viable:%s", p->bad, g->id, p->off);
		for (int k = 0; k < g->n_members; k++) {
			const struct av_func *f = &m->funcs[g->members[k]];
			fprintf(out, " %s (%s)", f->bdf, AV_SAFE(f->driver[0] ? f->driver : "none"));
		}
		fputc('\n', out);
	}
	int n_vfs = 0;
	for (int i = 0; i < m->n_gpus; i++)
		n_vfs += m->funcs[m->gpus[i]].n_vfs;
	fprintf(out, "\n%d GPU%s, %d VF%s, %d target group%s (%d not viable), %d hive%s\n", m->n_gpus,
	        m->n_gpus == 1 ? "" : "s", n_vfs, n_vfs == 1 ? "" : "s", target_groups,
	        target_groups == 1 ? "" : "s", not_viable, m->n_hives, m->n_hives == 1 ? "" : "s");
	for (int h = 0; h < m->n_hives; h++) {
		fprintf(out, "hive %s:", AV_SAFE(m->hives[h].id));
		for (int k = 0; k < m->hives[h].n_members; k++)
			fprintf(out, " %s", m->funcs[m->hives[h].members[k]].bdf);
		fputc('\n', out);
	}
	if (m->mode != AV_MODE_NONE)
		fprintf(out, "%sresources%s %s: %d (%d device%s, %d unhealthy)\n", p->bold, p->off, r->resource,
		        r->n_healthy, r->n_devices, r->n_devices == 1 ? "" : "s", r->n_devices - r->n_healthy);
}
