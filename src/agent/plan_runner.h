/* Runs one action plan at a time on a thread of its own, so that a slow
 * step (gim's probe of every GPU can take seconds, the lock and the
 * post-condition waits up to 10 s and 5 s) never holds up the event loop
 * that serves kubelet.  The result comes back in the loop. */
#ifndef AV_PLAN_RUNNER_H
#define AV_PLAN_RUNNER_H

#include <stdbool.h>

#include "actions/actions.h"
#include "base/evloop.h"
#include "host/host.h"

/* Called in the loop's thread when a plan has run: r and cause as from
 * av_plan_execute, ms the time it took.  The plan and cause are freed
 * after it returns. */
typedef void (*av_plan_done_fn)(void *user, const struct av_plan *plan, int r, const char *cause, double ms);

struct av_plan_runner;

/* Returns NULL (errno set) when no thread machinery can be had. */
struct av_plan_runner *av_plan_runner_new(struct av_loop *loop, struct av_host *host, av_plan_done_fn done,
                                          void *user);
bool av_plan_runner_busy(const struct av_plan_runner *r);
/* Takes the plan (*plan is zeroed) and starts it.  Returns 0, -EBUSY while
 * another runs, or -errno (the plan is then left to the caller). */
int av_plan_runner_start(struct av_plan_runner *r, struct av_plan *plan);
/* Waits for a plan that is running (a half-run plan is never abandoned),
 * reports it through done, and frees everything. */
void av_plan_runner_free(struct av_plan_runner *r);

#endif
