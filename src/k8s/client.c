#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "k8s/client.h"
#include "k8s/curl_dl.h"
#include "k8s/execcred.h"
#include "base/util.h"

#define BODY_MAX (64u << 20)
#define TOKEN_MAX (64 << 10)

struct av_k8s {
	struct av_k8s_conf conf;
	struct av_k8s_retry retry;
	const struct av_curl *cu;
	CURL *curl;
	unsigned int seed;
	char *token;                 /* as last read from token_file */
	const atomic_bool *cancel;
	struct av_exec_cred cred;    /* from conf.exec's plugin, when it has one */
	bool cred_unused;            /* just fetched: good for one request even if expired */
	av_k8s_sink_fn sink;         /* av_k8s_stream: where a 2xx body goes */
	void *sink_user;
	struct av_k8s_response *sink_resp; /* and where any other answer goes */
};

struct av_k8s *av_k8s_new(struct av_k8s_conf *conf, char **cause)
{
	long timeout_ms;
	/* A timeout the operator set but we cannot read would otherwise be
	 * replaced by the default without a word. */
	if (av_k8s_timeout_env(&timeout_ms, cause) < 0)
		return NULL;
	const struct av_curl *cu = av_curl_load(cause);
	if (!cu)
		return NULL;
	struct av_k8s *k = calloc(1, sizeof(*k));
	if (k)
		k->cu = cu;
	if (!k || !(k->curl = cu->easy_init())) {
		free(k);
		av_set_cause(cause, "libcurl could not be initialised");
		return NULL;
	}
	k->conf = *conf;
	memset(conf, 0, sizeof(*conf));
	k->retry = av_k8s_retry_defaults();
	k->seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	/* A plugin that cannot give credentials makes the kubeconfig as
	 * unusable as a missing token file: said before anything is sent. */
	if (k->conf.exec && av_exec_run(&k->conf, &k->cred, cause) < 0) {
		av_k8s_free(k);
		return NULL;
	}
	k->cred_unused = true;
	return k;
}

static void forget_token(struct av_k8s *k)
{
	if (k->token)
		explicit_bzero(k->token, strlen(k->token));
	free(k->token);
	k->token = NULL;
}

struct av_k8s *av_k8s_open(const struct av_host *host, const char *kubeconfig, char **cause)
{
	struct av_k8s_conf conf;
	if (av_k8s_conf_load(host, kubeconfig, &conf, cause) < 0)
		return NULL;
	struct av_k8s *k = av_k8s_new(&conf, cause);
	av_k8s_conf_clear(&conf);
	return k;
}

void av_k8s_free(struct av_k8s *k)
{
	if (!k)
		return;
	k->cu->easy_cleanup(k->curl);
	forget_token(k);
	av_exec_cred_clear(&k->cred);
	av_k8s_conf_clear(&k->conf);
	free(k);
}

void av_k8s_set_retry(struct av_k8s *k, const struct av_k8s_retry *retry)
{
	k->retry = *retry;
}

void av_k8s_set_cancel(struct av_k8s *k, const atomic_bool *flag)
{
	k->cancel = flag;
}

static bool cancelled(const struct av_k8s *k)
{
	return k->cancel && atomic_load(k->cancel);
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	return cancelled(user) ? 1 : 0;
}

const char *av_k8s_origin(const struct av_k8s *k)
{
	return k->conf.origin ? k->conf.origin : "the configured credentials";
}

/* The token file is read before every request: kubelet rotates projected
 * service-account tokens in place, and a stale token is a 401.  Returns 1
 * when the token changed, 0 when not, -errno when unreadable. */
static int reload_token(struct av_k8s *k, char **cause)
{
	if (!k->conf.token_file)
		return 0;
	char *text = NULL;
	ssize_t n;
	if (k->conf.token_host) {
		n = av_read_all(k->conf.token_host, k->conf.token_file, TOKEN_MAX, &text);
	} else {
		/* A FIFO or a directory planted as the token must not hang or
		 * garble the agent: refused by name like any file we read. */
		n = av_file_read_all(k->conf.token_file, TOKEN_MAX, &text);
	}
	if (n < 0) {
		char path[4096];
		if (k->conf.token_host)
			av_host_path(k->conf.token_host, k->conf.token_file, path, sizeof(path));
		else
			snprintf(path, sizeof(path), "%s", k->conf.token_file);
		av_set_cause(cause, "token file %s: %s", path, n == -EFBIG ? "too large" : av_strerror((int)n));
		free(text);
		return (int)n;
	}
	size_t len = strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (k->token && strcmp(k->token, text) == 0) {
		explicit_bzero(text, len);
		free(text);
		return 0;
	}
	forget_token(k);
	k->token = text;
	return 1;
}

