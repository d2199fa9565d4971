/* The KubeVirt CR merge patch that permits this host's GPU functions
 * (HostDevices feature gate and permittedHostDevices.pciHostDevices with
 * an external resource provider).  One builder for `amdvirt
 * kubevirt-config` and the console's Node screen, so they cannot differ. */
#ifndef AV_KUBEVIRT_H
#define AV_KUBEVIRT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "host/model.h"

/* Whether the mode passes functions to VMs (vf- or pf-passthrough). */
bool av_kubevirt_mode_ok(const struct av_model *m);
/* Whether any selected GPU function is there to permit. */
bool av_kubevirt_has_devices(const struct av_model *m);

/* The patch: one pciHostDevices entry per distinct vendor:device of the
 * selected GPU functions, in BDF order of first appearance.  Returns NULL
 * when there is none (an empty list in a merge patch would erase the
 * devices the CR already permits) or memory ran out.  Caller frees with
 * cJSON_Delete. */
cJSON *av_kubevirt_patch(const struct av_model *m, const char *resource);

#endif
