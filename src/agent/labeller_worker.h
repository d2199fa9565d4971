/* The daemon's labeller: a thread that keeps the Node's labels at the last
 * desired set it was handed, so that slow or failing API calls (retries,
 * Retry-After, timeouts) never hold up the event loop serving kubelet.
 *
 * The daemon computes the labels (av_labeller_labels) at start and after
 * every rescan and hands them over with av_labeller_update; the thread
 * sends nothing when the set equals the one it last applied, and retries
 * failures later with its own backoff (a newer set replaces the one being
 * retried). */
#ifndef AV_LABELLER_WORKER_H
#define AV_LABELLER_WORKER_H

#include <stdbool.h>

#include "host/devconfig.h"
#include "k8s/client.h"
#include "labels/labels.h"

typedef void (*av_labeller_log_fn)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct av_labeller_opts {
	long retry_min_ms;           /* first wait after a failure; default 5 s */
	long retry_max_ms;           /* longest wait; default 5 min */
};

struct av_labeller;

/* Starts the thread.  Takes k (freed by av_labeller_stop).  cfg names the
 * DeviceConfig whose operator keys are owned (copied; may be NULL).  log
 * gets one line per change applied and per failure.  opts may be NULL.
 * Returns NULL with *cause (k is then freed too). */
struct av_labeller *av_labeller_start(struct av_k8s *k, const char *node,
                                      const struct av_config *cfg, av_labeller_log_fn log,
                                      const struct av_labeller_opts *opts, char **cause);

/* Hands over a desired set (copied) and returns at once.  force sends a GET
 * even when the set equals the last one applied (a periodic resync: someone
 * may have edited the Node).  Returns 0 or -ENOMEM. */
int av_labeller_update(struct av_labeller *l, const struct av_labels *desired, bool force);

/* Waits until the thread has nothing to do (the last set applied, or its
 * attempt failed and waits for a retry).  Returns 0 when the last attempt
 * succeeded, the failure (-errno) otherwise, -ETIMEDOUT after timeout_ms. */
int av_labeller_wait_idle(struct av_labeller *l, long timeout_ms);

/* Ends a request in flight and the thread, and frees everything. */
void av_labeller_stop(struct av_labeller *l);

#endif
