/* The difference between a Node's labels and the labels this host should
 * carry, as the body of one JSON merge patch (RFC 7386). */
#ifndef AV_LABELS_PATCH_H
#define AV_LABELS_PATCH_H

#include "labels/labels.h"

struct cJSON;

/* current is the Node's metadata.labels object (NULL when it has none).
 * Sets *patch to {"metadata":{"labels":{...}}} holding the desired labels
 * that are missing or different and a null for every owned key that is no
 * longer desired; other keys are never named.  resource_version, when not
 * NULL, goes into metadata.resourceVersion so the server refuses the patch
 * (409) if the Node changed since it was read.  *patch is NULL when nothing
 * changed.  n_set / n_removed (may be NULL) count the two kinds.
 * Returns 0 or -ENOMEM. */
int av_labels_patch(const struct cJSON *current, const struct av_labels *desired,
                    const struct av_config *cfg, const char *resource_version,
                    struct cJSON **patch, int *n_set, int *n_removed);

#endif
