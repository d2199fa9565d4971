/* Planning vfio-pci binds, one IOMMU group at a time (host-research 7). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/targets.h"
#include "base/util.h"

#define TRY(x) do { int r_ = (x); if (r_ < 0) return r_; } while (0)

static bool on_stub(const char *driver)
{
	return strcmp(driver, "vfio-pci") == 0 || strcmp(driver, "pci-stub") == 0;
}

/* Which members of a group move to vfio-pci; refusals for the rest.  A
 * group is only usable by a VM when no endpoint in it is on a host driver,
 * so every unbound endpoint comes along (nothing else may grab it later). */
static int choose_members(const struct av_model *m, const struct av_action_opts *opts, const struct av_group *g,
                          const struct av_targets *t, struct av_plan *p, int **move, int *n_move)
{
	bool force = opts && opts->force;
	for (int k = 0; k < g->n_members; k++) {
		int i = g->members[k];
		const struct av_func *f = &m->funcs[i];
		struct av_fn_facts fx;
		if (f->is_bridge)
			continue;
		av_fn_facts_get(m, opts ? opts->host : NULL, i, &fx);
		bool named = av_int_has(t->funcs, t->n_funcs, i);
		if (strcmp(fx.driver, "vfio-pci") == 0 || (!named && on_stub(fx.driver))) {
			if (named)
				TRY(av_plan_note(p, "%s is already on vfio-pci", f->bdf));
			continue;
		}
		if (!named && fx.driver[0] && !force) {
			TRY(av_plan_refuse(p, "group %d: %s is on the host driver %s; binding the group would take it "
			                      "from the host (name it too, or use --force)", g->id, f->bdf, fx.driver));
			continue;
		}
		if (fx.sriov_num > 0) {
			TRY(av_plan_refuse(p, "%s has %d VFs enabled: vfio-pci refuses such a PF and leaves it without a "
			                      "driver (disable the VFs first, or bind the VFs)", f->bdf, fx.sriov_num));
			continue;
		}
		if (f->boot_vga && !force) {
			TRY(av_plan_refuse(p, "%s is the boot VGA device (the host console may use it); use --force",
			                   f->bdf));
			continue;
		}
		TRY(av_int_push(move, n_move, i));
	}
	return 0;
}

