#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "k8s/curl_dl.h"
#include "base/util.h"

static struct av_curl table;
static const struct av_curl *loaded;
static char failure[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const struct {
	const char *name;
	size_t offset;
} symbols[] = {
	{ "curl_global_init", offsetof(struct av_curl, global_init) },
	{ "curl_easy_init", offsetof(struct av_curl, easy_init) },
	{ "curl_easy_cleanup", offsetof(struct av_curl, easy_cleanup) },
	{ "curl_easy_reset", offsetof(struct av_curl, easy_reset) },
	{ "curl_easy_setopt", offsetof(struct av_curl, easy_setopt) },
	{ "curl_easy_perform", offsetof(struct av_curl, easy_perform) },
	{ "curl_easy_getinfo", offsetof(struct av_curl, easy_getinfo) },
	{ "curl_easy_strerror", offsetof(struct av_curl, easy_strerror) },
	{ "curl_slist_append", offsetof(struct av_curl, slist_append) },
	{ "curl_slist_free_all", offsetof(struct av_curl, slist_free_all) },
};

static void load(void)
{
	/* RTLD_LOCAL: nothing else in the process should bind to libcurl's
	 * dependencies by accident. */
	void *h = dlopen(AV_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		const char *e = dlerror();
		snprintf(failure, sizeof(failure), "cannot load %s, which the Kubernetes API client "
		         "needs (Debian: apt install libcurl4): %s", AV_CURL_SONAME, e ? e : "unknown error");
		return;
	}
	for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
		void *sym = dlsym(h, symbols[i].name);

		if (!sym) {
			snprintf(failure, sizeof(failure), "%s has no %s: too old for amdvirt",
			         AV_CURL_SONAME, symbols[i].name);
			dlclose(h);
			return;
		}
		/* POSIX guarantees a data pointer from dlsym converts to the
		 * function pointer it designates. */
		memcpy((char *)&table + symbols[i].offset, &sym, sizeof(sym));
	}
	if (table.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(failure, sizeof(failure), "%s could not be initialised", AV_CURL_SONAME);
		dlclose(h);
		return;
	}
	loaded = &table;
}

const struct av_curl *av_curl_load(char **cause)
{
	pthread_once(&once, load);
	if (!loaded)
		av_set_cause(cause, "%s", failure);
	return loaded;
}
