/* Planning GIM load and unload (host-research 3 and 7). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/state.h"
#include "actions/targets.h"
#include "base/util.h"

#define TRY(x) do { int r_ = (x); if (r_ < 0) return r_; } while (0)
#define GIM_SYS "/sys/module/gim"

static bool listed(const struct av_config *cfg, uint16_t device)
{
	for (int i = 0; cfg && i < cfg->n_device_ids; i++)
		if (cfg->device_ids[i] == device)
			return true;
	return false;
}

/* Config parameters first, --param after: a NAME given twice keeps the
 * command line's value.  Returns an allocated "a=1 b=2", or NULL. */
static char *merge_params(const struct av_config *cfg, const struct av_action_opts *opts)
{
	const char *all[128];
	int n = 0;
	for (int i = 0; cfg && i < cfg->n_module_params && n < 128; i++)
		all[n++] = cfg->module_params[i];
	for (int i = 0; opts && i < opts->n_params && n < 128; i++)
		all[n++] = opts->params[i];
	size_t len = 1;
	for (int i = 0; i < n; i++)
		len += strlen(all[i]) + 1;
	char *out = calloc(1, len);
	if (!out)
		return NULL;
	for (int i = 0; i < n; i++) {
		size_t name = strcspn(all[i], "=");
		bool later = false;
		for (int k = i + 1; k < n && !later; k++)
			later = strncmp(all[k], all[i], name) == 0 && all[k][name] == '=';
		if (later)
			continue;
		if (*out)
			strcat(out, " ");
		strcat(out, all[i]);
	}
	return out;
}

/* vf_num=a,b,c gives one count per GPU in probe order; 0 when not given. */
static int vf_count(const char *params, int gpu)
{
	const char *p = strstr(params, "vf_num=");
	if (!p || (p != params && p[-1] != ' '))
		return 0;
	p += 7;
	for (int i = 0; i < gpu; i++) {
		p = strpbrk(p, ", ");
		if (!p || *p != ',')
			return 0;
		p++;
	}
	return atoi(p);
}

static bool params_valid(const char *params)
{
	for (const char *p = params; *p;) {
		size_t len = strcspn(p, " ");
		const char *eq = memchr(p, '=', len);
		if (!eq || eq == p)
			return false;
		p += len;
		while (*p == ' ')
			p++;
	}
	return true;
}

static int plan_load(const struct av_model *m, const struct av_action_opts *opts, const char *params,
                     struct av_plan *p)
{
	struct av_host *host = opts ? opts->host : NULL;
	const char *module = opts && opts->module_path ? opts->module_path : "gim";
	char path[128];
	int *targets = NULL, n_targets = 0, *reserve = NULL, n_reserve = 0;

	if (opts->module_path)
		TRY(av_plan_title(p, "load gim from %s for vf-passthrough", opts->module_path));
	else
		TRY(av_plan_title(p, "load gim for vf-passthrough"));
	if (m->mode == AV_MODE_PF || (m->mode == AV_MODE_CONTAINER && m->mode_source != AV_SOURCE_AUTO))
		return av_plan_refuse(p, "the mode is %s: gim serves vf-passthrough", av_mode_name(m->mode));
	if (!params_valid(params))
		return av_plan_refuse(p, "module parameters '%s': use NAME=VALUE", params);
	if (host && av_exists(host, GIM_SYS)) {
		TRY(av_plan_note(p, "gim is already loaded"));
		return 0;
	}
	int r = 0;
	for (int k = 0; k < m->n_gpus && r == 0; k++) {
		const struct av_func *f = &m->funcs[m->gpus[k]];
		struct av_fn_facts fx;
		av_fn_facts_get(m, host, m->gpus[k], &fx);
		bool for_pf = !strcmp(fx.driver, "vfio-pci") || !strcmp(fx.driver_override, "vfio-pci")
		              || (listed(m->config, f->device) && f->known && !f->known->is_vf);
		if (for_pf) {
			if (strcmp(fx.driver, "vfio-pci") && strcmp(fx.driver_override, "vfio-pci"))
				r = av_int_push(&reserve, &n_reserve, m->gpus[k]);
		} else if (fx.sriov_total <= 0) {
			r = av_plan_note(p, "%s has no SR-IOV capability; gim cannot make VFs on it", f->bdf);
		} else if (!strcmp(fx.driver, "amdgpu")) {
			r = av_plan_refuse(p, "%s is owned by amdgpu: unbind it (and blacklist amdgpu) before loading gim",
			                   f->bdf);
		} else if (fx.driver[0]) {
			r = av_plan_refuse(p, "%s is on %s: gim only claims PFs without a driver", f->bdf, fx.driver);
		} else if (fx.driver_override[0] && strcmp(fx.driver_override, "gim")) {
			r = av_plan_refuse(p, "%s has driver_override=%s: gim would not claim it", f->bdf,
			                   fx.driver_override);
		} else {
			r = av_int_push(&targets, &n_targets, m->gpus[k]);
		}
	}
	if (r == 0 && !n_targets && !p->n_refusals)
		r = av_plan_refuse(p, "no GPU PF for gim: every PF is reserved for pf-passthrough or unusable");
	if (r < 0 || p->n_refusals)
		goto out;