static const char *token(const struct av_k8s *k)
{
	if (k->conf.exec)
		return k->cred.token;
	return k->conf.token_file ? k->token : k->conf.token;
}

/* The exec plugin's credential, run again when it expired or (force) the
 * server refused it.  Returns 0 or -errno with *cause. */
static int exec_cred(struct av_k8s *k, bool force, char **cause)
{
	/* As client-go: a credential is checked before a request, and the
	 * one fetched for it is used even when it came already expired. */
	bool unused = k->cred_unused;
	k->cred_unused = false;
	if (!k->conf.exec || (!force && (unused || av_exec_cred_fresh(&k->cred, time(NULL)))))
		return 0;
	av_exec_cred_clear(&k->cred);
	return av_exec_run(&k->conf, &k->cred, cause);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct av_k8s_response *r = user;
	size_t n = size * nmemb;
	if (r->len + n > BODY_MAX)
		return 0;
	char *b = realloc(r->body, r->len + n + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, data, n);
	r->len += n;
	b[r->len] = '\0';
	r->body = b;
	return n;
}

/* A watch: a 2xx body is handed on as it arrives; any other answer (a
 * Status) is kept whole, so that callers read a refusal as from any other
 * request.  The status is known once the headers are in, before the body. */
static size_t on_stream(char *data, size_t size, size_t nmemb, void *user)
{
	struct av_k8s *k = user;
	long status = 0;
	size_t n = size * nmemb;
	k->cu->easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return on_body(data, size, nmemb, k->sink_resp);
	return k->sink(k->sink_user, data, n) ? n : 0;
}

static void set_blob(const struct av_k8s *k, CURLoption opt, const struct av_blob *b)
{
	struct curl_blob blob = { .data = b->data, .len = b->len, .flags = CURL_BLOB_COPY };
	k->cu->easy_setopt(k->curl, opt, &blob);
}

static void setup_tls(struct av_k8s *k)
{
	CURL *c = k->curl;
	const struct av_curl *cu = k->cu;
	const struct av_k8s_conf *conf = &k->conf;
	cu->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	cu->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (conf->ca.data)
		set_blob(k, CURLOPT_CAINFO_BLOB, &conf->ca);
	else if (conf->ca_file)
		cu->easy_setopt(c, CURLOPT_CAINFO, conf->ca_file);
	cu->easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	cu->easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	if (k->cred.cert.data) {
		set_blob(k, CURLOPT_SSLCERT_BLOB, &k->cred.cert);
		set_blob(k, CURLOPT_SSLKEY_BLOB, &k->cred.key);
		return;
	}
	if (conf->cert.data)
		set_blob(k, CURLOPT_SSLCERT_BLOB, &conf->cert);
	else if (conf->cert_file)
		cu->easy_setopt(c, CURLOPT_SSLCERT, conf->cert_file);
	if (conf->key.data)
		set_blob(k, CURLOPT_SSLKEY_BLOB, &conf->key);
	else if (conf->key_file)
		cu->easy_setopt(c, CURLOPT_SSLKEY, conf->key_file);
}

/* One attempt.  Returns the CURLcode; *status is 0 without an answer. */
static CURLcode attempt(struct av_k8s *k, const char *method, const char *url,
                        const char *content_type, const char *body,
                        struct av_k8s_response *resp, long *retry_after, char *err)
{
	CURL *c = k->curl;
	const struct av_curl *cu = k->cu;
	struct curl_slist *h = NULL, *t;
	char *auth = NULL;
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
	resp->status = 0;
	*retry_after = -1;

