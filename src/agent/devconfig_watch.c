/* Following --deviceconfig: the watch thread's findings are queued and
 * the loop is woken through an eventfd, so that the configuration, the
 * model and everything derived from them change on the loop's thread
 * only, between two of kubelet's requests. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "actions/actions.h"
#include "agent/devconfig_watch.h"
#include "agent/labeller.h"
#include "agent/scan.h"
#include "base/log.h"
#include "base/util.h"
#include "host/devconfig.h"
#include "k8s/watch.h"

struct item {
	enum av_watch_type type;
	cJSON *object;               /* NULL: no such object (deleted, or not in a list) */
	char rv[AV_WATCH_RV_MAX + 1];
	struct item *next;
};

struct av_dcwatch {
	struct av_daemon *d;
	struct av_watcher *watcher;
	int efd;
	char ref[320];               /* "NS/NAME", what av_config_from_json names */

	pthread_mutex_t lock;        /* the queue, filled by the watch thread */
	struct item *head, **tail;

	/* loop thread only */
	bool present;                /* the configuration in force came from the object */
	char *seen;                  /* spec and annotations last read (NULL: not known) */
};

/* --- the watch thread's side ------------------------------------------------ */

static void on_watch(void *user, enum av_watch_type type, cJSON *object, const char *rv)
{
	struct av_dcwatch *w = user;
	struct item *it = calloc(1, sizeof(*it));
	if (!it) {
		/* The next list (a resync) brings the object again. */
		cJSON_Delete(object);
		av_log("DeviceConfig %s: event dropped: out of memory", w->ref);
		return;
	}
	it->type = type;
	it->object = type == AV_WATCH_DELETED ? (cJSON_Delete(object), NULL) : object;
	snprintf(it->rv, sizeof(it->rv), "%s", rv ? rv : "");
	pthread_mutex_lock(&w->lock);
	*w->tail = it;
	w->tail = &it->next;
	pthread_mutex_unlock(&w->lock);
	uint64_t one = 1;
	if (write(w->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, the loop is woken anyway. */
	}
}

/* --- the loop's side ---------------------------------------------------------- */

/* Object members in key order, so that two servers (or two writes) that
 * order the same keys differently read as the same. */
static void sort_keys(cJSON *node)
{
	if (!node)
		return;
	if (cJSON_IsObject(node)) {
		cJSON *sorted = NULL, *next;
		for (cJSON *c = node->child; c; c = next) {
			next = c->next;
			cJSON **at = &sorted;
			while (*at && strcmp((*at)->string ? (*at)->string : "", c->string ? c->string : "") <= 0)
				at = &(*at)->next;
			c->next = *at;
			*at = c;
		}
		/* cJSON keeps prev links; the first child's prev is the last. */
		cJSON *prev = NULL, *last = NULL;
		for (cJSON *c = sorted; c; c = c->next) {
			c->prev = prev;
			prev = last = c;
		}
		if (sorted)
			sorted->prev = last;
		node->child = sorted;
	}
	for (cJSON *c = node->child; c; c = c->next)
		sort_keys(c);
}

/* What a change is judged by: spec and metadata.annotations.  Status and
 * the bookkeeping in metadata (resourceVersion, managedFields, the
 * generation) change without changing what the daemon is asked to do. */
static char *what_counts(const cJSON *obj)
{
	cJSON *v = cJSON_CreateObject();
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
	cJSON *s = spec ? cJSON_Duplicate(spec, true) : cJSON_CreateNull();
	cJSON *a = ann ? cJSON_Duplicate(ann, true) : cJSON_CreateNull();
	char *text = NULL;
	if (v && s && a) {
		cJSON_AddItemToObject(v, "spec", s);
		cJSON_AddItemToObject(v, "annotations", a);
		s = a = NULL;
		sort_keys(v);
		text = cJSON_PrintUnformatted(v);
	}
	cJSON_Delete(s);
	cJSON_Delete(a);
	cJSON_Delete(v);
	return text;
}

/* After a change: what SIGHUP does, with the announcements of driver
 * management reset so that its new state is said, and a failed plan's
 * pause lifted, as the new configuration deserves an attempt of its own. */
static void reconcile(struct av_daemon *d)
{
	d->labels_force = true;
	d->labels_noted = false;
	d->drivers_announced = false;
	free(d->drivers_said);
	d->drivers_said = NULL;
	d->drivers_hold_until = 0;
	d->drivers_failures = 0;
	av_daemon_rescan(d, false);
}

/* "driver management on (vf-passthrough), resource amd.com/gpu" */
static void outcome(const struct av_daemon *d, char *buf, size_t size)
{
	const struct av_model *m = &d->plugin.model;
	const char *off = d->plugin.have_model ? av_manage_off_reason(m) : "the host is not read";
	if (off)
		snprintf(buf, size, "driver management off (%s), mode %s, resource %s", off,
		         av_mode_name(m->mode), d->plugin.res.resource);
	else
		snprintf(buf, size, "driver management on (%s), resource %s", av_mode_name(m->mode),
		         d->plugin.res.resource);
}

/* The device plugin and the DRA driver never serve the same devices, and
 * handing them over live would withdraw devices from running pods, so
 * the allocation chosen at start stays until the daemon restarts; a
 * DeviceConfig asking for the other one is said once per change. */
static void allocation_note(struct av_dcwatch *w)
{
	struct av_daemon *d = w->d;
	bool flag = d->cli->dra && !d->dra_by_config;
	bool want = flag || av_config_wants_dra(&d->cli->config);
	if (want == d->cli->dra)
		return;
	av_log("DeviceConfig %s asks for allocation %s: the daemon serves the %s until it restarts", w->ref,
	       want ? "dra" : "device-plugin", d->cli->dra ? "DRA driver" : "device plugin");
}

static void gone(struct av_dcwatch *w, const char *rv)
{
	struct av_daemon *d = w->d;
	if (!w->present)
		return;
	w->present = false;
	free(w->seen);
	w->seen = NULL;
	/* The labeller keeps owning the DeviceConfig's keys (it was
	 * started with its name), so the labels computed without it drop
	 * them from the Node. */
	av_config_clear(&d->cli->config);
	reconcile(d);
	char said[512];
	outcome(d, said, sizeof(said));
	av_log("DeviceConfig %s deleted (resourceVersion %s): %s; its gpu.operator.amd.com labels "
	       "are removed, nothing is unbound", w->ref, rv, said);
	allocation_note(w);
}

static void arrived(struct av_dcwatch *w, enum av_watch_type type, const cJSON *obj, const char *rv)
{
	struct av_daemon *d = w->d;
	char *seen = what_counts(obj);
	if (!seen) {
		av_log("DeviceConfig %s (resourceVersion %s) not read: out of memory", w->ref, rv);
		return;
	}
	if (w->seen && strcmp(w->seen, seen) == 0) {
		av_debug("DeviceConfig %s: %s, resourceVersion %s: spec and annotations unchanged", w->ref,
		         av_watch_type_name(type), rv);
		free(seen);
		return;
	}
	/* The first list after start finds what --deviceconfig read a moment
	 * before, as a rule: it is taken without a word. */
	bool first = w->present && !w->seen;
	free(w->seen);
	w->seen = seen;

	struct av_config cfg;
	char *cause = NULL;
	if (av_config_from_json(&cfg, obj, w->ref, &cause) < 0) {
		av_config_clear(&cfg);
		av_log("DeviceConfig %s (resourceVersion %s) not applied: %s; keeping %s", w->ref, rv,
		       cause ? cause : "out of memory",
		       w->present ? "the last one" : "driver management off");
		free(cause);
		return;
	}
	bool created = !w->present;
	av_config_clear(&d->cli->config);
	d->cli->config = cfg;
	w->present = true;
	if (first) {
		av_debug("DeviceConfig %s: following it from resourceVersion %s", w->ref, rv);
		av_daemon_rescan(d, false);
		return;
	}
	reconcile(d);
	char said[512];
	outcome(d, said, sizeof(said));
	av_log("DeviceConfig %s %s (resourceVersion %s): %s", w->ref, created ? "created" : "changed", rv,
	       said);
	allocation_note(w);
}

static void on_ready(struct av_loop *loop, int fd, uint32_t events, void *user)
{
	struct av_dcwatch *w = user;
	uint64_t n;
	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: someone was first; the queue says what there is. */
	}
	pthread_mutex_lock(&w->lock);
	struct item *list = w->head;
	w->head = NULL;
	w->tail = &w->head;
	pthread_mutex_unlock(&w->lock);
	while (list) {
		struct item *it = list;
		list = it->next;
		if (!w->d->stopping) {
			if (it->object)
				arrived(w, it->type, it->object, it->rv);
			else
				gone(w, it->rv);
		}
		cJSON_Delete(it->object);
		free(it);
	}
}

