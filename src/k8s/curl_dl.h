/* libcurl, loaded when the Kubernetes API is first used.
 *
 * Linked normally, libcurl brings 30-odd libraries into every run of the
 * program (TLS, Kerberos, LDAP, SSH, IDN...): more than half of the
 * daemon's resident memory and most of its start-up time, for a client
 * that a device plugin without API access never uses. */
#ifndef AV_K8S_CURL_DL_H
#define AV_K8S_CURL_DL_H

#include <curl/curl.h>

#define AV_CURL_SONAME "libcurl.so.4"

/* The libcurl calls the API client makes. */
struct av_curl {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *c);
	void (*easy_reset)(CURL *c);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* Loads libcurl and runs curl_global_init, once per process (any thread).
 * The library stays loaded.  Returns the table, or NULL with *cause naming
 * the library and why it could not be used. */
const struct av_curl *av_curl_load(char **cause);

#endif
