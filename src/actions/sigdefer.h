/* SIGINT, SIGTERM and SIGHUP held back while a plan changes the host: a
 * Ctrl-C in the post-condition wait must not leave a function half-way
 * between its driver and vfio-pci.  The signals are blocked, not handled,
 * so once the plan is done (or rolled back) each takes the effect it
 * would have had: the default action ends the process, a handler (the
 * console's) or a signalfd (the daemon's) sees it. */
#ifndef AV_ACTIONS_SIGDEFER_H
#define AV_ACTIONS_SIGDEFER_H

#include <signal.h>
#include <stdbool.h>

struct av_sigdefer {
	sigset_t old;            /* the calling thread's mask before */
	bool active;
};

/* The signals a plan defers. */
void av_sigdefer_set(sigset_t *set);
/* Blocks them in the calling thread. */
void av_sigdefer_begin(struct av_sigdefer *d);
/* The first deferred signal waiting for delivery, 0 for none (one that
 * was blocked before the outermost deferral is not counted). */
int av_sigdefer_pending(const struct av_sigdefer *d);
/* Restores the mask: a waiting signal is delivered now. */
void av_sigdefer_end(struct av_sigdefer *d);

#endif
