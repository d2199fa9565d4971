/* The DRA driver's names and paths, and the name rules of resource.k8s.io/v1
 * that every object amdvirt writes must keep (an API server refuses the
 * whole ResourceSlice for one bad name). */
#ifndef AV_DRA_NAMES_H
#define AV_DRA_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* The driver name: spec.driver of the slices, results[].driver of claims,
 * the CDI vendor, and the domain of the driver's own attributes.  A domain
 * of the project's own, so that it never collides with AMD's gpu.amd.com
 * driver on the same cluster. */
#define AV_DRA_DRIVER "gpu.amdvirt.io"
/* kubelet's directories (reference dra.md section 2). */
#define AV_DRA_REG_DIR "/var/lib/kubelet/plugins_registry"
#define AV_DRA_REG_SOCK AV_DRA_DRIVER "-reg.sock"
#define AV_DRA_PLUGIN_DIR "/var/lib/kubelet/plugins/" AV_DRA_DRIVER
#define AV_DRA_SOCK "dra.sock"
#define AV_DRA_METADATA_DIR AV_DRA_PLUGIN_DIR "/dra-device-metadata"
/* The container runtime's dynamic CDI directory. */
#define AV_DRA_CDI_DIR "/var/run/cdi"

/* Upstream limits (k8s.io/api resource/v1 validation). */
#define AV_DRA_MAX_DEVICES 128        /* per ResourceSlice */
#define AV_DRA_MAX_ATTRS 32           /* attributes + capacities per device */
#define AV_DRA_MAX_STRING 64          /* a string or version attribute value */
#define AV_DRA_MAX_ID 32              /* a C identifier attribute name */

/* A DNS label: 1-63 of [a-z0-9-], alphanumeric at both ends. */
bool av_dra_dns_label_ok(const char *s);
/* A DNS subdomain: dot-separated DNS labels, at most 253 characters. */
bool av_dra_dns_subdomain_ok(const char *s);
/* A QualifiedName: a C identifier of at most 32 characters, or
 * <DNS subdomain of at most 63>/<C identifier of at most 32>. */
bool av_dra_attr_name_ok(const char *s);
/* Semantic version 2.0.0, at most 64 characters. */
bool av_dra_semver_ok(const char *s);
/* "8.1.0.K" -> "8.1.0+K": gim's and amdgpu's versions as semver (the
 * fourth part and anything after become build metadata).  Returns false
 * when s does not start with MAJOR.MINOR.PATCH. */
bool av_dra_semver_from(const char *s, char *out, size_t size);
/* "0000:c1:02.0" -> "vf-0000-c1-02-0" (prefix "vf" or "pf"). */
void av_dra_device_name(const char *prefix, const char *bdf, char *out, size_t size);

/* The BDF a device name was made from ("vf-0000-c1-02-0" ->
 * "0000:c1:02.0").  Returns false when name is not one. */
bool av_dra_bdf_from_name(const char *name, char out[13]);

#endif
