/* Exec credential plugins (users[].user.exec in a kubeconfig), run as
 * kubectl runs them: the command with its args, its env added to ours and
 * KUBERNETES_EXEC_INFO describing the request, stdin not a terminal (amdvirt
 * never prompts), its stderr passed through.  Its stdout is an
 * ExecCredential of the configured apiVersion with a token or a client
 * certificate and key, valid until its expirationTimestamp. */
#ifndef AV_K8S_EXECCRED_H
#define AV_K8S_EXECCRED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "k8s/conf.h"

struct av_exec_cred {
	char *token;                 /* status.token, or NULL */
	struct av_blob cert, key;    /* status.clientCertificateData / clientKeyData (PEM) */
	bool expires;
	time_t expiry;               /* status.expirationTimestamp */
};

/* Runs c->exec for c's cluster.  The plugin has $AMDVIRT_EXEC_TIMEOUT
 * seconds (default 120) to answer.  Returns 0 with out filled, or -errno
 * with *cause one line naming the plugin, the kubeconfig and what went
 * wrong (never the plugin's output). */
int av_exec_run(const struct av_k8s_conf *c, struct av_exec_cred *out, char **cause);

/* The plugin's stdout: an ExecCredential of api_version.  Returns 0, or
 * -EINVAL with *why saying what is wrong with it. */
int av_exec_parse(const char *text, const char *api_version, struct av_exec_cred *out, char **why);
/* KUBERNETES_EXEC_INFO for c (spec.cluster when provideClusterInfo is
 * set).  NULL when memory ran out. */
char *av_exec_info(const struct av_k8s_conf *c);
/* RFC 3339 ("2026-12-07T08:00:00Z", fractions and offsets allowed).
 * Returns 0 or -EINVAL. */
int av_rfc3339_parse(const char *s, time_t *out);
/* Whether cr may still be used at now. */
bool av_exec_cred_fresh(const struct av_exec_cred *cr, time_t now);
void av_exec_cred_clear(struct av_exec_cred *cr);

#endif
