/* A small hand-built host model for the console's pure tests: two MI300X
 * PFs on gim, three VFs (vfio-pci, unbound, amdgpu beside an audio
 * function), a bridge, one hive of the two PFs. */
#ifndef TEST_UI_FIXTURE_H
#define TEST_UI_FIXTURE_H

#include "host/mode.h"
#include "model_fixture.h"

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
