/* The watcher's thread: list, watch, and again (see watch.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "k8s/watch.h"
#include "base/evloop.h"
#include "base/util.h"

#define LINE_MAX_DEFAULT (2u << 20)  /* etcd takes objects up to 1.5 MiB */
/* The request's own timeout lets the server end the watch first. */
#define STREAM_MARGIN_S 30
/* A watch that ends this soon with nothing in it counts as a failure, so
 * that a server closing every watch at once is not asked again in a loop. */
#define SHORT_WATCH_MS 1000

struct av_watcher {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* the pause before a retry ends early on cancel */
	atomic_bool stop;
	struct av_k8s *k;
	char *collection, *name, *what, *resource, *group;
	long timeout_s;
	struct av_k8s_retry backoff;
	av_watch_fn fn;
	void *user;
	av_watch_log_fn log;
	unsigned int seed;

	char rv[AV_WATCH_RV_MAX + 1]; /* where the next watch starts */
	struct av_watch_lines lines;  /* of the stream in progress */
	bool gone;                   /* the stream said 410 */
	char *stream_error;          /* why the stream was ended here */
	int events;                  /* delivered by the stream in progress */
};

static bool stopped(struct av_watcher *w)
{
	return atomic_load(&w->stop);
}

static void set_stream_error(struct av_watcher *w, char *msg)
{
	free(w->stream_error);
	w->stream_error = msg;
}

/* One line of the stream.  Negative ends the stream. */
static int on_line(void *user, const char *line, size_t len)
{
	struct av_watcher *w = user;
	struct av_watch_event ev;
	char *cause = NULL;

	if (!line) {
		set_stream_error(w, av_strdup_printf("an event of more than %zu bytes", w->lines.max));
		return -E2BIG;
	}
	if (av_watch_event_parse(line, len, &ev, &cause) < 0) {
		set_stream_error(w, cause ? cause : av_strdup_printf("out of memory"));
		return -EINVAL;
	}
	int r = 0;
	switch (ev.type) {
	case AV_WATCH_BOOKMARK:
		/* Other objects' changes move the version on; without this a
		 * quiet object's watch would restart from an old version and
		 * meet 410 after every compaction. */
		if (ev.rv[0])
			memcpy(w->rv, ev.rv, sizeof(w->rv));
		break;
	case AV_WATCH_ERROR:
		if (ev.code == 410) {
			w->gone = true;
		} else {
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev.object, "message");
			set_stream_error(w, av_strdup_printf("the server ended the watch: %.200s (code %ld)",
			                                     cJSON_IsString(m) ? m->valuestring : "no message",
			                                     ev.code));
		}
		r = -EIO;
		break;
	default:
		/* A server that ignores the field selector sends everything. */
		if (strcmp(ev.name, w->name) != 0)
			break;
		memcpy(w->rv, ev.rv, sizeof(w->rv));
		w->events++;
		w->fn(w->user, ev.type, ev.object, ev.rv);
		ev.object = NULL;
		break;
	}
	av_watch_event_clear(&ev);
	return r;
}

static bool on_data(void *user, const char *data, size_t len)
{
	struct av_watcher *w = user;
	if (stopped(w))
		return false;
	int r = av_watch_lines_feed(&w->lines, data, len, on_line, w);
	if (r == -ENOMEM)
		set_stream_error(w, av_strdup_printf("out of memory"));
	return r == 0;
}

/* resourceVersion is opaque: whatever it holds goes into the query
 * percent-encoded. */
