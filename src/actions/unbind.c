/* Planning the way back from vfio-pci to what state.json recorded. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/state.h"
#include "actions/targets.h"
#include "base/util.h"

#define TRY(x) do { int r_ = (x); if (r_ < 0) return r_; } while (0)

struct ctx {
	const struct av_model *m;
	struct av_host *host;
	const struct av_action_opts *opts;
	const struct av_state *st;
	struct av_plan *p;
};

/* Steps for one function: from what it is on now (fx) back to rec, its
 * state.json record, or to normal driver matching when it has none.  A
 * function with a record may be anywhere between its driver and vfio-pci
 * when a bind or unbind was killed half-way; the same steps repair it. */
static int plan_func(struct ctx *c, int u, const struct av_func *f, const struct av_fn_facts *fx,
                     const struct av_saved_func *rec)
{
	char path[128], drvdir[128];
	const char *back = rec ? rec->driver : "";
	const char *override = rec && rec->driver_override[0] ? rec->driver_override : "\n";
	const char *cur = fx->driver;

	if (rec && strcmp(cur, back) == 0) {
		/* Only the override is left to put back (or nothing at all). */
		if (strcmp(fx->driver_override, rec->driver_override) != 0)
			TRY(av_plan_write_fn(c->p, u, f->bdf, "driver_override", override, "as recorded"));
		return 0;
	}
	snprintf(drvdir, sizeof(drvdir), "%s/%s", AV_DRIVERS, back);
	if (back[0] && c->host && !av_exists(c->host, drvdir)) {
		if (!(c->opts && c->opts->force))
			return av_plan_refuse(c->p, "%s: its recorded driver %s is not loaded (%s is missing); load it, or "
			                            "use --force to leave the function without a driver",
			                      f->bdf, back, drvdir);
		TRY(av_plan_note(c->p, "%s: %s is not loaded; the function stays without a driver", f->bdf, back));
		back = "";
	}
	if (!rec)
		TRY(av_plan_note(c->p, "%s: no record in %s; it goes back to normal driver matching", f->bdf,
		                 AV_STATE_FILE));
	/* The restored driver goes into driver_override while the device is
	 * unbound, for the same reason bind does it: no other driver can slip
	 * in, and a VF is probed even when its PF has autoprobe off. */
	TRY(av_plan_write_fn(c->p, u, f->bdf, "driver_override", back[0] ? back : override,
	                     back[0] ? "only the recorded driver may take it" : "as recorded"));
	if (cur[0]) {
		snprintf(path, sizeof(path), "%s/%s/unbind", AV_DRIVERS, cur);
		TRY(av_plan_step(c->p, AV_STEP_WRITE, u, path, f->bdf, NULL));
	}
	snprintf(path, sizeof(path), "%s/%s", AV_DEVICES, f->bdf);
	if (back[0]) {
		snprintf(drvdir, sizeof(drvdir), "%s/%s/bind", AV_DRIVERS, back);
		TRY(av_plan_step(c->p, AV_STEP_WRITE, u, drvdir, f->bdf, NULL));
		TRY(av_plan_check(c->p, u, false, AV_CHECK_DRIVER, path, back, NULL));
		if (strcmp(back, override) != 0)
			TRY(av_plan_write_fn(c->p, u, f->bdf, "driver_override", override, "as recorded"));
	} else if (rec) {
		TRY(av_plan_check(c->p, u, false, AV_CHECK_DRIVER, path, "", NULL));
	} else {
		TRY(av_plan_step(c->p, AV_STEP_WRITE, u, AV_PROBE, f->bdf, NULL));
	}
	return 0;
}

static const struct av_saved_func *record_of(const struct ctx *c, const char *bdf)
{
	const struct av_state_entry *e = av_state_find(c->st, bdf);
	return e && e->f.binding ? &e->f : NULL;
}

/* The group's functions unbind takes back: those on vfio-pci, and those
 * with a record whatever they are on now.  Refusals for those in use. */
static int choose(struct ctx *c, const struct av_group *g, int **fns, int *n, bool *on_vfio)
{
	int r = 0;
	*on_vfio = false;
	for (int k = 0; k < g->n_members && r == 0; k++) {
		const struct av_func *f = &c->m->funcs[g->members[k]];
		struct av_fn_facts fx;
		av_fn_facts_get(c->m, c->host, g->members[k], &fx);
		bool vfio = strcmp(fx.driver, "vfio-pci") == 0;
		const struct av_saved_func *rec = record_of(c, f->bdf);
		if (f->is_bridge || (!vfio && !rec))
			continue;
		if (vfio && fx.enable > 0) {
			r = av_plan_refuse(c->p, "%s is in use (enable=%d): a VM or program has it open; stop it first",
			                   f->bdf, fx.enable);
			continue;
		}
		if (!vfio && (strcmp(fx.driver, rec->driver) || strcmp(fx.driver_override, rec->driver_override)))
			r = av_plan_note(c->p, "%s is on %s with driver_override \"%s\", half-way to vfio-pci (an interrupted "
			                       "bind or unbind): it is restored as recorded", f->bdf,
			                 av_driver_text(fx.driver), fx.driver_override);
		else if (!vfio)
			r = av_plan_note(c->p, "%s is as recorded; only its record is left to drop", f->bdf);
		*on_vfio = *on_vfio || vfio;
		if (r == 0)
			r = av_int_push(fns, n, g->members[k]);
	}
	return r;
}

