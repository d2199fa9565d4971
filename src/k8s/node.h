/* Node labels on the API server: read the Node, patch the owned keys. */
#ifndef AV_K8S_NODE_H
#define AV_K8S_NODE_H

#include <stdbool.h>

#include "k8s/client.h"
#include "labels/labels.h"

struct av_apply_result {
	int n_set;                   /* labels added or changed */
	int n_removed;               /* stale owned labels removed */
	char *patch;                 /* the merge patch sent, NULL when none */
};

/* GETs the Node, and when its owned labels differ from desired sends one
 * JSON merge patch (with the resourceVersion read, so a concurrent change
 * gives 409 and a fresh read).  Sends nothing when nothing changed.
 * Returns 0, or -EINVAL (node is not a node name: nothing sent), -EACCES
 * (401/403), -ENOENT (no such node), -EIO, -ENOMEM with *cause set to one
 * line. */
int av_k8s_apply_labels(struct av_k8s *k, const char *node, const struct av_labels *desired,
                        const struct av_config *cfg, struct av_apply_result *res, char **cause);
void av_apply_result_clear(struct av_apply_result *res);

#endif
