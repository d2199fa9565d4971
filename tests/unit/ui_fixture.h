/* A small hand-built host model for the console's pure tests: two MI300X
 * PFs on gim, three VFs (vfio-pci, unbound, amdgpu beside an audio
 * function), a bridge, one hive of the two PFs. */
#ifndef TEST_UI_FIXTURE_H
#define TEST_UI_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mode.h"
#include "model.h"
#include "util.h"

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
	if (vendor == AV_VENDOR_AMD && (cls >> 16) == 0x12) {
		f->known = av_ids_lookup(device);
		f->role = f->known && f->known->is_vf ? AV_ROLE_VF : AV_ROLE_PF;
		f->name = strdup(f->known ? f->known->name : "AMD GPU");
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

/* Indexes: 0 bridge, 1 PF a, 2 VF a0 (vfio), 3 VF a1 (none), 4 PF b,
 * 5 VF b0 (amdgpu), 6 audio beside b0. */
static void fx_build(struct av_model *m)
{
	memset(m, 0, sizeof(*m));
	fx_add(m, "0000:00:01.1", 0x1022, 0x14ab, 0x060400, "pcieport", 1, 0);
	int a = fx_add(m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 10, 0);
	fx_vf(m, a, fx_add(m, "0000:05:02.0", AV_VENDOR_AMD, 0x74b5, 0x120000, "vfio-pci", 11, 0));
	fx_vf(m, a, fx_add(m, "0000:05:02.1", AV_VENDOR_AMD, 0x74b5, 0x120000, NULL, 12, 0));
	int b = fx_add(m, "0000:15:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 20, 1);
	fx_vf(m, b, fx_add(m, "0000:15:02.0", AV_VENDOR_AMD, 0x74b5, 0x120000, "amdgpu", 21, 1));
	fx_add(m, "0000:15:02.1", AV_VENDOR_AMD, 0xab30, 0x040300, "snd_hda_intel", 21, 1);
	int nodes[] = { 11 };
	fx_groups(m, nodes, 1);
	m->hives = calloc(1, sizeof(*m->hives));
	m->n_hives = 1;
	snprintf(m->hives[0].id, sizeof(m->hives[0].id), "h0");
	av_int_push(&m->hives[0].members, &m->hives[0].n_members, a);
	av_int_push(&m->hives[0].members, &m->hives[0].n_members, b);
	/* VFs inherit their PF's hive, as av_hives_resolve does. */
	for (int i = 0; i < m->n_funcs; i++)
		if (m->funcs[i].role != AV_ROLE_OTHER)
			m->funcs[i].hive = 0;
	m->hostname = strdup("gpu-node-7");
	av_mode_detect(m, false, AV_MODE_NONE);
	av_select(m);
}

#endif
