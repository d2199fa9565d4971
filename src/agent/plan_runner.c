#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "actions/sigdefer.h"
#include "agent/plan_runner.h"

struct av_plan_runner {
	struct av_loop *loop;
	struct av_host *host;
	av_plan_done_fn done;
	void *user;
	int efd;                 /* the thread's "finished", read by the loop */
	pthread_t thread;
	bool busy;
	struct av_plan plan;
	int result;
	char *cause;
	double ms;
};

static void *run(void *arg)
{
	struct av_plan_runner *r = arg;
	double t0 = av_clock_ms();
	r->result = av_plan_execute(r->host, &r->plan, NULL, &r->cause);
	r->ms = av_clock_ms() - t0;
	uint64_t one = 1;
	/* An eventfd write of 1 cannot fail short of a closed fd. */
	while (write(r->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Joins the thread and reports; r->busy is true on entry. */
static void finish(struct av_plan_runner *r)
{
	pthread_join(r->thread, NULL);
	r->busy = false;
	r->done(r->user, &r->plan, r->result, r->cause, r->ms);
	av_plan_clear(&r->plan);
	free(r->cause);
	r->cause = NULL;
}

static void on_finished(struct av_loop *loop, int fd, uint32_t events, void *user)
{
	struct av_plan_runner *r = user;
	uint64_t n;
	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) == (ssize_t)sizeof(n) && r->busy)
		finish(r);
}

struct av_plan_runner *av_plan_runner_new(struct av_loop *loop, struct av_host *host, av_plan_done_fn done,
                                          void *user)
{
	struct av_plan_runner *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	*r = (struct av_plan_runner){ .loop = loop, .host = host, .done = done, .user = user };
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0 || av_loop_add(loop, r->efd, EPOLLIN, on_finished, r) < 0) {
		int err = errno;
		if (r->efd >= 0)
			close(r->efd);
		free(r);
		errno = err;
		return NULL;
	}
	return r;
}

bool av_plan_runner_busy(const struct av_plan_runner *r)
{
	return r && r->busy;
}

int av_plan_runner_start(struct av_plan_runner *r, struct av_plan *plan)
{
	if (r->busy)
		return -EBUSY;
	r->plan = *plan;
	r->result = 0;
	r->cause = NULL;
	/* The thread starts with SIGINT, SIGTERM and SIGHUP blocked whatever
	 * the caller's mask, so none is ever delivered to it mid-plan: they
	 * go to the loop's signalfd, and the daemon's stop waits for the plan
	 * (av_plan_runner_free). */
	struct av_sigdefer defer;
	av_sigdefer_begin(&defer);
	int e = pthread_create(&r->thread, NULL, run, r);
	av_sigdefer_end(&defer);
	if (e != 0) {
		memset(&r->plan, 0, sizeof(r->plan));
		return -e;
	}
	memset(plan, 0, sizeof(*plan));
	r->busy = true;
	return 0;
}

void av_plan_runner_free(struct av_plan_runner *r)
{
	if (!r)
		return;
	if (r->busy)
		finish(r);
	av_loop_del(r->loop, r->efd);
	close(r->efd);
	free(r);
}
