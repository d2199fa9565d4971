/* The cluster checks' facts from the API server: the Node and the KubeVirt
 * CR, each read once, with few retries (a check should not hang on an API
 * server that is down). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/checks.h"
#include "agent/labeller.h"
#include "base/util.h"
#include "k8s/client.h"
#include "k8s/conf.h"
#include "k8s/names.h"

/* GETs path; the object, or NULL with *why. */
static cJSON *get(struct av_k8s *k, const char *path, const char *resource, const char *group,
                  const char *what, char **why)
{
	struct av_k8s_response resp = { 0 };
	char *cause = NULL;
	cJSON *obj = NULL;

	if (av_k8s_request(k, "GET", path, NULL, NULL, &resp, &cause) < 0) {
		*why = av_strdup_printf("cannot read %s: %s", what, cause ? cause : "no answer");
	} else if (resp.status != 200) {
		char *c = av_k8s_status_cause(k, &resp, "get", resource, group, what);
		*why = av_strdup_printf("cannot read %s: %s", what, c ? c : "refused");
		free(c);
	} else if (!(obj = cJSON_Parse(resp.body)) || !cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		obj = NULL;
		*why = av_strdup_printf("cannot read %s: the API server's answer is not a JSON object", what);
	}
	free(cause);
	av_k8s_response_clear(&resp);
	return obj;
}

int av_cluster_facts_gather(const struct av_host *host, const char *kubeconfig, const char *node,
                            const char *kubevirt_ref, struct av_cluster_facts *out)
{
	char path[512], what[320], ns[64] = "", name[254] = "";
	char *cause = NULL;

	memset(out, 0, sizeof(*out));
	out->node = node;
	out->kubevirt_ref = kubevirt_ref ? kubevirt_ref : AV_KUBEVIRT_DEFAULT_REF;
	out->api = av_k8s_conf_wanted(kubeconfig);
	if (!out->api) {
		out->node_why = strdup("no API access configured (--kubeconfig, $KUBECONFIG or in-cluster)");
		out->kubevirt_why = strdup(out->node_why ? out->node_why : "");
		return out->node_why && out->kubevirt_why ? 0 : -ENOMEM;
	}
	struct av_k8s *k = av_labeller_client(host, kubeconfig, &cause);
	if (!k) {
		out->node_why = av_strdup_printf("no API access: %s", cause ? cause : "out of memory");
		out->kubevirt_why = strdup(out->node_why ? out->node_why : "");
		free(cause);
		return out->node_why && out->kubevirt_why ? 0 : -ENOMEM;
	}
	struct av_k8s_retry retry = av_k8s_retry_defaults();
	retry.max_attempts = 2;
	if (retry.timeout_ms > 10000)
		retry.timeout_ms = 10000;
	av_k8s_set_retry(k, &retry);

	if (!node) {
		out->node_why = strdup("which node? give --node-name or set NODE_NAME");
	} else if (!av_k8s_subdomain_ok(node, strlen(node))) {
		out->node_why = av_strdup_printf("node name \"%s\" is not a node name", node);
	} else {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s", node);
		snprintf(what, sizeof(what), "node \"%s\"", node);
		out->node_obj = get(k, path, "nodes", "", what, &out->node_why);
	}

	const char *slash = strchr(out->kubevirt_ref, '/');
	if (slash && (size_t)(slash - out->kubevirt_ref) < sizeof(ns) && strlen(slash + 1) < sizeof(name)) {
		memcpy(ns, out->kubevirt_ref, (size_t)(slash - out->kubevirt_ref));
		snprintf(name, sizeof(name), "%s", slash + 1);
	}
	if (!av_k8s_label_ok(ns, strlen(ns)) || !av_k8s_subdomain_ok(name, strlen(name))) {
		out->kubevirt_why = av_strdup_printf("KubeVirt CR \"%s\" is not NAMESPACE/NAME", out->kubevirt_ref);
	} else {
		snprintf(path, sizeof(path), "/apis/kubevirt.io/v1/namespaces/%s/kubevirts/%s", ns, name);
		snprintf(what, sizeof(what), "kubevirt \"%s/%s\"", ns, name);
		out->kubevirt = get(k, path, "kubevirts", "kubevirt.io", what, &out->kubevirt_why);
	}
	av_k8s_free(k);
	if ((!out->node_obj && !out->node_why) || (!out->kubevirt && !out->kubevirt_why))
		return -ENOMEM;
	return 0;
}

void av_cluster_facts_clear(struct av_cluster_facts *f)
{
	cJSON_Delete(f->node_obj);
	cJSON_Delete(f->kubevirt);
	free(f->node_why);
	free(f->kubevirt_why);
	memset(f, 0, sizeof(*f));
}
