/* Allocation policy of the device plugin: pure functions of the device
 * list (struct av_resources) and, for names and paths, the model.
 *
 * The hive rule (contract section 4): devices whose GPUs share an XGMI
 * hive are handed out as 1, 2 or 4 devices of one hive, or as whole hives.
 * A hive's size is the number of devices the plugin lists for it.  Devices
 * outside any hive are not constrained. */
#ifndef AV_PLUGIN_ALLOC_H
#define AV_PLUGIN_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "host/model.h"
#include "host/resources.h"

/* Index of the device with this ID, or -1. */
int av_alloc_find(const struct av_resources *r, const char *id);

/* Whether the devices (indexes into r->devices) form a valid hive shape.
 * When not, writes a sentence for the operator into why. */
bool av_alloc_hive_ok(const struct av_resources *r, const struct av_model *m,
                      const int *devs, int n, char *why, size_t size);

/* Validates an Allocate request: every ID known, listed once, healthy, and
 * the set hive-shaped.  Fills devs (n entries) with device indexes.
 * Returns 0 or a gRPC status code with why filled in. */
int av_alloc_check(const struct av_resources *r, const struct av_model *m,
                   const char *const *ids, int n, int *devs, char *why, size_t size);

/* GetPreferredAllocation: picks size devices from avail, including every
 * must (both lists of device indexes, in kubelet's order).  Prefers a valid
 * hive shape, then a single NUMA node, then kubelet's order.  Writes the
 * choice into out (room for size entries) and returns its length, which is
 * smaller than size only when avail is too short. */
int av_alloc_prefer(const struct av_resources *r, const int *avail, int n_avail,
                    const int *must, int n_must, int size, int *out);

/* What a container gets for a set of devices. */
struct av_alloc_spec {
	char path[64];               /* container path = host path */
};

struct av_alloc_grant {
	char env_name[96];           /* "" in container mode */
	char *env_value;             /* comma-separated BDFs, allocated */
	struct av_alloc_spec *specs;
	int n_specs;
	const char *permissions;     /* "mrw" (vfio) or "rw" (kfd, dri) */
};

/* Builds env and device specs for devs (already checked).  Returns 0 or
 * -ENOMEM. */
int av_alloc_grant(const struct av_resources *r, const struct av_model *m,
                   const int *devs, int n, struct av_alloc_grant *out);
void av_alloc_grant_clear(struct av_alloc_grant *g);

#endif
