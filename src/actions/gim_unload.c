/* Planning GIM unload: gim_exit sleeps until no VF is open, so a VF in use
 * is refused here rather than leaving the host hung in rmmod. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/state.h"
#include "actions/targets.h"
#include "base/util.h"

#define GIM_SYS "/sys/module/gim"

struct vf {
	int idx;
	struct av_fn_facts fx;
};

static int collect(const struct av_model *m, struct av_host *host, struct av_plan *p, struct vf **vfs, int *n,
                   int **pfs, int *n_pfs)
{
	char path[64];
	for (int k = 0; k < m->n_gpus; k++) {
		struct av_fn_facts pf;
		av_fn_facts_get(m, host, m->gpus[k], &pf);
		if (strcmp(pf.driver, "gim"))
			continue;
		int r = av_int_push(pfs, n_pfs, m->gpus[k]);
		const struct av_func *f = &m->funcs[m->gpus[k]];
		for (int v = 0; v < f->n_vfs && r == 0; v++) {
			struct vf *grown = realloc(*vfs, ((size_t)*n + 1) * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			*vfs = grown;
			struct vf *e = &grown[(*n)++];
			e->idx = f->vfs[v];
			av_fn_facts_get(m, host, e->idx, &e->fx);
			const struct av_func *vf = &m->funcs[e->idx];
			snprintf(path, sizeof(path), "/dev/vfio/%d", vf->iommu_group);
			if (e->fx.enable > 0)
				r = av_plan_refuse(p, "VF %s is in use (enable=%d): gim would wait for it forever; stop the VM "
				                      "first", vf->bdf, e->fx.enable);
			else if (host && vf->iommu_group >= 0 && av_path_is_open(host, path))
				r = av_plan_refuse(p, "VF %s is in use (%s is open): stop the VM first", vf->bdf, path);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static void add_to(char *list, size_t size, const char *bdf, const char *what)
{
	size_t len = strlen(list);
	snprintf(list + len, size - len, "%s%s%s", len ? ", " : "", bdf, what);
}

/* Whether state.json holds something gim unload puts back: an autoprobe
 * record of a function that exists, or a bind record of one that no
 * longer does (a VF gone with gim: nothing left to restore, the record
 * is dropped). */
static bool is_ours(const struct av_model *m, const struct av_saved_func *rec)
{
	int idx = av_model_find(m, rec->bdf);
	return idx >= 0 ? rec->autoprobe >= 0 : rec->binding;
}

/* What a gim load recorded goes back whether or not gim is loaded now: a
 * load killed before gim came up leaves sriov_drivers_autoprobe at 0 and
 * its record.  Each recorded PF is saved as it is now, for rollback. */
static int save_records(const struct av_model *m, struct av_host *host, const struct av_state *st,
                        struct av_plan *p, int u, char *list, size_t size)
{
	int r = 0;
	for (int i = 0; i < st->n && r >= 0; i++) {
		const struct av_saved_func *rec = &st->e[i].f;
		int idx = av_model_find(m, rec->bdf);
		if (!is_ours(m, rec))
			continue;
		struct av_saved_func s = { .iommu_group = rec->iommu_group, .autoprobe = -1 };
		memcpy(s.bdf, rec->bdf, sizeof(s.bdf));
		if (idx < 0) {
			s.binding = true;
			r = av_plan_note(p, "%s has a record in %s but no longer exists; the record is dropped", rec->bdf,
			                 AV_STATE_FILE);
			add_to(list, size, rec->bdf, "");
		} else {
			struct av_fn_facts fx;
			av_fn_facts_get(m, host, idx, &fx);
			s.autoprobe = fx.autoprobe < 0 ? 0 : fx.autoprobe;
			memcpy(s.driver, fx.driver, sizeof(s.driver));
			memcpy(s.driver_override, fx.driver_override, sizeof(s.driver_override));
			add_to(list, size, rec->bdf, " autoprobe");
		}
		if (r == 0)
			r = av_plan_save(p, u, &s);
	}
	return r;
}

/* With gim loaded the values go back after the unload (the VFs are gone by
 * then); without it, only where they differ. */