	int u = r = av_plan_unit(p, -1, "gim PFs");
	char list[512] = "";
	for (int k = 0; k < n_reserve + n_targets && r >= 0; k++) {
		bool tgt = k >= n_reserve;
		int idx = tgt ? targets[k - n_reserve] : reserve[k];
		struct av_fn_facts fx;
		av_fn_facts_get(m, host, idx, &fx);
		struct av_saved_func s = { .iommu_group = m->funcs[idx].iommu_group, .autoprobe = -1 };
		memcpy(s.bdf, m->funcs[idx].bdf, sizeof(s.bdf));
		memcpy(s.driver, fx.driver, sizeof(s.driver));
		memcpy(s.driver_override, fx.driver_override, sizeof(s.driver_override));
		if (tgt && fx.autoprobe != 0) {
			s.autoprobe = fx.autoprobe < 0 ? 1 : fx.autoprobe;
			size_t len = strlen(list);
			snprintf(list + len, sizeof(list) - len, "%s%s autoprobe %d", len ? ", " : "", s.bdf, s.autoprobe);
		}
		r = av_plan_save(p, u, &s);
		snprintf(path, sizeof(path), "%s/%s", AV_DEVICES, s.bdf);
		if (r == 0)
			r = av_plan_check(p, u, true, AV_CHECK_DRIVER, path, fx.driver, "unchanged since planning");
	}
	if (r >= 0 && list[0])
		r = av_plan_step(p, AV_STEP_RECORD, u, AV_STATE_FILE, list, "what unload restores");
	for (int k = 0; k < n_reserve && r >= 0; k++)
		r = av_plan_write_fn(p, u, m->funcs[reserve[k]].bdf, "driver_override", "vfio-pci",
		                     "reserved for pf-passthrough: gim must not claim it");
	for (int k = 0; k < n_targets && r >= 0; k++)
		if (p->units[u].saved[n_reserve + k].autoprobe >= 0)
			r = av_plan_write_fn(p, u, m->funcs[targets[k]].bdf, "sriov_drivers_autoprobe", "0",
			                     "no host driver may grab the VFs gim creates");
	if (r >= 0)
		r = av_plan_step(p, AV_STEP_MODULE_LOAD, u, "vfio-pci", "", "gim uses vfio symbols");
	if (r >= 0)
		r = av_plan_step(p, AV_STEP_MODULE_LOAD, u, module, params, "through libkmod");
	if (r >= 0) {
		p->steps[p->n_steps - 1].undo = true;
		r = av_plan_check(p, u, false, AV_CHECK_EXISTS, GIM_SYS, NULL, NULL);
	}
	if (r >= 0 && opts->expect_version)
		r = av_plan_check(p, u, false, AV_CHECK_TEXT, GIM_SYS "/version", opts->expect_version,
		                  "spec.driver.version");
	for (int k = 0; k < n_targets && r >= 0; k++) {
		const char *bdf = m->funcs[targets[k]].bdf;
		char want[16];
		int n = vf_count(params, k);
		snprintf(path, sizeof(path), "%s/%s", AV_DEVICES, bdf);
		r = av_plan_check(p, u, false, AV_CHECK_DRIVER, path, "gim", NULL);
		snprintf(path, sizeof(path), "%s/%s/sriov_numvfs", AV_DEVICES, bdf);
		snprintf(want, sizeof(want), "%d", n);
		if (r >= 0)
			r = av_plan_check(p, u, false, n > 0 ? AV_CHECK_TEXT : AV_CHECK_POSITIVE, path, n > 0 ? want : NULL,
			                  "VFs created");
	}
	if (r >= 0 && opts->bind_after_load)
		r = av_plan_note(p, "then the VFs gim creates are bound to vfio-pci (planned once they exist)");
out:
	free(targets);
	free(reserve);
	return r < 0 ? r : 0;
}

int av_plan_gim_load(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out)
{
	static const struct av_action_opts none;
	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &none;
	char *params = merge_params(m->config, opts);
	int r = params ? plan_load(m, opts, params, out) : -ENOMEM;
	free(params);
	if (r < 0)
		av_plan_clear(out);
	return r;
}