	cu->easy_reset(c);
	setup_tls(k);
	cu->easy_setopt(c, CURLOPT_URL, url);
	cu->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	cu->easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	cu->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->easy_setopt(c, CURLOPT_TIMEOUT_MS, k->retry.timeout_ms);
	cu->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, k->retry.timeout_ms < 10000 ? k->retry.timeout_ms : 10000L);
	cu->easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	k->sink_resp = resp;
	cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, k->sink ? on_stream : on_body);
	cu->easy_setopt(c, CURLOPT_WRITEDATA, k->sink ? (void *)k : (void *)resp);
	cu->easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	if (k->cancel) {
		cu->easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		cu->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		cu->easy_setopt(c, CURLOPT_XFERINFODATA, k);
	}
	if (body) {
		cu->easy_setopt(c, CURLOPT_POSTFIELDS, body);
		cu->easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}

	if (!(t = cu->slist_append(h, "Accept: application/json")))
		goto out;
	h = t;
	if (content_type) {
		char ct[128];
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		if (!(t = cu->slist_append(h, ct)))
			goto out;
		h = t;
	}
	if (token(k) && *token(k)) {
		if (!(auth = av_strdup_printf("Authorization: Bearer %s", token(k))))
			goto out;
		if (!(t = cu->slist_append(h, auth)))
			goto out;
		h = t;
	}
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, h);

	err[0] = '\0';
	rc = cu->easy_perform(c);
	if (rc == CURLE_OK) {
		curl_off_t ra = -1;
		cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		if (cu->easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			*retry_after = (long)ra;
	}
out:
	/* The slist holds a copy of the header; both are wiped. */
	for (t = h; t; t = t->next)
		explicit_bzero(t->data, strlen(t->data));
	cu->slist_free_all(h);
	cu->easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	if (auth) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (!resp->body && rc == CURLE_OK && !(resp->body = calloc(1, 1)))
		rc = CURLE_OUT_OF_MEMORY;
	return rc;
}

/* Failures another attempt can cure; a certificate that does not verify
 * or a malformed URL stays what it is. */
static bool transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* Sleeps in slices so that a cancel ends the wait within 50 ms. */
static void sleep_ms(const struct av_k8s *k, long ms)
{
	while (ms > 0 && !cancelled(k)) {
		long slice = ms < 50 ? ms : 50;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = slice * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		ms -= slice;
	}
}

int av_k8s_request(struct av_k8s *k, const char *method, const char *path,
                   const char *content_type, const char *body,
                   struct av_k8s_response *resp, char **cause)
{
	char err[CURL_ERROR_SIZE];
	char *url = av_strdup_printf("%s%s", k->conf.server, path);
	bool token_retry_left = true;
	CURLcode rc = CURLE_OK;

	memset(resp, 0, sizeof(*resp));
	if (!url) {
		av_set_cause(cause, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < k->retry.max_attempts; i++) {
		long retry_after;
		if (cancelled(k))
			break;
		int changed = reload_token(k, cause);
		if (changed < 0 || (changed = exec_cred(k, false, cause)) < 0) {
			free(url);
			return changed;
		}
		rc = attempt(k, method, url, content_type, body, resp, &retry_after, err);
		resp->attempts = i + 1;
		if (rc == CURLE_OUT_OF_MEMORY)
			break;
		if (resp->status == 401 && k->conf.exec && token_retry_left) {
			/* As kubectl: a refused plugin credential is fetched
			 * anew, once for this request. */
			token_retry_left = false;
			int er = exec_cred(k, true, cause);
			if (er < 0) {
				av_k8s_response_clear(resp);
				free(url);
				return er;
			}
			i--;
			continue;
		}
		if (resp->status == 401 && k->conf.token_file && token_retry_left) {
			/* A token rotated between our read and the server's check. */
			token_retry_left = false;
			if (reload_token(k, NULL) == 1) {
				i--;
				continue;
			}
		}
		if ((rc != CURLE_OK && !transient(rc)) || !av_k8s_retryable(resp->status)
		    || i + 1 == k->retry.max_attempts)
			break;
		sleep_ms(k, av_k8s_backoff_ms(&k->retry, i, retry_after, &k->seed));
	}
	if (cancelled(k)) {
		av_set_cause(cause, "%s %s: cancelled", method, url);
		av_k8s_response_clear(resp);
		free(url);
		return -ECANCELED;
	}
	if (rc != CURLE_OK) {
		av_set_cause(cause, "%s %s: %s (after %d attempts)", method, url,
		             err[0] ? err : k->cu->easy_strerror(rc), resp->attempts);
		av_k8s_response_clear(resp);
		free(url);
		return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
	}
	free(url);
	return 0;
}

int av_k8s_stream(struct av_k8s *k, const char *path, av_k8s_sink_fn sink, void *user,
                  struct av_k8s_response *resp, char **cause)
{
	k->sink = sink;
	k->sink_user = user;
	int r = av_k8s_request(k, "GET", path, NULL, NULL, resp, cause);
	k->sink = NULL;
	k->sink_user = NULL;
	k->sink_resp = NULL;
	return r;
}

void av_k8s_response_clear(struct av_k8s_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}