static int restore_records(const struct av_model *m, struct av_host *host, const struct av_state *st,
                           struct av_plan *p, int u, bool loaded)
{
	int r = 0;
	for (int i = 0; i < st->n && r >= 0; i++) {
		const struct av_saved_func *rec = &st->e[i].f;
		int idx = av_model_find(m, rec->bdf);
		if (idx < 0 || rec->autoprobe < 0)
			continue;
		struct av_fn_facts fx;
		av_fn_facts_get(m, host, idx, &fx);
		if (!loaded && fx.autoprobe == rec->autoprobe)
			continue;
		char v[16];
		snprintf(v, sizeof(v), "%d", rec->autoprobe);
		r = av_plan_write_fn(p, u, rec->bdf, "sriov_drivers_autoprobe", v, "as before gim was loaded");
	}
	return r;
}

static int plan_unload(const struct av_model *m, struct av_host *host, const struct av_state *st,
                       struct av_plan *p)
{
	struct vf *vfs = NULL;
	int n = 0, *pfs = NULL, n_pfs = 0, u = 0, n_rec = 0;
	char path[128], list[1024] = "";
	bool loaded = !host || av_exists(host, GIM_SYS);

	for (int i = 0; i < st->n; i++)
		n_rec += is_ours(m, &st->e[i].f);
	int r = av_plan_title(p, "unload gim");
	if (r == 0 && !loaded)
		r = av_plan_note(p, n_rec ? "gim is not loaded; what an interrupted gim load or unload left is restored"
		                          : "gim is not loaded");
	else if (r == 0)
		r = collect(m, host, p, &vfs, &n, &pfs, &n_pfs);
	if (r < 0 || p->n_refusals || (!loaded && !n_rec))
		goto out;

	r = u = av_plan_unit(p, -1, loaded ? "gim VFs" : "gim records");
	for (int k = 0; k < n && r >= 0; k++) {
		const struct av_func *f = &m->funcs[vfs[k].idx];
		struct av_saved_func s = { .iommu_group = f->iommu_group, .autoprobe = -1, .binding = true };
		memcpy(s.bdf, f->bdf, sizeof(s.bdf));
		memcpy(s.driver, vfs[k].fx.driver, sizeof(s.driver));
		memcpy(s.driver_override, vfs[k].fx.driver_override, sizeof(s.driver_override));
		r = av_plan_save(p, u, &s);
		snprintf(path, sizeof(path), "%s/%s/enable", AV_DEVICES, f->bdf);
		if (r == 0 && (!host || av_exists(host, path)))
			r = av_plan_check(p, u, true, AV_CHECK_TEXT, path, "0", "not in use");
		add_to(list, sizeof(list), f->bdf, "");
	}
	if (r >= 0)
		r = save_records(m, host, st, p, u, list, sizeof(list));
	for (int k = 0; k < n && r >= 0; k++) {
		const char *bdf = m->funcs[vfs[k].idx].bdf;
		if (strcmp(vfs[k].fx.driver, "vfio-pci"))
			continue;
		r = av_plan_write_fn(p, u, bdf, "driver_override", "\n", "the VF is about to go away");
		if (r == 0)
			r = av_plan_step(p, AV_STEP_WRITE, u, AV_DRIVERS "/vfio-pci/unbind", bdf, NULL);
	}
	if (r >= 0 && loaded)
		r = av_plan_step(p, AV_STEP_MODULE_UNLOAD, u, "gim", NULL, "through libkmod");
	if (r >= 0 && loaded)
		r = av_plan_check(p, u, false, AV_CHECK_ABSENT, GIM_SYS, NULL, NULL);
	for (int k = 0; k < n && r >= 0; k++) {
		snprintf(path, sizeof(path), "%s/%s", AV_DEVICES, m->funcs[vfs[k].idx].bdf);
		r = av_plan_check(p, u, false, AV_CHECK_ABSENT, path, NULL, "gim disabled SR-IOV");
	}
	if (r >= 0)
		r = restore_records(m, host, st, p, u, loaded);
	if (r >= 0 && list[0])
		r = av_plan_step(p, AV_STEP_FORGET, u, AV_STATE_FILE, list, NULL);
out:
	free(vfs);
	free(pfs);
	return r < 0 ? r : 0;
}

int av_plan_gim_unload(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out)
{
	struct av_host *host = opts ? opts->host : NULL;
	struct av_state st = { 0 };
	char *cause = NULL;
	memset(out, 0, sizeof(*out));
	int r = host ? av_state_load(host, &st, &cause) : 0;
	if (r < 0) {
		r = av_plan_title(out, "unload gim");
		if (r == 0)
			r = av_plan_refuse(out, "%s", cause ? cause : "cannot read the state file");
		free(cause);
	} else {
		r = plan_unload(m, host, &st, out);
	}
	av_state_clear(&st);
	if (r < 0)
		av_plan_clear(out);
	return r;
}
