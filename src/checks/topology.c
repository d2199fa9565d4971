/* topology.numa, topology.hive. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"

void ck_topology_numa(struct av_ck *c)
{
	int *p = NULL, n = ck_phys_gpus(c, &p);
	if (!n)
		ck_no_subjects(c, "AMD GPU");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
		char path[96], v[16];
		ck_dev_path(path, sizeof(path), f->bdf, "numa_node");
		snprintf(v, sizeof(v), "%d", f->numa_node);
		if (f->numa_node < 0)
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "no NUMA locality reported (one node)");
		else
			ck_add(c, AV_CHECK_NOTE, f->bdf, "keep the guest's vCPUs and memory on this node (kubelet "
			       "topology manager single-numa-node)", path, v, "on NUMA node %d", f->numa_node);
	}
	free(p);
}

/* XGMI-connected boards (MI300 series): hives come in 4s and 8s. */
static bool xgmi_capable(const struct av_func *f)
{
	return f->known && f->known->model && strncmp(f->known->model, "MI3", 3) == 0;
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
		if (m->mode == AV_MODE_PF && busy > 0 && busy < hv->n_members)
			ck_add(c, AV_CHECK_WARN, subject, "assign XGMI peers together (1, 2, 4 or the whole hive to one VM); "
			       "the device plugin's preferred allocation does this", ev, v,
			       "hive %s is partly assigned (%d of %d GPUs in use): XGMI traffic crosses VMs", hv->id, busy,
			       hv->n_members);
		else
			ck_add(c, AV_CHECK_PASS, subject, NULL, ev, v, "hive %s: %d GPU%s (first %s)", hv->id, hv->n_members,
			       hv->n_members == 1 ? "" : "s", subject);
	}
}
