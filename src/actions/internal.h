/* Shared by the plan builders, the executor and the state file. */
#ifndef AV_ACTIONS_INTERNAL_H
#define AV_ACTIONS_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "actions/actions.h"

#define AV_DEVICES "/sys/bus/pci/devices"
#define AV_DRIVERS "/sys/bus/pci/drivers"
#define AV_PROBE "/sys/bus/pci/drivers_probe"
#define AV_STATE_FILE "/var/lib/amdvirt/state.json"
#define AV_LOCK_FILE "/run/amdvirt.lock"

/* What planning needs to know about one function, from the live host when
 * there is one, else from the model. */
struct av_fn_facts {
	char driver[AV_DRIVER_LEN];
	char driver_override[AV_DRIVER_LEN];
	int enable;              /* -1 unknown */
	int sriov_total;         /* -1 not SR-IOV capable */
	int sriov_num;
	int autoprobe;           /* -1 absent */
	char physfn[AV_BDF_LEN]; /* "" when not a VF */
};

void av_fn_facts_get(const struct av_model *m, struct av_host *host, int idx, struct av_fn_facts *out);
/* True when some process of ROOT/proc holds path (a host path) open. */
bool av_path_is_open(struct av_host *host, const char *path);

/* Plan building.  Every helper returns 0 or -ENOMEM; they keep the plan
 * consistent so that av_plan_clear frees whatever was built. */
int av_plan_title(struct av_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int av_plan_refuse(struct av_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int av_plan_note(struct av_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int av_plan_step(struct av_plan *p, enum av_step_kind kind, int unit, const char *path, const char *value,
                 const char *why);
int av_plan_check(struct av_plan *p, int unit, bool pre, enum av_check check, const char *path,
                  const char *value, const char *why);
/* Adds a unit; returns its index or -ENOMEM. */
int av_plan_unit(struct av_plan *p, int iommu_group, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int av_plan_save(struct av_plan *p, int unit, const struct av_saved_func *s);

/* Small helpers for the builders. */
int av_plan_write_fn(struct av_plan *p, int unit, const char *bdf, const char *attr, const char *value,
                     const char *why);
const char *av_driver_text(const char *driver); /* "" -> "(none)" */
void av_plan_print_step(FILE *out, const struct av_step *s);

/* Executes a VERIFY step; wait lets a post-condition settle.  Returns 0 or
 * -EAGAIN with *cause saying what was found. */
int av_check_step(struct av_host *host, const struct av_step *s, bool wait, char **cause);
int av_actions_settle_ms(void);
/* Puts a function back as saved (driver only when s->binding), logging
 * each write to log.  Best effort: returns the first error. */
int av_restore_func(struct av_host *host, const struct av_saved_func *s, FILE *log);

#endif
