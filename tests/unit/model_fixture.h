/* Hand-built host models for the pure tests (mode, resources, the
 * console's rows): functions added in BDF order, VFs linked to their PF,
 * one group per distinct group number. */
#ifndef TEST_MODEL_FIXTURE_H
#define TEST_MODEL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/model.h"
#include "base/util.h"

/* Adds a function and returns its index; numa -1 for none. */
static int fx_add(struct av_model *m, const char *bdf, uint16_t vendor, uint16_t device, uint32_t cls,
                  const char *driver, int group, int numa)
{
	m->funcs = realloc(m->funcs, ((size_t)m->n_funcs + 1) * sizeof(*m->funcs));
	struct av_func *f = &m->funcs[m->n_funcs];
	memset(f, 0, sizeof(*f));
	snprintf(f->bdf, sizeof(f->bdf), "%s", bdf);
	f->vendor = vendor;
	f->device = device;
	f->class_code = cls;
	snprintf(f->driver, sizeof(f->driver), "%s", driver ? driver : "");
	f->iommu_group = group;
	f->numa_node = numa;
	f->parent = f->physfn = f->hive = -1;
	f->sriov_total = -1;
	f->is_bridge = (cls >> 8) == 0x0604;
	if (vendor == AV_VENDOR_AMD) {
		f->known = av_ids_lookup(device);
		if (f->known || av_class_is_gpu(cls)) {
			f->role = f->known && f->known->is_vf ? AV_ROLE_VF : AV_ROLE_PF;
			f->name = strdup(f->known ? f->known->name : "AMD GPU");
		}
	}
	if (f->role == AV_ROLE_PF)
		av_int_push(&m->gpus, &m->n_gpus, m->n_funcs);
	return m->n_funcs++;
}

static void fx_vf(struct av_model *m, int pf, int vf)
{
	m->funcs[vf].physfn = pf;
	av_int_push(&m->funcs[pf].vfs, &m->funcs[pf].n_vfs, vf);
	m->funcs[pf].sriov_total = 4;
	m->funcs[pf].sriov_num = m->funcs[pf].n_vfs;
}

static void fx_groups(struct av_model *m, const int *nodes, int n_nodes)
{
	for (int i = 0; i < m->n_funcs; i++) {
		struct av_func *f = &m->funcs[i];
		if (f->iommu_group < 0)
			continue;
		struct av_group *g = NULL;
		for (int k = 0; k < m->n_groups; k++)
			if (m->groups[k].id == f->iommu_group)
				g = &m->groups[k];
		if (!g) {
			m->groups = realloc(m->groups, ((size_t)m->n_groups + 1) * sizeof(*m->groups));
			g = &m->groups[m->n_groups++];
			memset(g, 0, sizeof(*g));
			g->id = f->iommu_group;
			g->viable = true;
			for (int k = 0; k < n_nodes; k++)
				g->vfio_node |= nodes[k] == g->id;
		}
		av_int_push(&g->members, &g->n_members, i);
		if (!f->is_bridge && f->driver[0] && !av_func_on(f, "vfio-pci") && !av_func_on(f, "pci-stub"))
			g->viable = false;
	}
	m->iommu_enabled = m->n_groups > 0;
}

#endif
