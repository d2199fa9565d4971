/* Driver management: what the DeviceConfig asks of the host's drivers,
 * as the next plan to run (the daemon runs one, re-reads the host, and
 * asks again).  This is the work AMD's operator splits between KMM (gim)
 * and its vfio worker pods, done with the same plans as `gim load` and
 * `bind --all`, so it has their locking, verification and rollback. */
#include "config.h"

#include <string.h>

#include "internal.h"

const char *av_manage_off_reason(const struct av_model *m)
{
	const struct av_config *cfg = m->config;
	if (!cfg || !cfg->present)
		return "no DeviceConfig (--config or --deviceconfig)";
	if (!cfg->driver_enable)
		return "spec.driver.enable is false";
	/* A detected mode describes the host as it is; acting on it would
	 * only entrench whatever state it happens to be in. */
	if (m->mode_source == AV_SOURCE_AUTO)
		return "the DeviceConfig names no spec.driver.driverType";
	if (m->mode == AV_MODE_CONTAINER)
		return "container mode: amdgpu is not amdvirt's to manage";
	if (m->mode != AV_MODE_VF && m->mode != AV_MODE_PF)
		return "no passthrough mode";
	return NULL;
}

int av_plan_manage(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out)
{
	memset(out, 0, sizeof(*out));
	if (av_manage_off_reason(m))
		return 0;
	struct av_action_opts o = *opts;
	o.all = true;
	o.bind_after_load = false;
	o.expect_version = m->config->version;
	if (m->mode == AV_MODE_VF) {
		/* As AMD's operator: the blacklist serves gim, so vf-passthrough
		 * only, and before gim. */
		int r = av_plan_blacklist(m, &o, out);
		if (r < 0 || out->n_steps || out->n_refusals)
			return r;
		av_plan_clear(out);
		/* gim first: the VFs to bind exist only once it has made them. */
		r = av_plan_gim_load(m, &o, out);
		if (r < 0 || out->n_steps || out->n_refusals)
			return r;
		av_plan_clear(out);
	}
	return av_plan_bind(m, NULL, 0, &o, out);
}
