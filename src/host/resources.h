/* What the device plugin advertises (contract section 4): a pure function
 * of the model. */
#ifndef AV_RESOURCES_H
#define AV_RESOURCES_H

#include <stdbool.h>

#include <stddef.h>
#include "host/model.h"

enum av_naming { AV_NAMING_SINGLE, AV_NAMING_MIXED };

/* One kubelet device. */
struct av_plugin_device {
	char id[16];                 /* passthrough: IOMMU group number; container: BDF */
	int group;                   /* -1 in container mode */
	int *funcs;                  /* selected GPU functions (model indexes) */
	int n_funcs;
	int numa_node;               /* -1: no topology */
	bool healthy;
	int hive;                    /* model hive index, -1 */
};

struct av_resources {
	char resource[64];           /* "amd.com/gpu" */
	struct av_plugin_device *devices;
	int n_devices;
	int n_healthy;
};

/* "amd.com/gpu", "amd.com/gpu_vf" or "amd.com/gpu_pf". */
const char *av_resource_name(enum av_mode mode, enum av_naming naming);
int av_naming_parse(const char *s, enum av_naming *out);

/* Computes the devices for the model's mode (health from the model's
 * /dev/vfio nodes and drivers).  Returns 0 or -ENOMEM. */
int av_resources_compute(const struct av_model *m, enum av_naming naming,
                         struct av_resources *out);
void av_resources_clear(struct av_resources *r);

/* "PCI_RESOURCE_AMD_COM_GPU" for "amd.com/gpu". */
void av_resource_env_name(const char *resource, char *buf, size_t size);

#endif
