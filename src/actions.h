/* Host mutations (bind/unbind to vfio-pci, gim load/unload) as plans: an
 * ordered list of exact steps that is printed for --dry-run and shown by
 * the console before confirmation, then executed under a lock with
 * verification and rollback. */
#ifndef AV_ACTIONS_H
#define AV_ACTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "host.h"
#include "model.h"

enum av_step_kind {
	AV_STEP_WRITE,           /* write value to a sysfs path */
	AV_STEP_MODULE_LOAD,     /* libkmod insert (path = module name or file, value = params) */
	AV_STEP_MODULE_UNLOAD,
	AV_STEP_VERIFY,          /* a post-condition; value says what */
};

struct av_step {
	enum av_step_kind kind;
	char *path;
	char *value;
	char *why;               /* short reason, for people */
};

struct av_plan {
	char *title;             /* "bind 0000:05:02.0 (group 11) to vfio-pci" */
	struct av_step *steps;
	int n_steps;
	char **refusals;         /* why (parts of) the request cannot be done */
	int n_refusals;
};

struct av_action_opts {
	bool all;                /* every function the mode/config selects */
	bool force;              /* bind even with other endpoints on host drivers */
	const char *const *params;   /* gim NAME=VALUE */
	int n_params;
	const char *module_path; /* gim .ko file */
	bool bind_after_load;
};

/* Planning is pure: a function of the model and the request. */
int av_plan_bind(const struct av_model *m, const char *const *bdfs, int n_bdfs,
                 const struct av_action_opts *opts, struct av_plan *out);
int av_plan_unbind(const struct av_model *m, struct av_host *host, const char *const *bdfs, int n_bdfs,
                   const struct av_action_opts *opts, struct av_plan *out);
int av_plan_gim_load(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out);
int av_plan_gim_unload(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out);

/* Prints the plan exactly as it would run. */
void av_plan_print(FILE *out, const struct av_plan *plan);

/* Runs a plan: takes ROOT/run/amdvirt.lock, applies the steps, verifies,
 * and on failure rolls back what it changed.  Progress and results are
 * written as lines to log (may be NULL).  Returns 0, or -errno with *cause. */
int av_plan_execute(struct av_host *host, const struct av_plan *plan, FILE *log, char **cause);
void av_plan_clear(struct av_plan *plan);

#endif
