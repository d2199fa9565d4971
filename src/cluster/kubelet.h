/* The holders of the devices, filled on the model after discovery from
 * kubelet's pod-resources API and ROOT/proc (src/host/holders.h). */
#ifndef AV_CLUSTER_KUBELET_H
#define AV_CLUSTER_KUBELET_H

#include <stdbool.h>

#include "host/host.h"
#include "host/model.h"
#include "host/resources.h"

/* Asks kubelet (one List; one GetAllocatableResources too when allocatable
 * is set: the Node screen and the checks compare kubelet's list with
 * ours, `list` needs only the holders), scans ROOT/proc once and fills
 * m's holders and kubelet view for what r advertises; the scan stays on
 * m (m->vfio) for the checks run on the same model.  Returns
 * 0, with *cause one line when a pod-resources socket is there but gave no
 * usable answer (an absent socket is no news: *cause NULL), or -ENOMEM. */
int av_cluster_holders(const struct av_host *host, struct av_model *m, const struct av_resources *r,
                       bool allocatable, char **cause);

#endif
