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

/* The distinct vendor:device selectors ("1002:74b5") of the selected GPU
 * functions, in BDF order of first appearance; at most max.  Returns how
 * many. */
#define AV_KUBEVIRT_MAX_IDS 64
int av_kubevirt_selectors(const struct av_model *m, char sel[][10], int max);
/* One pciHostDevices entry: {pciVendorSelector, resourceName,
 * externalResourceProvider: true}; NULL when memory ran out. */
cJSON *av_kubevirt_entry(const char *selector, const char *resource);

/* What `kubevirt-config --apply` makes of a KubeVirt CR as the API server
 * returned it.  A JSON merge patch replaces a list whole, so the new
 * lists are computed here from the current ones: every gate and entry
 * that is not ours is kept as it is, in its place. */
struct av_kubevirt_merge {
	/* spec.configuration.developerConfiguration.featureGates and
	 * spec.configuration.permittedHostDevices.pciHostDevices, before and
	 * after (arrays, empty when the CR has none). */
	cJSON *gates_before, *gates_after;
	cJSON *pci_before, *pci_after;
	bool gates_changed, pci_changed;
	char **changes;              /* one line each for people, in order */
	int n_changes;
	char **notes;                /* what was left as it is and why */
	int n_notes;
};

/* The HostDevices gate added when missing; for each of sel's IDs, an entry
 * with that pciVendorSelector (compared without regard to case) brought to
 * resourceName resource and externalResourceProvider true (the one already
 * naming resource, else the first; its other fields kept), or one appended.
 * Other entries for the same ID under another resource name are left (a
 * node in the other naming may advertise it so) and noted.  Returns 0, or
 * -EINVAL with *cause naming the field that is not the shape KubeVirt's
 * schema gives it, or -ENOMEM. */
int av_kubevirt_merge(const cJSON *cr, char sel[][10], int n_sel, const char *resource,
                      struct av_kubevirt_merge *out, char **cause);
void av_kubevirt_merge_clear(struct av_kubevirt_merge *mg);
/* The merge patch that makes the change: the lists that changed, whole,
 * and metadata.resourceVersion as the precondition (omitted when rv is
 * NULL).  NULL when nothing changed or memory ran out. */
cJSON *av_kubevirt_merge_patch(const struct av_kubevirt_merge *mg, const char *rv);

#endif
