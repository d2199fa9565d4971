/* Where the API credentials come from, in the usual order: --kubeconfig,
 * $KUBECONFIG, the in-cluster service account, ~/.kube/config. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s/conf.h"
#include "base/util.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define CA_MAX (1 << 20)

int av_k8s_conf_incluster(const struct av_host *host, struct av_k8s_conf *c, char **cause)
{
	const char *h = getenv("KUBERNETES_SERVICE_HOST");
	const char *p = getenv("KUBERNETES_SERVICE_PORT");
	char path[4096];

	memset(c, 0, sizeof(*c));
	if (!h || !*h)
		return -ENOENT;
	if (!p || !*p)
		p = "443";
	/* An IPv6 service address needs brackets in a URL. */
	c->server = strchr(h, ':') ? av_strdup_printf("https://[%s]:%s", h, p)
	                           : av_strdup_printf("https://%s:%s", h, p);
	c->origin = strdup("in-cluster service account");
	c->token_file = strdup(SA_DIR "/token");
	c->token_host = host;
	if (!c->server || !c->origin || !c->token_file) {
		av_k8s_conf_clear(c);
		av_set_cause(cause, "out of memory");
		return -ENOMEM;
	}
	ssize_t n = av_read_all(host, SA_DIR "/ca.crt", CA_MAX, &c->ca.data);
	if (n < 0) {
		av_set_cause(cause, "in-cluster CA %s: %s",
		             av_host_path(host, SA_DIR "/ca.crt", path, sizeof(path)), strerror((int)-n));
		av_k8s_conf_clear(c);
		return (int)n;
	}
	c->ca.len = (size_t)n;
	if (!av_exists(host, SA_DIR "/token")) {
		av_set_cause(cause, "in-cluster token %s: %s",
		             av_host_path(host, SA_DIR "/token", path, sizeof(path)), strerror(ENOENT));
		av_k8s_conf_clear(c);
		return -ENOENT;
	}
	return 0;
}

static bool readable(const char *path)
{
	return path && *path && access(path, R_OK) == 0;
}

int av_k8s_conf_load(const struct av_host *host, const char *flag, struct av_k8s_conf *c,
                     char **cause)
{
	if (flag && *flag)
		return av_k8s_conf_kubeconfig(flag, c, cause);

	const char *env = getenv("KUBECONFIG");
	if (env && *env) {
		/* kubectl merges every entry; the first one names the context
		 * in practice, and merging is more than a node agent needs. */
		char *first = strndup(env, strcspn(env, ":"));
		if (!first) {
			av_set_cause(cause, "out of memory");
			return -ENOMEM;
		}
		int r = av_k8s_conf_kubeconfig(first, c, cause);
		free(first);
		return r;
	}

	/* Inside a pod a missing token or CA is an error, not a reason to
	 * look elsewhere. */
	const char *svc = getenv("KUBERNETES_SERVICE_HOST");
	if (svc && *svc)
		return av_k8s_conf_incluster(host, c, cause);

	const char *home = getenv("HOME");
	char path[4096];
	if (home && *home) {
		snprintf(path, sizeof(path), "%s/.kube/config", home);
		if (readable(path))
			return av_k8s_conf_kubeconfig(path, c, cause);
	}
	av_set_cause(cause, "no Kubernetes API access configured: give --kubeconfig, set KUBECONFIG, "
	             "or run in a pod (KUBERNETES_SERVICE_HOST)");
	return -ENOENT;
}

bool av_k8s_conf_wanted(const char *flag)
{
	const char *env = getenv("KUBECONFIG"), *svc = getenv("KUBERNETES_SERVICE_HOST");

	return (flag && *flag) || (env && *env) || (svc && *svc);
}
