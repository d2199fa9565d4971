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
	} else if (m->config && m->config->driver_type && av_mode_parse(m->config->driver_type, &configured) == 0
	           && configured != AV_MODE_CONTAINER) {
		/* container is AMD's default, stored whether or not anyone
		 * chose it; like AMD's device plugin, which is never told the
		 * type, the host's own evidence decides then. */
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

char *av_mode_config_conflict(const struct av_model *m)
{
	const struct av_config *cfg = m->config;
	if (m->mode_source != AV_SOURCE_CONFIG || !cfg)
		return NULL;
	const struct av_func *on_gim = NULL, *vf = NULL, *on_vfio = NULL;
	int n_gim = 0;
	for (int i = 0; i < m->n_funcs; i++) {
		const struct av_func *f = &m->funcs[i];
		if (f->role == AV_ROLE_PF && av_func_on(f, "gim")) {
			n_gim++;
			on_gim = on_gim ? on_gim : f;
		} else if (f->role == AV_ROLE_VF) {
			vf = vf ? vf : f;
		} else if (f->role == AV_ROLE_PF && av_func_on(f, "vfio-pci") && !on_vfio) {
			on_vfio = f;
		}
	}
	/* With driver management on, a host not yet in the mode is one the
	 * daemon is about to change; only the other passthrough mode, which
	 * it would have to tear down, contradicts the configuration then. */
	bool managed = cfg->driver_enable;
	if (m->mode == AV_MODE_VF) {
		if (on_gim || vf)
			return NULL;
		if (managed && !on_vfio)
			return NULL;
		if (on_vfio)
			return av_strdup_printf("spec.driver.driverType is vf-passthrough, but no GPU is on gim and there "
			                        "are no VFs: %s is on vfio-pci (pf-passthrough)", on_vfio->bdf);
		return av_strdup_printf("spec.driver.driverType is vf-passthrough and spec.driver.enable is false, "
		                        "but no GPU is on gim and there are no VFs (%s)",
		                        m->n_gpus ? "nothing will load gim" : "no AMD GPU found");
	}
	if (m->mode == AV_MODE_PF) {
		if (on_gim)
			return av_strdup_printf("spec.driver.driverType is pf-passthrough, but %d GPU%s on gim "
			                        "(vf-passthrough), %s first", n_gim, n_gim == 1 ? " is" : "s are", on_gim->bdf);
		if (on_vfio || managed)
			return NULL;
		return av_strdup_printf("spec.driver.driverType is pf-passthrough and spec.driver.enable is false, "
		                        "but no GPU is on vfio-pci (%s)",
		                        m->n_gpus ? "nothing will bind them" : "no AMD GPU found");
	}
	return NULL;
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
