#ifndef AV_ACTIONS_TARGETS_H
#define AV_ACTIONS_TARGETS_H

#include "actions/internal.h"

struct av_targets {
	int *funcs;              /* model indexes, as named */
	int n_funcs;
	int *groups;             /* their IOMMU group ids, ascending */
	int n_groups;
};

/* Resolves BDFs and --all (the model's selection); what cannot be done
 * becomes a refusal in p.  av_targets_finish then finds the groups and
 * refuses an empty request.  Both return 0 or -ENOMEM. */
int av_targets_resolve(const struct av_model *m, const char *const *bdfs, int n_bdfs, bool all,
                       struct av_plan *p, struct av_targets *t);
int av_targets_add(struct av_targets *t, int idx);
int av_targets_finish(const struct av_model *m, bool all, const char *verb, struct av_plan *p,
                      struct av_targets *t);
void av_targets_clear(struct av_targets *t);
bool av_int_has(const int *arr, int n, int v);

#endif
