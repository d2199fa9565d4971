/* A small Kubernetes API client on libcurl: one connection, bearer token or
 * client certificate, TLS always verified, retries with capped exponential
 * backoff and jitter.  Nothing here logs; the token never leaves the
 * Authorization header. */
#ifndef AV_K8S_CLIENT_H
#define AV_K8S_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "k8s/conf.h"

struct av_k8s;

struct av_k8s_response {
	long status;                 /* the HTTP status of the last attempt */
	char *body;                  /* NUL-terminated, never NULL after success */
	size_t len;
	int attempts;                /* how many requests were sent */
};

struct av_k8s_retry {
	int max_attempts;            /* requests in all, first one included */
	long base_ms;                /* first backoff, doubled each time */
	long cap_ms;                 /* backoff ceiling */
	long retry_after_cap_ms;     /* a Retry-After longer than this is cut */
	long timeout_ms;             /* one request, connection included */
};

/* The defaults: 6 attempts, 250 ms doubling up to 8 s, Retry-After up to
 * 60 s, 30 s per request; $AMDVIRT_API_TIMEOUT (seconds) overrides the
 * request timeout. */
struct av_k8s_retry av_k8s_retry_defaults(void);
/* $AMDVIRT_API_TIMEOUT in milliseconds (30 s when unset or empty).
 * Returns 0, or -EINVAL with *cause naming the variable when it is not a
 * number of seconds above 0 and below 3600 (*ms is then the default). */
int av_k8s_timeout_env(long *ms, char **cause);

/* Takes over conf's contents (conf is cleared).  Returns NULL with *cause
 * when libcurl cannot be set up or $AMDVIRT_API_TIMEOUT is not valid. */
struct av_k8s *av_k8s_new(struct av_k8s_conf *conf, char **cause);
/* The client for --kubeconfig / $KUBECONFIG / in-cluster (av_k8s_conf_load
 * with av_k8s_new).  NULL with *cause. */
struct av_k8s *av_k8s_open(const struct av_host *host, const char *kubeconfig, char **cause);
void av_k8s_free(struct av_k8s *k);
void av_k8s_set_retry(struct av_k8s *k, const struct av_k8s_retry *retry);
/* A flag that, once true (set from any thread), ends a transfer in
 * progress and the retries: av_k8s_request then returns -ECANCELED.  NULL
 * turns it off. */
void av_k8s_set_cancel(struct av_k8s *k, const atomic_bool *flag);
/* Where the credentials come from, for messages. */
const char *av_k8s_origin(const struct av_k8s *k);

/* Sends method path (e.g. "/api/v1/nodes/n1"), body may be NULL.
 * Connection errors, timeouts, 429 and 5xx are retried (Retry-After is
 * honoured); a 401 is retried once when the token file changed since it
 * was read.  Returns 0 with resp filled for any HTTP answer (the caller
 * judges the status), or -errno with *cause when no answer came. */
int av_k8s_request(struct av_k8s *k, const char *method, const char *path,
                   const char *content_type, const char *body,
                   struct av_k8s_response *resp, char **cause);
void av_k8s_response_clear(struct av_k8s_response *r);

/* Takes a streamed body (a watch) as it arrives; false ends the transfer. */
typedef bool (*av_k8s_sink_fn)(void *user, const char *data, size_t len);
/* GETs path like av_k8s_request, but a 2xx body goes to sink piece by
 * piece as it arrives and resp->body stays empty; any other answer is in
 * resp as usual.  A transfer ended by sink returns -EIO.  The request
 * timeout bounds the whole stream: set it (av_k8s_set_retry) above the
 * watch's own timeoutSeconds, with one attempt, as a retried stream would
 * hand sink a second body. */
int av_k8s_stream(struct av_k8s *k, const char *path, av_k8s_sink_fn sink, void *user,
                  struct av_k8s_response *resp, char **cause);

/* One line for a refused request: 401 names the credentials, 403 the RBAC
 * verb and resource that are missing, 404 the object, anything else the
 * status and the server's message.  what is the object for people
 * ("node \"n1\""). */
char *av_k8s_status_cause(const struct av_k8s *k, const struct av_k8s_response *r,
                          const char *verb, const char *resource, const char *group,
                          const char *what);

/* Backoff before attempt+1 (attempt counts from 0): min(cap, base * 2^attempt)
 * with its upper half jittered, or Retry-After (seconds, -1 when absent)
 * capped.  Pure but for the seed. */
long av_k8s_backoff_ms(const struct av_k8s_retry *r, int attempt, long retry_after_s,
                       unsigned int *seed);
/* Whether an answer (status 0: none) is worth another attempt. */
bool av_k8s_retryable(long status);

#endif
