/* What the DRA driver publishes: a pure function of the model and the
 * device list the device plugin would advertise (src/host/resources.c),
 * so that both serve the same devices under the same selection, health and
 * mode rules.  One pool per node, named after it; one device per healthy
 * IOMMU group (an unhealthy one leaves the slice, the scheduler must not
 * place a VM on it); doc/dra.md lists the attributes. */
#ifndef AV_DRA_SLICE_H
#define AV_DRA_SLICE_H

#include <cjson/cJSON.h>

#include "host/model.h"
#include "host/resources.h"

/* Host facts the model does not carry. */
struct av_dra_facts {
	const char *gim_version;     /* /sys/module/gim/version, NULL when absent */
};

/* The ResourceSlice device name of device i of r ("vf-0000-c1-02-0"),
 * from its first function. */
void av_dra_slice_device_name(const struct av_model *m, const struct av_resources *r, int i,
                              char *out, size_t size);
/* Index of the device with that name among r's healthy devices, or -1. */
int av_dra_slice_find(const struct av_model *m, const struct av_resources *r, const char *name);

/* One device's "attributes" object, keys as a ResourceSlice has them
 * (the driver's own unqualified).  qualified: every key with its domain, as
 * the device-metadata file has them.  NULL on allocation failure. */
cJSON *av_dra_slice_attributes(const struct av_model *m, const struct av_resources *r, int i,
                               const struct av_dra_facts *facts, bool qualified);

/* spec.devices: the healthy devices in r's order, at most
 * AV_DRA_MAX_DEVICES (*left_out says how many more there were).  NULL on
 * allocation failure. */
cJSON *av_dra_slice_devices(const struct av_model *m, const struct av_resources *r,
                            const struct av_dra_facts *facts, int *left_out);

/* The whole object for node: metadata.name when name is not NULL (an
 * update), else generateName; the Node as owner when node_uid is not NULL.
 * Takes devices.  NULL on allocation failure. */
cJSON *av_dra_slice_object(const char *node, const char *node_uid, const char *name,
                           const char *resource_version, long long generation, cJSON *devices);

#endif
