/* Host mutations (bind/unbind to vfio-pci, gim load/unload) as plans: an
 * ordered list of exact steps that is printed for --dry-run and shown by
 * the console before confirmation, then executed under a lock with
 * verification and rollback. */
#ifndef AV_ACTIONS_H
#define AV_ACTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "host/host.h"
#include "host/model.h"

enum av_step_kind {
	AV_STEP_WRITE,           /* write value to a sysfs path */
	AV_STEP_MODULE_LOAD,     /* libkmod insert (path = module name or file, value = params) */
	AV_STEP_MODULE_UNLOAD,
	AV_STEP_VERIFY,          /* a post-condition; value says what */
	AV_STEP_RECORD,          /* add the unit's previous state to ROOT/var/lib/amdvirt/state.json */
	AV_STEP_FORGET,          /* drop the unit's functions from the state file */
	AV_STEP_FILE,            /* a configuration file: path gets value atomically; NULL value removes it */
};

/* What a VERIFY step tests, so that it can be executed and not only read. */
enum av_check {
	AV_CHECK_DRIVER,         /* path is a device directory; value the driver name, "" for none */
	AV_CHECK_TEXT,           /* the file reads value ("" also matches "(null)") */
	AV_CHECK_EXISTS,
	AV_CHECK_ABSENT,
	AV_CHECK_NOT_OPEN,       /* no process of ROOT/proc holds path open */
	AV_CHECK_POSITIVE,       /* the file holds an integer > 0 */
};

struct av_step {
	enum av_step_kind kind;
	char *path;
	char *value;
	char *why;               /* short reason, for people */
	enum av_check check;     /* VERIFY only */
	bool pre;                /* VERIFY: a precondition (checked once, before changes) */
	bool undo;               /* MODULE_LOAD: unload again on rollback */
	int unit;                /* index into plan->units, -1 for host-wide steps */
};

/* The state of one function before a plan touches it: what rollback and
 * `unbind` restore. */
struct av_saved_func {
	char bdf[AV_BDF_LEN];
	char driver[AV_DRIVER_LEN];          /* "" when it had none */
	char driver_override[AV_DRIVER_LEN]; /* "" when unset */
	int iommu_group;
	int autoprobe;                       /* PF sriov_drivers_autoprobe to restore, -1 untouched */
	bool binding;                        /* the plan moves its driver: record it for unbind */
};

/* The unit of work and of rollback: one IOMMU group (bind/unbind) or the
 * set of PFs and VFs a GIM load/unload touches. */
struct av_plan_unit {
	char *what;              /* "group 11" */
	int iommu_group;         /* -1 when not a group */
	struct av_saved_func *saved;
	int n_saved;
};

struct av_plan {
	char *title;             /* "bind 0000:05:02.0 (group 11) to vfio-pci" */
	struct av_step *steps;
	int n_steps;
	char **refusals;         /* why (parts of) the request cannot be done */
	int n_refusals;
	char **notes;            /* what needs nothing, and what follows ("already on vfio-pci") */
	int n_notes;
	struct av_plan_unit *units;
	int n_units;
};

struct av_action_opts {
	bool all;                /* every function the mode/config selects */
	bool force;              /* bind even with other endpoints on host drivers */
	const char *const *params;   /* gim NAME=VALUE */
	int n_params;
	const char *module_path; /* gim .ko file */
	bool bind_after_load;
	/* Optional: the live host, for what the model does not carry (the
	 * override, enable count and SR-IOV state of non-GPU functions, open
	 * /dev/vfio nodes, loaded modules).  NULL plans from the model alone. */
	struct av_host *host;
	const char *expect_version; /* gim: spec.driver.version, NULL to skip */
};

/* Planning is a function of the model, the request and (when opts->host is
 * set) a read-only look at the live host.  Each returns 0 with a plan that
 * may hold refusals, or -errno (-ENOMEM) with nothing to free. */
int av_plan_bind(const struct av_model *m, const char *const *bdfs, int n_bdfs,
                 const struct av_action_opts *opts, struct av_plan *out);
int av_plan_unbind(const struct av_model *m, struct av_host *host, const char *const *bdfs, int n_bdfs,
                   const struct av_action_opts *opts, struct av_plan *out);
int av_plan_gim_load(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out);
int av_plan_gim_unload(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out);

/* Driver management (the daemon): with a DeviceConfig that enables it
 * (spec.driver.enable, default true) and names a passthrough driverType,
 * the next plan that brings the host to what it asks: in vf-passthrough
 * the amdgpu blacklist (spec.driver.blacklist), `gim load` until gim is
 * loaded, then `bind --all`; in pf-passthrough
 * `bind --all`.  The plan is empty when there is nothing to do; it may
 * hold refusals.  opts supplies host, params and module_path.  Returns 0
 * or -ENOMEM.  av_manage_off_reason says why management is off (NULL
 * when it is on). */
const char *av_manage_off_reason(const struct av_model *m);
/* spec.driver.blacklist: true writes ROOT/etc/modprobe.d/blacklist-amdgpu.conf
 * (unless it already blacklists amdgpu; refused when someone else's file has
 * that name), false removes it when amdvirt wrote it, unset plans nothing. */
int av_plan_blacklist(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out);
int av_plan_manage(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out);

/* Prints the plan exactly as it would run. */
void av_plan_print(FILE *out, const struct av_plan *plan);

/* Adds the same plan to a JSON object (doc/json.md, "Action plans"):
 * title, refusals, notes, steps (lock first) and the rollback record. */
struct cJSON;
void av_plan_add_json(struct cJSON *obj, const struct av_plan *plan);

/* Runs a plan: takes ROOT/run/amdvirt.lock, applies the steps, verifies,
 * and on failure rolls back what it changed.  Progress and results are
 * written as lines to log (may be NULL).  Returns 0, or -errno with *cause. */
int av_plan_execute(struct av_host *host, const struct av_plan *plan, FILE *log, char **cause);
void av_plan_clear(struct av_plan *plan);

/* How long post-condition checks wait for the kernel (asynchronous probes,
 * devtmpfs nodes).  Default 5000 ms; tests use 0. */
void av_actions_set_settle_ms(int ms);

#endif
