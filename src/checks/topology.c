/* topology.numa, topology.hive. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"
#include "host/host.h"

static void topology_numa_one(struct av_ck *c, int idx, const struct av_func *f)
{
	char path[96], v[16];
	ck_dev_path(path, sizeof(path), f->bdf, "numa_node");
	snprintf(v, sizeof(v), "%d", f->numa_node);
	if (f->numa_node < 0)
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "no NUMA locality reported (one node)");
	else
		ck_add(c, AV_CHECK_NOTE, f->bdf, "keep the guest's vCPUs and memory on this node (kubelet "
		       "topology manager single-numa-node)", path, v, "on NUMA node %d", f->numa_node);
}

void ck_topology_numa(struct av_ck *c)
{
	ck_each(c, ck_phys_gpus, "AMD GPU", topology_numa_one);
}

/* XGMI-connected boards (MI300 series): hives come in 4s and 8s. */
static bool xgmi_capable(const struct av_func *f)
{
	return f->known && f->known->model && strncmp(f->known->model, "MI3", 3) == 0;
}

/* gim's fb_sharing_mode: 0 shares framebuffers across the whole hive, 1, 2,
 * 4 or 8 within groups of that many GPUs (in hive order), 9 in groups set
 * with amd-smi.  Returns the group size for a hive of n, 0 when unknown. */
static int sharing_group(struct av_ck *c, int n, long *mode)
{
	if (av_read_long(c->host, "/sys/module/gim/parameters/fb_sharing_mode", 10, mode) < 0) {
		*mode = -1;
		return 0;
	}
	if (*mode == 0)
		return n;
	if (*mode == 1 || *mode == 2 || *mode == 4 || *mode == 8)
		return *mode < n ? (int)*mode : n;
	return 0;
}

/* vf-passthrough: VFs of GPUs that share framebuffers should serve one VM.
 * Returns true when it added a warning for a group held by two VMs. */
static bool sharing_split(struct av_ck *c, const struct av_hive *hv, int g, long mode, const char *ev)
{
	const struct av_model *m = c->m;
	bool warned = false;
	for (int start = 0; g > 0 && start < hv->n_members; start += g) {
		int pid[2] = { -1, -1 };
		for (int k = start; k < start + g && k < hv->n_members; k++) {
			const struct av_func *pf = &m->funcs[hv->members[k]];
			for (int v = 0; v < pf->n_vfs; v++) {
				const struct av_func *vf = &m->funcs[pf->vfs[v]];
				int who = vf->iommu_group >= 0 && av_func_on(vf, "vfio-pci") ? ck_group_holder(c, vf->iommu_group) : -1;
				if (who <= 0 || who == pid[0])
					continue;
				if (pid[0] < 0)
					pid[0] = who;
				else
					pid[1] = who;
			}
		}
		if (pid[1] < 0)
			continue;
		const char *first = m->funcs[hv->members[start]].bdf;
		int last = start + g < hv->n_members ? start + g - 1 : hv->n_members - 1;
		char v[64];
		snprintf(v, sizeof(v), "%ld", mode);
		ck_add(c, AV_CHECK_WARN, first, "give one VM all the VFs of GPUs that share framebuffers, or narrow the "
		       "sharing (amd-smi set --xgmi --fb-sharing-mode MODE_1 isolates each GPU)", ev, v,
		       "hive %s: GPUs %s..%s share framebuffers (gim fb_sharing_mode %ld) but their VFs serve two VMs "
		       "(pids %d and %d)", hv->id, first, m->funcs[hv->members[last]].bdf, mode, pid[0], pid[1]);
		warned = true;
	}
	return warned;
}

void ck_topology_hive(struct av_ck *c)
{
	const struct av_model *m = c->m;
	if (!m->n_hives) {
		int xgmi = 0;
		for (int i = 0; i < m->n_gpus; i++)
			xgmi += xgmi_capable(&m->funcs[m->gpus[i]]);
		if (xgmi > 1)
			ck_add(c, AV_CHECK_NOTE, "host", "declare them in spec.amdvirt.hives (lists of PF BDFs) so "
			       "allocations keep XGMI peers together", "/var/lib/amdvirt/hives.json", "none",
			       "%d XGMI-capable GPUs but hive membership is unknown (amdgpu is not bound to read it)", xgmi);
		else
			ck_add(c, AV_CHECK_PASS, "host", NULL, NULL, NULL, "no XGMI hive to consider");
		return;
	}
	for (int h = 0; h < m->n_hives; h++) {
		const struct av_hive *hv = &m->hives[h];
		int busy = 0;
		for (int k = 0; k < hv->n_members; k++) {
			const struct av_func *pf = &m->funcs[hv->members[k]];
			bool used = pf->enable_count > 0 && av_func_on(pf, "vfio-pci");
			for (int v = 0; v < pf->n_vfs && !used; v++)
				used = m->funcs[pf->vfs[v]].enable_count > 0 && av_func_on(&m->funcs[pf->vfs[v]], "vfio-pci");
			busy += used;
		}
		const char *subject = hv->n_members ? m->funcs[hv->members[0]].bdf : "host";
		char v[64];
		snprintf(v, sizeof(v), "%s: %d GPUs, %d in use", hv->id, hv->n_members, busy);
		const char *ev = hv->source == AV_HIVE_SYSFS ? "xgmi_hive_info/xgmi_hive_id"
		                 : hv->source == AV_HIVE_CONFIG ? "spec.amdvirt.hives" : "/var/lib/amdvirt/hives.json";
		long mode = -1;
		int g = m->mode == AV_MODE_VF ? sharing_group(c, hv->n_members, &mode) : 0;
		if (g > 0 && sharing_split(c, hv, g, mode, "/sys/module/gim/parameters/fb_sharing_mode"))
			continue;
		if (m->mode == AV_MODE_PF && busy > 0 && busy < hv->n_members)
			ck_add(c, AV_CHECK_WARN, subject, "assign XGMI peers together (1, 2, 4 or the whole hive to one VM); "
			       "the device plugin's preferred allocation does this", ev, v,
			       "hive %s is partly assigned (%d of %d GPUs in use): XGMI traffic crosses VMs", hv->id, busy,
			       hv->n_members);
		else if (g > 0)
			ck_add(c, AV_CHECK_PASS, subject, NULL, ev, v, "hive %s: %d GPU%s (first %s); gim shares framebuffers "
			       "within groups of %d (fb_sharing_mode %ld), none split across VMs", hv->id, hv->n_members,
			       hv->n_members == 1 ? "" : "s", subject, g, mode);
		else
			ck_add(c, AV_CHECK_PASS, subject, NULL, ev, v, "hive %s: %d GPU%s (first %s)", hv->id, hv->n_members,
			       hv->n_members == 1 ? "" : "s", subject);
	}
}
