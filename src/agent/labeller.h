/* The node labeller: labels for a discovered host, and bringing the Node
 * on the API server to them.  `labels --apply` and the daemon share it. */
#ifndef AV_LABELLER_H
#define AV_LABELLER_H

#include "host/host.h"
#include "k8s/client.h"
#include "k8s/node.h"
#include "labels/labels.h"
#include "host/model.h"

/* Reads the host facts and computes the labels for m.  Returns 0 or -ENOMEM. */
int av_labeller_labels(const struct av_host *host, const struct av_model *m,
                       struct av_labels *out);

/* Computes the labels for m and applies them to node (one PATCH at most,
 * none when the Node already carries them).  Notes about labels left out
 * are printed to stderr.  Returns as av_k8s_apply_labels. */
int av_labeller_sync(struct av_k8s *k, const char *node, const struct av_host *host,
                     const struct av_model *m, struct av_apply_result *res, char **cause);

/* Opens the API client from --kubeconfig / $KUBECONFIG / in-cluster.
 * Returns NULL with *cause. */
struct av_k8s *av_labeller_client(const struct av_host *host, const char *kubeconfig,
                                  char **cause);

#endif