static int plan_group(const struct av_model *m, const struct av_action_opts *opts, const struct av_group *g,
                      const int *move, int n_move, struct av_plan *p)
{
	char path[128], bdf_list[512] = "";
	int u = av_plan_unit(p, g->id, "group %d", g->id);
	TRY(u);
	for (int k = 0; k < n_move; k++) {
		const struct av_func *f = &m->funcs[move[k]];
		struct av_fn_facts fx;
		av_fn_facts_get(m, opts ? opts->host : NULL, move[k], &fx);
		struct av_saved_func s = { .iommu_group = g->id, .autoprobe = -1, .binding = true };
		memcpy(s.bdf, f->bdf, sizeof(s.bdf));
		memcpy(s.driver, fx.driver, sizeof(s.driver));
		memcpy(s.driver_override, fx.driver_override, sizeof(s.driver_override));
		TRY(av_plan_save(p, u, &s));
		snprintf(path, sizeof(path), "%s/%s", AV_DEVICES, f->bdf);
		TRY(av_plan_check(p, u, true, AV_CHECK_DRIVER, path, fx.driver, "unchanged since planning"));
		if (fx.sriov_total >= 0) {
			snprintf(path, sizeof(path), "%s/%s/sriov_numvfs", AV_DEVICES, f->bdf);
			TRY(av_plan_check(p, u, true, AV_CHECK_TEXT, path, "0", "vfio-pci refuses a PF with VFs"));
		}
		size_t len = strlen(bdf_list);
		snprintf(bdf_list + len, sizeof(bdf_list) - len, "%s%s was on %s", len ? ", " : "", f->bdf,
		         av_driver_text(fx.driver));
	}
	TRY(av_plan_step(p, AV_STEP_RECORD, u, AV_STATE_FILE, bdf_list, "what unbind restores"));
	for (int k = 0; k < n_move; k++) {
		const struct av_func *f = &m->funcs[move[k]];
		struct av_fn_facts fx;
		av_fn_facts_get(m, opts ? opts->host : NULL, move[k], &fx);
		TRY(av_plan_write_fn(p, u, f->bdf, "driver_override", "vfio-pci",
		                     "before unbinding, so no other driver can take it"));
		if (fx.driver[0]) {
			snprintf(path, sizeof(path), "%s/%s/unbind", AV_DRIVERS, fx.driver);
			TRY(av_plan_step(p, AV_STEP_WRITE, u, path, f->bdf, NULL));
		}
		TRY(av_plan_step(p, AV_STEP_WRITE, u, AV_PROBE, f->bdf, NULL));
		snprintf(path, sizeof(path), "%s/%s", AV_DEVICES, f->bdf);
		TRY(av_plan_check(p, u, false, AV_CHECK_DRIVER, path, "vfio-pci", NULL));
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", g->id);
	return av_plan_check(p, u, false, AV_CHECK_EXISTS, path, NULL, "the group is usable");
}

static int title(const struct av_model *m, const struct av_targets *t, const char *verb, const char *to,
                 struct av_plan *p)
{
	if (t->n_funcs == 1)
		return av_plan_title(p, "%s %s (group %d) %s", verb, m->funcs[t->funcs[0]].bdf,
		                     m->funcs[t->funcs[0]].iommu_group, to);
	return av_plan_title(p, "%s %d functions in %d IOMMU group%s %s", verb, t->n_funcs, t->n_groups,
	                     t->n_groups == 1 ? "" : "s", to);
}

static int plan_bind(const struct av_model *m, const char *const *bdfs, int n_bdfs,
                     const struct av_action_opts *opts, struct av_plan *p, struct av_targets *t)
{
	TRY(av_targets_resolve(m, bdfs, n_bdfs, opts && opts->all, p, t));
	TRY(av_targets_finish(m, opts && opts->all, "bind", p, t));
	TRY(title(m, t, "bind", "to vfio-pci", p));
	if (p->n_refusals)
		return 0;
	bool loaded = false;
	int moved = 0, moved_groups = 0, first = -1;
	for (int k = 0; k < t->n_groups; k++) {
		const struct av_group *g = av_model_group(m, t->groups[k]);
		int *move = NULL, n_move = 0;
		int r = choose_members(m, opts, g, t, p, &move, &n_move);
		if (r == 0 && n_move && !p->n_refusals) {
			moved += n_move;
			moved_groups++;
			if (first < 0)
				first = move[0];
			if (!loaded) {
				r = av_plan_step(p, AV_STEP_MODULE_LOAD, -1, "vfio-pci", "", "through libkmod");
				if (r == 0)
					r = av_plan_check(p, -1, false, AV_CHECK_EXISTS, AV_DRIVERS "/vfio-pci", NULL, NULL);
				loaded = true;
			}
			if (r == 0)
				r = plan_group(m, opts, g, move, n_move, p);
		}
		free(move);
		TRY(r);
	}
	/* The title says what moves when some targets are already there (the
	 * notes name those): "bind 1 function" after a rescan, not "bind 8". */
	if (!p->n_refusals && moved == 1 && t->n_funcs > 1)
		TRY(av_plan_title(p, "bind %s (group %d) to vfio-pci", m->funcs[first].bdf, m->funcs[first].iommu_group));
	else if (!p->n_refusals && moved > 1 && moved < t->n_funcs)
		TRY(av_plan_title(p, "bind %d functions in %d IOMMU group%s to vfio-pci", moved, moved_groups,
		                  moved_groups == 1 ? "" : "s"));
	return 0;
}

int av_plan_bind(const struct av_model *m, const char *const *bdfs, int n_bdfs,
                 const struct av_action_opts *opts, struct av_plan *out)
{
	struct av_targets t;
	memset(out, 0, sizeof(*out));
	int r = plan_bind(m, bdfs, n_bdfs, opts, out, &t);
	av_targets_clear(&t);
	if (r < 0)
		av_plan_clear(out);
	return r;
}
