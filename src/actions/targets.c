/* The functions a bind/unbind request names, and their IOMMU groups. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actions/targets.h"
#include "base/util.h"

bool av_int_has(const int *arr, int n, int v)
{
	for (int i = 0; i < n; i++)
		if (arr[i] == v)
			return true;
	return false;
}

static int add(int **arr, int *n, int v)
{
	return av_int_has(*arr, *n, v) ? 0 : av_int_push(arr, n, v);
}

int av_targets_resolve(const struct av_model *m, const char *const *bdfs, int n_bdfs, bool all,
                       struct av_plan *p, struct av_targets *t)
{
	memset(t, 0, sizeof(*t));
	if (all)
		for (int i = 0; i < m->n_funcs; i++)
			if (m->funcs[i].selected && add(&t->funcs, &t->n_funcs, i) < 0)
				return -ENOMEM;
	for (int k = 0; k < n_bdfs; k++) {
		char bdf[AV_BDF_LEN];
		int i = -1, r;
		if (av_bdf_normalise(bdfs[k], bdf) < 0)
			r = av_plan_refuse(p, "'%s' is not a PCI address (use DDDD:BB:DD.F)", bdfs[k]);
		else if ((i = av_model_find(m, bdf)) < 0)
			r = av_plan_refuse(p, "%s: no such PCI function", bdf);
		else if (m->funcs[i].is_bridge)
			r = av_plan_refuse(p, "%s is a bridge: vfio-pci does not take bridges and the group keeps it on its "
			                      "host driver", bdf);
		else
			r = add(&t->funcs, &t->n_funcs, i);
		if (r < 0)
			return r;
	}
	return 0;
}

int av_targets_add(struct av_targets *t, int idx)
{
	return add(&t->funcs, &t->n_funcs, idx);
}

int av_targets_finish(const struct av_model *m, bool all, const char *verb, struct av_plan *p,
                      struct av_targets *t)
{
	for (int k = 0; k < t->n_funcs; k++) {
		const struct av_func *f = &m->funcs[t->funcs[k]];
		int r = 0;
		if (f->iommu_group < 0 || !av_model_group(m, f->iommu_group))
			r = av_plan_refuse(p, "%s has no IOMMU group: is the IOMMU enabled (intel_iommu=on / amd_iommu=on)?",
			                   f->bdf);
		else
			r = add(&t->groups, &t->n_groups, f->iommu_group);
		if (r < 0)
			return r;
	}
	if (!t->n_funcs && !p->n_refusals) {
		if (all)
			return av_plan_refuse(p, "nothing to %s: the mode (%s) and configuration select no function",
			                      verb, av_mode_name(m->mode));
		return av_plan_refuse(p, "nothing to %s: name functions or use --all", verb);
	}
	/* Groups in id order make plans stable whatever order names came in. */
	for (int a = 1; a < t->n_groups; a++)
		for (int b = a; b > 0 && t->groups[b - 1] > t->groups[b]; b--) {
			int x = t->groups[b];
			t->groups[b] = t->groups[b - 1];
			t->groups[b - 1] = x;
		}
	return 0;
}

void av_targets_clear(struct av_targets *t)
{
	free(t->funcs);
	free(t->groups);
	memset(t, 0, sizeof(*t));
}
