#include "config.h"

#include <pthread.h>
#include <string.h>

#include "sigdefer.h"

static const int deferred[] = { SIGINT, SIGTERM, SIGHUP };

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
}

int av_sigdefer_pending(const struct av_sigdefer *d)
{
	sigset_t pending;
	if (!d->active || sigpending(&pending) < 0)
		return 0;
	/* Also one that was blocked before (the CLI's own deferral, the
	 * daemon's signalfd): either way the process is asked to stop. */
	for (size_t i = 0; i < sizeof(deferred) / sizeof(deferred[0]); i++)
		if (sigismember(&pending, deferred[i]) == 1)
			return deferred[i];
	return 0;
}

void av_sigdefer_end(struct av_sigdefer *d)
{
	if (d->active)
		pthread_sigmask(SIG_SETMASK, &d->old, NULL);
	d->active = false;
}