static void encode(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *in && o + 4 < size; in++) {
		unsigned char c = (unsigned char)*in;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		    || c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static int refused(struct av_watcher *w, const struct av_k8s_response *r, const char *verb,
                   char **cause)
{
	char what[512];
	snprintf(what, sizeof(what), "%s (%s in %s)", w->what, w->resource, w->collection);
	char *msg = av_k8s_status_cause(w->k, r, verb, w->resource, w->group, what);
	if (cause) {
		free(*cause);
		*cause = msg;
	} else {
		free(msg);
	}
	return r->status == 401 || r->status == 403 ? -EACCES : -EIO;
}

/* The followed object from a list, detached; NULL when the list has none. */
static cJSON *find_item(cJSON *list, const char *name)
{
	cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items"), *it;
	cJSON_ArrayForEach(it, items) {
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(it, "metadata");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(meta, "name");
		if (cJSON_IsObject(it) && cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return cJSON_DetachItemViaPointer(items, it);
	}
	return NULL;
}

static int list(struct av_watcher *w, char **cause)
{
	char path[1024];
	struct av_k8s_response r;
	struct av_k8s_retry once = w->backoff;

	/* The pauses between attempts are this loop's, not the client's. */
	once.max_attempts = 1;
	av_k8s_set_retry(w->k, &once);
	snprintf(path, sizeof(path), "%s?fieldSelector=metadata.name%%3D%s", w->collection, w->name);
	int ret = av_k8s_request(w->k, "GET", path, NULL, NULL, &r, cause);
	if (ret < 0)
		return ret;
	if (r.status != 200) {
		ret = refused(w, &r, "list", cause);
		av_k8s_response_clear(&r);
		return ret;
	}
	if (av_watch_text_check(r.body, r.len, cause) < 0) {
		av_k8s_response_clear(&r);
		return -EIO;
	}
	cJSON *doc = cJSON_ParseWithLength(r.body, r.len);
	av_k8s_response_clear(&r);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
	if (!cJSON_IsObject(doc) || !cJSON_IsString(rv) || !rv->valuestring[0]
	    || strlen(rv->valuestring) > AV_WATCH_RV_MAX || !(cJSON_IsArray(items) || cJSON_IsNull(items) || !items)) {
		av_set_cause(cause, "the list of %s is not a List with metadata.resourceVersion and items",
		             w->resource);
		cJSON_Delete(doc);
		return -EIO;
	}
	snprintf(w->rv, sizeof(w->rv), "%s", rv->valuestring);
	cJSON *obj = find_item(doc, w->name);
	const cJSON *orv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
	                                                    "resourceVersion");
	char said[AV_WATCH_RV_MAX + 1];
	snprintf(said, sizeof(said), "%s",
	         cJSON_IsString(orv) && strlen(orv->valuestring) <= AV_WATCH_RV_MAX ? orv->valuestring : w->rv);
	cJSON_Delete(doc);
	w->fn(w->user, AV_WATCH_LISTED, obj, said);
	return 0;
}

/* One watch.  Returns 0 when the server ended it (timeoutSeconds), 1 on
 * 410 Gone, -errno with *cause otherwise. */
static int watch(struct av_watcher *w, char **cause)
{
	char path[1536], rv[3 * AV_WATCH_RV_MAX + 1];
	struct av_k8s_response r;
	struct av_k8s_retry one = w->backoff;
	long timeout = w->timeout_s;

	if (timeout <= 0)   /* as client-go: spread out, so watches do not end together */
		timeout = 300 + rand_r(&w->seed) % 301;
	one.max_attempts = 1;
	one.timeout_ms = (timeout + STREAM_MARGIN_S) * 1000;
	av_k8s_set_retry(w->k, &one);
	encode(w->rv, rv, sizeof(rv));
	snprintf(path, sizeof(path), "%s?watch=1&fieldSelector=metadata.name%%3D%s&resourceVersion=%s"
	         "&allowWatchBookmarks=true&timeoutSeconds=%ld", w->collection, w->name, rv, timeout);
	av_watch_lines_reset(&w->lines);
	w->gone = false;
	w->events = 0;
	set_stream_error(w, NULL);
	int ret = av_k8s_stream(w->k, path, on_data, w, &r, cause);
	if (w->gone) {
		ret = 1;
	} else if (w->stream_error) {
		free(*cause);
		*cause = w->stream_error;
		w->stream_error = NULL;
		ret = -EIO;
	} else if (ret == 0 && r.status == 410) {
		ret = 1;
	} else if (ret == 0 && r.status != 200) {
		ret = refused(w, &r, "watch", cause);
	}
	av_k8s_response_clear(&r);
	if (ret == 0) {
		free(*cause);
		*cause = NULL;
	}
	return ret;
}

static void pause_ms(struct av_watcher *w, long ms)
{
	struct timespec until;
	av_deadline_ms(&until, ms);
	pthread_mutex_lock(&w->lock);
	while (!stopped(w) && pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&w->lock);
}

/* Whether two failures are the same but for their figures ("after 3 ms",
 * a port): the log says a failure once, not at every attempt. */
static bool same_failure(const char *a, const char *b)
{
	for (;;) {
		while (*a >= '0' && *a <= '9')
			a++;
		while (*b >= '0' && *b <= '9')
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

static void *run(void *arg)
{
	struct av_watcher *w = arg;
	bool need_list = true;
	int failures = 0;
	char *said = NULL;           /* the failure last logged */

	while (!stopped(w)) {
		char *cause = NULL;
		int r;
		if (need_list) {
			r = list(w, &cause);
			need_list = r < 0;
		} else {
			char from[AV_WATCH_RV_MAX + 1];
			memcpy(from, w->rv, sizeof(from));
			double t0 = av_clock_ms();
			r = watch(w, &cause);
			if (r == 1) {
				w->log("%s: resourceVersion %s is too old (410 Gone): listing it again", w->what, from);
				need_list = true;
				r = 0;
			} else if (r == 0 && w->events == 0 && av_clock_ms() - t0 < SHORT_WATCH_MS) {
				cause = av_strdup_printf("the server ended the watch at once");
				r = -EIO;
			}
		}
		if (stopped(w) || r == -ECANCELED) {
			free(cause);
			break;
		}
		if (r < 0) {
			const char *c = cause ? cause : "out of memory";
			if (!said || !same_failure(said, c)) {
				w->log("%s: %s; retrying with backoff", w->what, c);
				free(said);
				said = strdup(c);
			}
			pause_ms(w, av_k8s_backoff_ms(&w->backoff, failures < 20 ? failures : 20, -1, &w->seed));
			failures++;
		} else if (failures) {
			w->log("%s: watching again after %d failed attempt%s", w->what, failures,
			       failures == 1 ? "" : "s");
			failures = 0;
			free(said);
			said = NULL;
		}
		free(cause);
	}
	free(said);
	return NULL;
}

static void free_watcher(struct av_watcher *w)
{
	av_k8s_free(w->k);
	av_watch_lines_free(&w->lines);
	free(w->stream_error);
	free(w->collection);
	free(w->name);
	free(w->what);
	free(w->resource);
	free(w->group);
	free(w);
}

struct av_watcher *av_watcher_start(struct av_k8s *k, const struct av_watch_opts *o,
                                    av_watch_fn fn, void *user, av_watch_log_fn log,
                                    char **cause)
{
	struct av_watcher *w = calloc(1, sizeof(*w));
	if (!w) {
		av_k8s_free(k);
		av_set_cause(cause, "out of memory");
		return NULL;
	}
	w->k = k;
	w->collection = strdup(o->collection);
	w->name = strdup(o->name);
	w->what = strdup(o->what);
	w->resource = strdup(o->resource);
	w->group = strdup(o->group);
	if (!w->collection || !w->name || !w->what || !w->resource || !w->group) {
		free_watcher(w);
		av_set_cause(cause, "out of memory");
		return NULL;
	}
	w->fn = fn;
	w->user = user;
	w->log = log;
	w->timeout_s = o->timeout_s;
	w->backoff = av_k8s_retry_defaults();
	w->backoff.base_ms = o->backoff_base_ms > 0 ? o->backoff_base_ms : 800;
	w->backoff.cap_ms = o->backoff_cap_ms > 0 ? o->backoff_cap_ms : 30000;
	w->seed = (unsigned int)time(NULL) ^ (unsigned int)getpid() ^ 0x5bd1e995u;
	av_watch_lines_init(&w->lines, o->line_max > 0 ? o->line_max : LINE_MAX_DEFAULT);
	atomic_init(&w->stop, false);
	av_k8s_set_cancel(k, &w->stop);

	pthread_condattr_t ca;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	int r = pthread_create(&w->thread, NULL, run, w);
	if (r != 0) {
		av_set_cause(cause, "cannot start the watch thread: %s", strerror(r));
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free_watcher(w);
		return NULL;
	}
	return w;
}

void av_watcher_cancel(struct av_watcher *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stop, true);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void av_watcher_stop(struct av_watcher *w)
{
	if (!w)
		return;
	av_watcher_cancel(w);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free_watcher(w);
}
