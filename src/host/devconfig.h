/* Node configuration: AMD's DeviceConfig shape (contract section 6), read
 * from a JSON file (--config) or from the API server's object. */
#ifndef AV_DEVCONFIG_H
#define AV_DEVCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

struct av_config {
	char *name;               /* metadata.name, NULL when absent */
	char *namespace_;         /* metadata.namespace */
	bool present;             /* a configuration was given */
	bool driver_enable;       /* spec.driver.enable (default true) */
	bool driver_enable_set;
	char *driver_type;        /* spec.driver.driverType, NULL when absent */
	char *version;            /* spec.driver.version */
	uint16_t *device_ids;     /* spec.driver.vfioConfig.deviceIDs */
	int n_device_ids;
	char **module_params;     /* spec.driver.kernelModuleConfig.parameters */
	int n_module_params;
	bool blacklist;           /* spec.driver.blacklist */
	bool blacklist_set;
	char ***hives;            /* spec.amdvirt.hives: n_hives lists of BDFs */
	int *hive_sizes;
	int n_hives;
	char *resource_naming;    /* spec.amdvirt.resourceNaming: single | mixed */
	uint16_t vendor_id;       /* spec.amdvirt.vendorID; 0 when absent (AMD) */
};

/* Lab hosts: spec.amdvirt.vendorID plus vfioConfig.deviceIDs make another
 * vendor's functions count as GPU functions, so the whole tool can be run
 * against an emulated SR-IOV device.  True for such a function. */
bool av_config_lab_device(const struct av_config *cfg, uint16_t vendor, uint16_t device);

/* Parses a DeviceConfig object.  what names the source in messages (a file
 * path or "NS/NAME").  Unknown fields are ignored; a field of the wrong type
 * is an error naming it.  Returns 0, or -EINVAL with *cause set. */
int av_config_from_json(struct av_config *cfg, const struct cJSON *root,
                        const char *what, char **cause);
/* Refuses JSON text that would hide part of a string from the parser: a
 * NUL byte or a \u0000 escape.  Returns 0, or -EINVAL with *cause naming
 * what:LINE. */
int av_config_text_check(const char *text, size_t len, const char *what, char **cause);
/* Reads and parses a file (a path on the machine running amdvirt, not under
 * ROOT: it is the operator's input, like a command-line argument). */
int av_config_load(struct av_config *cfg, const char *path, char **cause);
void av_config_clear(struct av_config *cfg);

#endif
