#include "config.h"

#include <pthread.h>
#include <string.h>

#include "actions/sigdefer.h"

static const int deferred[] = { SIGINT, SIGTERM, SIGHUP };

/* Deferrals nest (the CLI holds one around the plan and its last line);
 * what counts is the mask before the outermost.  A signal that was
 * already blocked then is someone else's to read: the daemon's loop takes
 * SIGHUP (a rescan) and SIGTERM through its signalfd and waits for the
 * plan itself, so neither may cut a plan short there. */
static _Thread_local int depth;
static _Thread_local sigset_t outer;

void av_sigdefer_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(deferred) / sizeof(deferred[0]); i++)
		sigaddset(set, deferred[i]);
}

void av_sigdefer_begin(struct av_sigdefer *d)
{
	sigset_t set;
	av_sigdefer_set(&set);
	d->active = pthread_sigmask(SIG_BLOCK, &set, &d->old) == 0;
	if (d->active && depth++ == 0)
		outer = d->old;
}

int av_sigdefer_pending(const struct av_sigdefer *d)
{
	sigset_t pending;
	if (!d->active || sigpending(&pending) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(deferred) / sizeof(deferred[0]); i++)
		if (sigismember(&pending, deferred[i]) == 1 && sigismember(&outer, deferred[i]) != 1)
			return deferred[i];
	return 0;
}

void av_sigdefer_end(struct av_sigdefer *d)
{
	if (!d->active)
		return;
	depth--;
	pthread_sigmask(SIG_SETMASK, &d->old, NULL);
	d->active = false;
}
