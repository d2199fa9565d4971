/* Node configuration: AMD's DeviceConfig shape (contract section 6), read
 * from a file (--config, YAML or JSON) or from the API server's object, with
 * one meaning either way: the file gets the defaults AMD's CRD gives a
 * stored object, and what AMD's schema has no field for comes from
 * annotations. */
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
	/* spec.driver.driverType; "container" when spec.driver is present
	 * without it (AMD's CRD default, which a cluster stores); NULL only
	 * without spec.driver. */
	char *driver_type;
	char *version;            /* spec.driver.version */
	uint16_t *device_ids;     /* spec.driver.vfioConfig.deviceIDs */
	int n_device_ids;
	char **module_params;     /* spec.driver.kernelModuleConfig.parameters */
	int n_module_params;
	bool blacklist;           /* spec.driver.blacklist */
	bool blacklist_set;
	/* The annotation amdvirt/hives, else spec.amdvirt.hives (file only):
	 * n_hives lists of BDFs. */
	char ***hives;
	int *hive_sizes;
	int n_hives;
	/* single | mixed: spec.devicePlugin.devicePluginArguments
	 * .resource_naming_strategy, else spec.amdvirt.resourceNaming (file
	 * only); NULL when neither. */
	char *resource_naming;
	/* The annotation amdvirt/vendor-ids plus spec.amdvirt.vendorID (file
	 * only). */
	uint16_t *vendor_ids;
	int n_vendor_ids;
	/* How the daemon hands out the GPUs: "device-plugin" or "dra", from
	 * the annotation amdvirt/allocation, else spec.amdvirt.allocation
	 * (file only); NULL when neither (the device plugin). */
	char *allocation;
};

#define AV_ANNOTATION_HIVES "amdvirt/hives"
#define AV_ANNOTATION_VENDOR_IDS "amdvirt/vendor-ids"
#define AV_ANNOTATION_ALLOCATION "amdvirt/allocation"

/* True when the configuration asks for the DRA driver. */
bool av_config_wants_dra(const struct av_config *cfg);

/* Lab hosts: an extra vendor ID plus vfioConfig.deviceIDs make another
 * vendor's functions count as GPU functions, so the whole tool can be run
 * against an emulated SR-IOV device.  True for such a function. */
bool av_config_lab_device(const struct av_config *cfg, uint16_t vendor, uint16_t device);

/* Loads a DeviceConfig object (from a file, a GET or a watch event) into
 * cfg, replacing what it held.  what names the source in messages (a file
 * path or "deviceconfig NS/NAME").  Unknown fields are ignored; a field of
 * the wrong type, or an annotation amdvirt cannot read, is an error naming
 * it.  Returns 0, or -EINVAL / -ENOMEM with *cause set; cfg is then empty. */
int av_config_from_json(struct av_config *cfg, const struct cJSON *root,
                        const char *what, char **cause);
/* The same, for a watch event or a re-read: cfg (zeroed, or holding a
 * configuration) is replaced only when the object loads; on an error it
 * keeps what it held. */
int av_config_replace(struct av_config *cfg, const struct cJSON *root, const char *what, char **cause);
/* Refuses JSON text that would hide part of a string from the parser: a
 * NUL byte or a \u0000 escape.  Returns 0, or -EINVAL with *cause naming
 * what:LINE. */
int av_config_text_check(const char *text, size_t len, const char *what, char **cause);
/* Parses DeviceConfig text, YAML or JSON (JSON is YAML; both become the
 * cJSON tree a GET gives; devconfig_yaml.c says how scalars are typed).
 * One document holding one DeviceConfig, or a List of exactly one.
 * Returns the tree, or NULL with *cause naming what:LINE. */
struct cJSON *av_config_parse_text(const char *text, size_t len, const char *what, char **cause);
/* YAML text into a cJSON tree (devconfig_yaml.c).  NULL with *cause. */
struct cJSON *av_config_yaml_parse(const char *text, size_t len, const char *what, char **cause);
/* A plain (unquoted) YAML scalar as YAML 1.1 types it: null, a boolean, a
 * number or a string; the kubeconfig reader types its free-form parts
 * with it too.  NULL when out of memory. */
struct cJSON *av_yaml_plain_scalar(const char *v);
/* Reads and parses a file (a path on the machine running amdvirt, not under
 * ROOT: it is the operator's input, like a command-line argument). */
int av_config_load(struct av_config *cfg, const char *path, char **cause);
void av_config_clear(struct av_config *cfg);

#endif
