#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/mode.h"
#include "base/util.h"

/* A PF counts for pf-passthrough when it is a GPU by ID or by class. */
static bool pf_is_gpu(const struct av_model *m, const struct av_func *f)
{
	return (f->known && !f->known->is_vf) || av_class_is_gpu(f->class_code)
	       || av_config_lab_device(m->config, f->vendor, f->device);
}

void av_mode_detect(struct av_model *m, bool forced_set, enum av_mode forced)
{
	int votes[AV_MODE_PF + 1] = { 0 };
	int first[AV_MODE_PF + 1] = { -1, -1, -1, -1 };

	for (int i = 0; i < m->n_gpus; i++) {
		const struct av_func *f = &m->funcs[m->gpus[i]];
		enum av_mode v = AV_MODE_NONE;
		if (av_func_on(f, "gim"))
			v = AV_MODE_VF;
		else if (av_func_on(f, "vfio-pci") && pf_is_gpu(m, f))
			v = AV_MODE_PF;
		else if (av_func_on(f, "amdgpu") && m->have_kfd)
			v = AV_MODE_CONTAINER;
		if (v == AV_MODE_NONE)
			continue;
		votes[v]++;
		if (first[v] < 0)
			first[v] = m->gpus[i];
	}

	/* The contract's order (vf, then pf, then container) decides a single
	 * kind of host and breaks ties on a mixed one; otherwise the majority. */
	static const enum av_mode order[] = { AV_MODE_VF, AV_MODE_PF, AV_MODE_CONTAINER };
	enum av_mode detected = AV_MODE_NONE;
	int kinds = 0;
	for (size_t i = 0; i < 3; i++) {
		if (!votes[order[i]])
			continue;
		kinds++;
		if (detected == AV_MODE_NONE || votes[order[i]] > votes[detected])
			detected = order[i];
	}

	free(m->mode_evidence);
	free(m->mode_warning);
	m->mode_warning = NULL;
	m->mixed = kinds > 1;
	const struct av_func *f = first[detected] >= 0 ? &m->funcs[first[detected]] : NULL;
	switch (detected) {
	case AV_MODE_VF:
		m->mode_evidence = av_strdup_printf("%s is bound to gim and has %d VF%s", f->bdf, f->n_vfs,
		                                    f->n_vfs == 1 ? "" : "s");
		break;
	case AV_MODE_PF:
		m->mode_evidence = av_strdup_printf("%s (%s) is bound to vfio-pci and no GPU is on gim", f->bdf,
		                                    f->name ? f->name : "AMD GPU");
		break;
	case AV_MODE_CONTAINER:
		m->mode_evidence = av_strdup_printf("%s is bound to amdgpu and %s exists", f->bdf, "/dev/kfd");
		break;
	case AV_MODE_NONE:
		m->mode_evidence = strdup(m->n_gpus ? "no AMD GPU is bound to gim, vfio-pci, or amdgpu with /dev/kfd"
		                                    : "no AMD GPU found");
		break;
	}
	if (m->mixed)
		m->mode_warning = av_strdup_printf("mixed host: %d GPU%s on gim, %d on vfio-pci, %d on amdgpu; "
		                                   "reporting the majority mode %s",
		                                   votes[AV_MODE_VF], votes[AV_MODE_VF] == 1 ? "" : "s",
		                                   votes[AV_MODE_PF], votes[AV_MODE_CONTAINER],
		                                   av_mode_name(detected));

	m->mode = detected;
	m->mode_source = AV_SOURCE_AUTO;
	enum av_mode configured;
	const char *how = NULL;
	if (forced_set) {
		m->mode = forced;
		m->mode_source = AV_SOURCE_FLAG;
		how = "--driver-type";
	} else if (m->config && m->config->driver_type && av_mode_parse(m->config->driver_type, &configured) == 0) {
		m->mode = configured;
		m->mode_source = AV_SOURCE_CONFIG;
		how = "spec.driver.driverType";
	}
	if (how) {
		char *ev = av_strdup_printf("%s %s (detected: %s; %s)", how, av_mode_name(m->mode),
		                            av_mode_name(detected), m->mode_evidence ? m->mode_evidence : "");
		free(m->mode_evidence);
		m->mode_evidence = ev;
	}
}

static bool id_listed(const struct av_config *cfg, uint16_t device)
{
	for (int i = 0; i < cfg->n_device_ids; i++)
		if (cfg->device_ids[i] == device)
			return true;
	return false;
}

void av_select(struct av_model *m)
{
	const struct av_config *cfg = m->config;
	bool by_config = cfg && cfg->n_device_ids > 0;
	for (int i = 0; i < m->n_funcs; i++) {
		struct av_func *f = &m->funcs[i];
		f->selected = false;
		if (!av_func_is_gpu(f))
			continue;
		bool want_vf = m->mode == AV_MODE_VF;
		if (m->mode == AV_MODE_NONE || (f->role == AV_ROLE_VF) != want_vf)
			continue;
		if (by_config)
			f->selected = id_listed(cfg, f->device);
		else if (m->mode == AV_MODE_CONTAINER)
			f->selected = true; /* no binding here: every GPU amdgpu drives */
		else
			f->selected = f->known && f->known->is_vf == want_vf;
	}
}
