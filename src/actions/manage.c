/* Driver management: what the DeviceConfig asks of the host's drivers,
 * as the next plan to run (the daemon runs one, re-reads the host, and
 * asks again).  This is the work AMD's operator splits between KMM (gim)
 * and its vfio worker pods, done with the same plans as `gim load` and
 * `bind --all`, so it has their locking, verification and rollback. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "actions/internal.h"
#include "host/mode.h"

const char *av_manage_off_reason(const struct av_model *m)
{
	const struct av_config *cfg = m->config;
	if (!cfg || !cfg->present)
		return "no DeviceConfig (--config or --deviceconfig)";
	if (!cfg->driver_enable)
		return "spec.driver.enable is false";
	/* A detected mode describes the host as it is; acting on it would
	 * only entrench whatever state it happens to be in.  container (given
	 * or AMD's default) manages nothing here: amdgpu is the host's. */
	if (m->mode_source == AV_SOURCE_AUTO)
		return cfg->driver_type ? "spec.driver.driverType is container (AMD's default when not given): "
		                          "amdgpu is not amdvirt's to manage"
		                        : "the DeviceConfig has no spec.driver";
	/* The host is in the other passthrough mode: changing it would tear
	 * down what may be in use; check and the daemon's log say why. */
	char *conflict = av_mode_config_conflict(m);
	bool contradicted = conflict != NULL;
	free(conflict);
	if (contradicted)
		return "spec.driver.driverType contradicts the host (see check config.driver-type)";
	if (m->mode == AV_MODE_CONTAINER)
		return "container mode: amdgpu is not amdvirt's to manage";
	if (m->mode != AV_MODE_VF && m->mode != AV_MODE_PF)
		return "no passthrough mode";
	return NULL;
}

typedef int (*planner_fn)(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out);

static int plan_bind_all(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out)
{
	return av_plan_bind(m, NULL, 0, opts, out);
}

/* In order; the first with something to do (or to refuse) is the next
 * plan.  As AMD's operator: the blacklist serves gim, so vf-passthrough
 * only, and before gim; gim before the binds, as the VFs exist only once
 * it has made them. */
static const planner_fn vf_order[] = { av_plan_blacklist, av_plan_gim_load, plan_bind_all };
static const planner_fn pf_order[] = { plan_bind_all };

int av_plan_manage(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out)
{
	memset(out, 0, sizeof(*out));
	if (av_manage_off_reason(m))
		return 0;
	struct av_action_opts o = *opts;
	o.all = true;
	o.bind_after_load = false;
	o.expect_version = m->config->version;
	const planner_fn *order = m->mode == AV_MODE_VF ? vf_order : pf_order;
	size_t n = m->mode == AV_MODE_VF ? sizeof(vf_order) / sizeof(*vf_order) : sizeof(pf_order) / sizeof(*pf_order);
	for (size_t k = 0; k < n; k++) {
		int r = order[k](m, &o, out);
		if (r < 0 || out->n_steps || out->n_refusals || k + 1 == n)
			return r;
		av_plan_clear(out);
	}
	return 0;
}
