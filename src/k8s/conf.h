/* How to reach the Kubernetes API server: in-cluster service account or a
 * kubeconfig file.  TLS is always verified; a kubeconfig that asks to skip
 * verification is refused. */
#ifndef AV_K8S_CONF_H
#define AV_K8S_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "host/host.h"

/* A PEM object in memory (from a -data field or a file under ROOT). */
struct av_blob {
	char *data;
	size_t len;
};

/* A user's exec credential plugin (users[].user.exec), run by
 * k8s/execcred.c as kubectl runs it. */
enum av_exec_interactive { AV_EXEC_NEVER, AV_EXEC_IF_AVAILABLE };
struct av_exec_conf {
	char *api_version;           /* client.authentication.k8s.io/v1 or v1beta1 */
	char *command;               /* a path (absolute, or resolved against the
	                              * kubeconfig's directory), or a name for PATH */
	char **args;
	int n_args;
	char **env;                  /* NAME=VALUE, added to the environment */
	int n_env;
	enum av_exec_interactive interactive;  /* Always is refused when read */
	char *install_hint;
	bool provide_cluster_info;
	char *user;                  /* the kubeconfig's user name, for messages */
};

struct av_k8s_conf {
	char *server;                /* "https://10.0.0.1:443", no trailing slash */
	char *origin;                /* for messages: "in-cluster", "kubeconfig PATH (context C)" */
	struct av_blob ca;           /* certificate-authority-data, or the in-cluster CA */
	char *ca_file;               /* certificate-authority (a path on this machine) */
	struct av_blob cert, key;    /* client-certificate-data / client-key-data */
	char *cert_file, *key_file;  /* client-certificate / client-key */
	char *token;                 /* a token written in the kubeconfig */
	char *token_file;            /* tokenFile, read before every request */
	/* The in-cluster token is a host path under ROOT (token_file is then a
	 * host path read through this host); NULL for kubeconfig paths. */
	const struct av_host *token_host;
	struct av_exec_conf *exec;   /* NULL unless the user has an exec plugin */
	/* The cluster's extensions entry client.authentication.k8s.io/exec,
	 * as JSON text: an exec plugin with provideClusterInfo gets it as
	 * spec.cluster.config.  NULL when there is none. */
	char *exec_cluster_config;
};

/* In-cluster: KUBERNETES_SERVICE_HOST / _PORT, and the service-account token
 * and CA under ROOT/var/run/secrets/kubernetes.io/serviceaccount/.
 * Returns 0, -ENOENT when not running in a cluster, or another -errno with
 * *cause set. */
int av_k8s_conf_incluster(const struct av_host *host, struct av_k8s_conf *c, char **cause);

/* A kubeconfig file (a path on this machine, like --config): its
 * current-context's cluster and user.  Relative paths in it are relative to
 * the file's directory.  Returns 0 or -errno with *cause set. */
int av_k8s_conf_kubeconfig(const char *path, struct av_k8s_conf *c, char **cause);
/* The same, from text already read; dir resolves relative paths. */
int av_k8s_conf_kubeconfig_text(const char *text, size_t len, const char *dir,
                                const char *origin, struct av_k8s_conf *c, char **cause);

/* The usual order: --kubeconfig (flag, may be NULL), $KUBECONFIG (its first
 * entry), in-cluster, then ~/.kube/config.  Returns 0 or -errno with *cause
 * naming what was tried. */
int av_k8s_conf_load(const struct av_host *host, const char *flag, struct av_k8s_conf *c,
                     char **cause);

/* Whether API access is asked for: a --kubeconfig flag, $KUBECONFIG or
 * the in-cluster environment.  ~/.kube/config alone does not count, so a
 * daemon started by hand from an admin's shell does not start writing to
 * whatever cluster that shell points at. */
bool av_k8s_conf_wanted(const char *flag);

void av_k8s_conf_clear(struct av_k8s_conf *c);
void av_exec_conf_free(struct av_exec_conf *x);

/* Standard base64 (padding optional, whitespace ignored).  Returns 0 or
 * -EINVAL / -ENOMEM; out is NUL-terminated for convenience. */
int av_base64_decode(const char *in, struct av_blob *out);

#endif
