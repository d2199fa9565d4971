/* The cluster.* checks (doc/checks.md): does the cluster see what this
 * host offers?  Each is a pure function of facts gathered beforehand
 * (kubelet's view on the model, the Node and the KubeVirt CR from the API
 * server) and appends one result to the report. */
#ifndef AV_CLUSTER_CHECKS_H
#define AV_CLUSTER_CHECKS_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "checks/checks.h"
#include "host/host.h"
#include "host/model.h"
#include "host/resources.h"
#include "labels/labels.h"

#define AV_KUBEVIRT_DEFAULT_REF "kubevirt/kubevirt"

/* What the API server said; a NULL object comes with its why. */
struct av_cluster_facts {
	bool api;                    /* API access is configured */
	const char *node;            /* the node's name, NULL when unknown */
	cJSON *node_obj;             /* the Node */
	char *node_why;
	const char *kubevirt_ref;    /* "NAMESPACE/NAME" of the KubeVirt CR */
	cJSON *kubevirt;             /* the KubeVirt CR */
	char *kubevirt_why;
};

/* Whether the cluster checks run: a kubelet pod-resources socket is there
 * (m's kubelet view, filled by av_cluster_holders) or API access is
 * configured (av_k8s_conf_wanted).  A host in no cluster gets the report
 * it always got. */
bool av_cluster_checks_wanted(const struct av_model *m, const char *kubeconfig);

/* Reads the Node (node NULL: --node-name / $NODE_NAME unset) and the
 * KubeVirt CR.  Nothing read is no error: each object's why says why.
 * Returns 0 or -ENOMEM. */
int av_cluster_facts_gather(const struct av_host *host, const char *kubeconfig, const char *node,
                            const char *kubevirt_ref, struct av_cluster_facts *out);
void av_cluster_facts_clear(struct av_cluster_facts *f);

/* The four checks, appended to rep in this order (cluster.registered is a
 * WARN rather than a FAIL without API access: see doc/checks.md).  labels: what `labels
 * --json` prints; cfg: the DeviceConfig in force (owned label keys).
 * Returns 0 or -ENOMEM. */
int av_cluster_checks_run(const struct av_model *m, const struct av_resources *r,
                          const struct av_labels *labels, const struct av_cluster_facts *f,
                          struct av_check_report *rep);

/* cluster.kubevirt-permitted alone: kv is the KubeVirt CR (NULL: why
 * says why it could not be read). */
int av_cluster_kubevirt_permitted(const cJSON *kv, const char *why, const struct av_model *m,
                                  const char *resource, struct av_check_report *rep);

#endif
