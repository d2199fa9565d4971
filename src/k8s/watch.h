/* Following one object on the API server as client-go's reflector does:
 * LIST it by name (metadata.name field selector), then watch from the
 * list's resourceVersion; BOOKMARK events move that version on, 410 Gone
 * (an answer, or an ERROR event holding a Status with code 410) means the
 * version is too old and the object is listed again, other failures are
 * retried with a capped, jittered backoff, and the server ending the
 * watch at timeoutSeconds is the normal case: watch again from the last
 * version seen.
 *
 * The watch runs on a thread of its own; what it sees is handed to a
 * callback on that thread, which passes it on (the daemon: to its event
 * loop).  Nothing here decides what a change means. */
#ifndef AV_K8S_WATCH_H
#define AV_K8S_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "k8s/client.h"

struct cJSON;

/* resourceVersion is opaque to clients; longer than this is refused. */
#define AV_WATCH_RV_MAX 128

enum av_watch_type {
	AV_WATCH_ADDED,
	AV_WATCH_MODIFIED,
	AV_WATCH_DELETED,
	AV_WATCH_BOOKMARK,
	AV_WATCH_ERROR,
	/* Not on the wire: the result of a LIST (object NULL when the list
	 * holds none), after the start, a 410 or a failure. */
	AV_WATCH_LISTED,
};

const char *av_watch_type_name(enum av_watch_type t);

/* --- the stream: newline-delimited JSON events --------------------------- */

/* Splits a byte stream into lines, none longer than max bytes. */
struct av_watch_lines {
	char *buf;
	size_t len, cap, max;
	bool skipping;               /* inside a line that was too long */
};

/* Called for each complete line (without its "\n"; blank lines are not
 * passed).  A line longer than max is dropped whole: fn gets line NULL
 * once for it, with len the bytes seen when it was given up.  A negative
 * return stops the feed and is returned by av_watch_lines_feed. */
typedef int (*av_watch_line_fn)(void *user, const char *line, size_t len);

void av_watch_lines_init(struct av_watch_lines *l, size_t max);
/* Returns 0, fn's negative value, or -ENOMEM. */
int av_watch_lines_feed(struct av_watch_lines *l, const char *data, size_t len,
                        av_watch_line_fn fn, void *user);
/* Forgets a partial line (a new stream starts), and a large buffer. */
void av_watch_lines_reset(struct av_watch_lines *l);
void av_watch_lines_free(struct av_watch_lines *l);

struct av_watch_event {
	enum av_watch_type type;
	struct cJSON *object;        /* the event's object, owned; never NULL after a parse */
	char rv[AV_WATCH_RV_MAX + 1]; /* its metadata.resourceVersion, "" when it has none */
	char name[254];              /* its metadata.name, "" when it has none */
	long code;                   /* ERROR: the Status's code, 0 when none */
};

/* Parses one event line {"type": ..., "object": {...}}.  Returns 0, or
 * -EINVAL with *cause saying what is wrong with it (not JSON, no type, an
 * unknown type, an object that is not an object, a resourceVersion that
 * is not a string or too long), or -ENOMEM. */
int av_watch_event_parse(const char *line, size_t len, struct av_watch_event *ev, char **cause);
void av_watch_event_clear(struct av_watch_event *ev);
/* Refuses text holding a NUL byte or a \u0000 escape (cJSON would cut a
 * string there).  Returns 0, or -EINVAL with *cause. */
int av_watch_text_check(const char *text, size_t len, char **cause);

/* --- the watcher ---------------------------------------------------------- */

/* On the watcher's thread: a LISTED result or an ADDED, MODIFIED or
 * DELETED event of the followed object.  object (may be NULL for LISTED)
 * is the callee's to free; rv is the version it came with. */
typedef void (*av_watch_fn)(void *user, enum av_watch_type type, struct cJSON *object,
                            const char *rv);
typedef void (*av_watch_log_fn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct av_watch_opts {
	const char *collection;      /* "/apis/amd.com/v1alpha1/namespaces/NS/deviceconfigs" */
	const char *name;            /* the object's metadata.name (a checked DNS subdomain) */
	const char *what;            /* for messages: "DeviceConfig NS/NAME" */
	const char *resource, *group; /* for RBAC messages: "deviceconfigs", "amd.com" */
	long timeout_s;              /* timeoutSeconds of one watch; 0: 5 to 10 min at random */
	long backoff_base_ms;        /* first pause after a failure; 0: 800 ms */
	long backoff_cap_ms;         /* longest pause; 0: 30 s */
	size_t line_max;             /* longest event line; 0: 1 MiB */
};

struct av_watcher;

/* Starts the thread.  Takes k (freed by av_watcher_stop, also on
 * failure); the strings in opts are copied.  log gets one line when the
 * watch fails (again only when the reason changes), when it works again,
 * and for each re-list after 410.  Returns NULL with *cause. */
struct av_watcher *av_watcher_start(struct av_k8s *k, const struct av_watch_opts *opts,
                                    av_watch_fn fn, void *user, av_watch_log_fn log,
                                    char **cause);
/* Asks the thread to end (a request in flight ends within about a second)
 * without waiting; may be called more than once, from any thread. */
void av_watcher_cancel(struct av_watcher *w);
/* Cancels, waits for the thread and frees everything.  NULL is allowed. */
void av_watcher_stop(struct av_watcher *w);

#endif