static int plan_group(struct ctx *c, const struct av_group *g)
{
	char path[128], list[512] = "";
	int *fns = NULL, n = 0, refused = c->p->n_refusals;
	bool on_vfio;

	int r = choose(c, g, &fns, &n, &on_vfio);
	snprintf(path, sizeof(path), "/dev/vfio/%d", g->id);
	if (r == 0 && on_vfio && c->host && av_path_is_open(c->host, path))
		r = av_plan_refuse(c->p, "group %d is in use: %s is open; stop the VM first", g->id, path);
	if (r < 0 || !n || c->p->n_refusals) {
		if (r == 0 && !n && refused == c->p->n_refusals)
			r = av_plan_note(c->p, "group %d: nothing is on vfio-pci, and %s has no record for it", g->id,
			                 AV_STATE_FILE);
		free(fns);
		return r;
	}
	int u = av_plan_unit(c->p, g->id, "group %d", g->id);
	struct av_fn_facts *fx = u >= 0 ? calloc((size_t)n, sizeof(*fx)) : NULL;
	if (!fx)
		u = -ENOMEM;
	for (int k = 0; k < n && u >= 0; k++) {
		const struct av_func *f = &c->m->funcs[fns[k]];
		av_fn_facts_get(c->m, c->host, fns[k], &fx[k]);
		struct av_saved_func s = { .iommu_group = g->id, .autoprobe = -1, .binding = true };
		memcpy(s.bdf, f->bdf, sizeof(s.bdf));
		memcpy(s.driver, fx[k].driver, sizeof(s.driver));
		memcpy(s.driver_override, fx[k].driver_override, sizeof(s.driver_override));
		if (av_plan_save(c->p, u, &s) < 0)
			u = -ENOMEM;
	}
	for (int k = 0; k < n && u >= 0 && r == 0; k++) {
		const struct av_func *f = &c->m->funcs[fns[k]];
		snprintf(path, sizeof(path), "%s/%s", AV_DEVICES, f->bdf);
		r = av_plan_check(c->p, u, true, AV_CHECK_DRIVER, path, fx[k].driver, "unchanged since planning");
		if (r == 0 && c->host && strcmp(fx[k].driver, "vfio-pci") == 0) {
			snprintf(path, sizeof(path), "%s/%s/enable", AV_DEVICES, f->bdf);
			if (av_exists(c->host, path))
				r = av_plan_check(c->p, u, true, AV_CHECK_TEXT, path, "0", "not in use");
		}
		size_t len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", f->bdf);
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", g->id);
	if (u >= 0 && r == 0 && on_vfio)
		r = av_plan_check(c->p, u, true, AV_CHECK_NOT_OPEN, path, NULL, "no VM holds the group");
	for (int k = 0; k < n && u >= 0 && r == 0; k++)
		r = plan_func(c, u, &c->m->funcs[fns[k]], &fx[k], record_of(c, c->m->funcs[fns[k]].bdf));
	if (u >= 0 && r == 0 && on_vfio)
		r = av_plan_check(c->p, u, false, AV_CHECK_ABSENT, path, NULL, "vfio released the group");
	if (u >= 0 && r == 0)
		r = av_plan_step(c->p, AV_STEP_FORGET, u, AV_STATE_FILE, list, NULL);
	free(fx);
	free(fns);
	return u < 0 ? u : r;
}

static int plan_unbind(struct ctx *c, const char *const *bdfs, int n_bdfs, struct av_targets *t)
{
	bool all = c->opts && c->opts->all;
	TRY(av_targets_resolve(c->m, bdfs, n_bdfs, all, c->p, t));
	/* --all also takes back whatever amdvirt bound before, selected or not. */
	for (int i = 0; all && i < c->m->n_funcs; i++) {
		const struct av_state_entry *e = av_state_find(c->st, c->m->funcs[i].bdf);
		if (e && e->f.binding)
			TRY(av_targets_add(t, i));
	}
	TRY(av_targets_finish(c->m, all, "unbind", c->p, t));
	if (t->n_funcs == 1)
		TRY(av_plan_title(c->p, "unbind %s (group %d) from vfio-pci", c->m->funcs[t->funcs[0]].bdf,
		                  c->m->funcs[t->funcs[0]].iommu_group));
	else
		TRY(av_plan_title(c->p, "unbind %d functions in %d IOMMU group%s from vfio-pci", t->n_funcs, t->n_groups,
		                  t->n_groups == 1 ? "" : "s"));
	for (int k = 0; k < t->n_groups && !c->p->n_refusals; k++)
		TRY(plan_group(c, av_model_group(c->m, t->groups[k])));
	return 0;
}

int av_plan_unbind(const struct av_model *m, struct av_host *host, const char *const *bdfs, int n_bdfs,
                   const struct av_action_opts *opts, struct av_plan *out)
{
	struct av_state st;
	struct av_targets t = { 0 };
	char *cause = NULL;
	memset(out, 0, sizeof(*out));
	if (!host && opts)
		host = opts->host;
	int r = host ? av_state_load(host, &st, &cause) : (memset(&st, 0, sizeof(st)), 0);
	if (r < 0) {
		r = av_plan_title(out, "unbind from vfio-pci");
		if (r == 0)
			r = av_plan_refuse(out, "%s", cause ? cause : "cannot read the state file");
		free(cause);
		if (r < 0)
			av_plan_clear(out);
		return r;
	}
	struct ctx c = { .m = m, .host = host, .opts = opts, .st = &st, .p = out };
	r = plan_unbind(&c, bdfs, n_bdfs, &t);
	av_targets_clear(&t);
	av_state_clear(&st);
	if (r < 0)
		av_plan_clear(out);
	return r;
}