/* AMDVIRT_WATCH_TIMEOUT: the watch's timeoutSeconds, for tests that need
 * the server to end watches early; 0 (client-go's 5 to 10 min) otherwise. */
static long watch_timeout(void)
{
	const char *t = getenv("AMDVIRT_WATCH_TIMEOUT");
	char *end;
	if (!t || !*t)
		return 0;
	long s = strtol(t, &end, 10);
	if (*end || s < 1 || s > 3600) {
		av_log("AMDVIRT_WATCH_TIMEOUT '%s' ignored: give seconds from 1 to 3600", t);
		return 0;
	}
	return s;
}

static void free_dcwatch(struct av_dcwatch *w)
{
	av_watcher_stop(w->watcher);
	for (struct item *it = w->head, *next; it; it = next) {
		next = it->next;
		cJSON_Delete(it->object);
		free(it);
	}
	if (w->efd >= 0) {
		av_loop_del(w->d->loop, w->efd);
		close(w->efd);
	}
	pthread_mutex_destroy(&w->lock);
	free(w->seen);
	free(w);
}

void av_daemon_dcwatch_start(struct av_daemon *d)
{
	struct av_opts *cli = d->cli;
	char *cause = NULL;
	if (!cli->deviceconfig || !cli->config.present || d->dcwatch)
		return;
	const char *slash = strchr(cli->deviceconfig, '/');
	if (!slash)
		return;      /* checked at start: NS/NAME */
	struct av_dcwatch *w = calloc(1, sizeof(*w));
	if (!w) {
		av_log("DeviceConfig %s is not followed: out of memory", cli->deviceconfig);
		return;
	}
	w->d = d;
	w->present = true;
	w->tail = &w->head;
	pthread_mutex_init(&w->lock, NULL);
	snprintf(w->ref, sizeof(w->ref), "%s", cli->deviceconfig);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0 || av_loop_add(d->loop, w->efd, EPOLLIN, on_ready, w) < 0) {
		av_log("DeviceConfig %s is not followed: eventfd: %s", w->ref, strerror(errno));
		if (w->efd >= 0)
			close(w->efd);
		w->efd = -1;
		free_dcwatch(w);
		return;
	}
	/* A client of its own: a curl handle serves one thread, and the
	 * labeller's is busy with the Node. */
	struct av_k8s *k = av_labeller_client(cli->host, cli->kubeconfig, &cause);
	char collection[320], what[340];
	snprintf(collection, sizeof(collection), "/apis/amd.com/v1alpha1/namespaces/%.*s/deviceconfigs",
	         (int)(slash - cli->deviceconfig), cli->deviceconfig);
	snprintf(what, sizeof(what), "DeviceConfig %s", w->ref);
	struct av_watch_opts o = {
		.collection = collection, .name = slash + 1, .what = what,
		.resource = "deviceconfigs", .group = "amd.com", .timeout_s = watch_timeout(),
	};
	if (k)
		w->watcher = av_watcher_start(k, &o, on_watch, w, av_log, &cause);
	if (!w->watcher) {
		av_log("DeviceConfig %s is not followed: %s; it stays as read at start", w->ref,
		       cause ? cause : "out of memory");
		free(cause);
		free_dcwatch(w);
		return;
	}
	d->dcwatch = w;
	av_log("DeviceConfig %s: following its changes (list and watch)", w->ref);
}

void av_daemon_dcwatch_cancel(struct av_daemon *d)
{
	if (d->dcwatch)
		av_watcher_cancel(d->dcwatch->watcher);
}

void av_daemon_dcwatch_stop(struct av_daemon *d)
{
	if (!d->dcwatch)
		return;
	free_dcwatch(d->dcwatch);
	d->dcwatch = NULL;
}
