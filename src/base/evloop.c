#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/evloop.h"

struct slot {
	av_loop_fd_fn fn;
	void *user;
	uint32_t gen;               /* stale events carry an older generation */
};

struct av_timer {
	struct av_loop *loop;
	av_loop_fn fn;
	void *user;
	int64_t due;                /* -1: not armed */
	bool firing;                /* due in the current turn */
	struct av_timer *next;
};

struct deferred {
	av_loop_fn fn;
	void *user;
	struct deferred *next;
};

struct av_loop {
	int epfd;
	struct slot *slots;         /* indexed by fd */
	int n_slots;
	uint32_t gen;
	struct av_timer *timers;
	struct deferred *deferred, **deferred_tail;
	bool quit;
};

double av_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

int64_t av_now_ms(void)
{
	return (int64_t)av_clock_ms();
}

void av_deadline_ms(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

struct av_loop *av_loop_new(void)
{
	struct av_loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int e = errno;
		free(loop);
		errno = e;
		return NULL;
	}
	loop->deferred_tail = &loop->deferred;
	return loop;
}

static void run_deferred(struct av_loop *loop)
{
	/* Deferred calls may defer more; those run in the same pass. */
	while (loop->deferred != NULL) {
		struct deferred *d = loop->deferred;

		loop->deferred = d->next;
		if (loop->deferred == NULL)
			loop->deferred_tail = &loop->deferred;
		d->fn(loop, d->user);
		free(d);
	}
}

void av_loop_free(struct av_loop *loop)
{
	if (loop == NULL)
		return;
	run_deferred(loop);
	/* Timers belong to their owners, who should have freed them; unlink
	 * the rest so a late av_timer_free does not touch freed memory. */
	for (struct av_timer *t = loop->timers; t != NULL; t = t->next)
		t->loop = NULL;
	close(loop->epfd);
	free(loop->slots);
	free(loop);
}

int av_loop_add(struct av_loop *loop, int fd, uint32_t events, av_loop_fd_fn fn, void *user)
{
	struct epoll_event ev = { .events = events };

	if (fd < 0)
		return -EBADF;
	if (fd >= loop->n_slots) {
		int n = loop->n_slots ? loop->n_slots : 16;
		struct slot *s;

		while (n <= fd)
			n *= 2;
		s = realloc(loop->slots, (size_t)n * sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		memset(s + loop->n_slots, 0, (size_t)(n - loop->n_slots) * sizeof(*s));
		loop->slots = s;
		loop->n_slots = n;
	}
	loop->gen++;
	ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)loop->gen << 32;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	loop->slots[fd] = (struct slot){ .fn = fn, .user = user, .gen = loop->gen };
	return 0;
}

int av_loop_mod(struct av_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	if (fd < 0 || fd >= loop->n_slots || loop->slots[fd].fn == NULL)
		return -EBADF;
	ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)loop->slots[fd].gen << 32;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void av_loop_del(struct av_loop *loop, int fd)
{
	if (fd < 0 || fd >= loop->n_slots || loop->slots[fd].fn == NULL)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->slots[fd] = (struct slot){ 0 };
}

int av_loop_defer(struct av_loop *loop, av_loop_fn fn, void *user)
{
	struct deferred *d = malloc(sizeof(*d));

	if (d == NULL)
		return -ENOMEM;
	*d = (struct deferred){ .fn = fn, .user = user };
	*loop->deferred_tail = d;
	loop->deferred_tail = &d->next;
	return 0;
}

struct av_timer *av_timer_new(struct av_loop *loop, av_loop_fn fn, void *user)
{
	struct av_timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	*t = (struct av_timer){ .loop = loop, .fn = fn, .user = user, .due = -1,
	                        .next = loop->timers };
	loop->timers = t;
	return t;
}

void av_timer_arm(struct av_timer *t, int64_t after_ms)
{
	t->due = av_now_ms() + (after_ms < 0 ? 0 : after_ms);
}

void av_timer_stop(struct av_timer *t)
{
	if (t != NULL)
		t->due = -1;
}

bool av_timer_armed(const struct av_timer *t)
{
	return t != NULL && t->due >= 0;
}

void av_timer_free(struct av_timer *t)
{
	if (t == NULL)
		return;
	if (t->loop != NULL) {
		for (struct av_timer **p = &t->loop->timers; *p != NULL; p = &(*p)->next) {
			if (*p == t) {
				*p = t->next;
				break;
			}
		}
	}
	free(t);
}

void av_loop_quit(struct av_loop *loop)
{
	loop->quit = true;
}

bool av_loop_quitting(const struct av_loop *loop)
{
	return loop->quit;
}

static int next_timeout(const struct av_loop *loop, int max_ms)
{
	int64_t now = av_now_ms(), best = -1;

	for (const struct av_timer *t = loop->timers; t != NULL; t = t->next) {
		if (t->due < 0)
			continue;
		if (best < 0 || t->due - now < best)
			best = t->due > now ? t->due - now : 0;
	}
	if (best < 0)
		return max_ms;
	if (max_ms >= 0 && best > max_ms)
		return max_ms;
	return best > 1000000 ? 1000000 : (int)best;
}

static void run_timers(struct av_loop *loop)
{
	int64_t now = av_now_ms();
	bool again = true;

	for (struct av_timer *t = loop->timers; t != NULL; t = t->next)
		t->firing = t->due >= 0 && t->due <= now;
	/* A callback may free or re-arm any timer, so restart the walk after
	 * each one instead of keeping a pointer into the list; a timer re-armed
	 * for "now" waits for the next turn. */
	while (again) {
		again = false;
		for (struct av_timer *t = loop->timers; t != NULL; t = t->next) {
			if (t->firing) {
				t->firing = false;
				if (t->due < 0 || t->due > now)
					continue;
				t->due = -1;
				t->fn(loop, t->user);
				again = true;
				break;
			}
		}
	}
}

int av_loop_run_once(struct av_loop *loop, int max_ms)
{
	struct epoll_event evs[32];
	int n;

	run_deferred(loop);
	n = epoll_wait(loop->epfd, evs, 32, next_timeout(loop, max_ms));
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)evs[i].data.u64;
		uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
		struct slot *s;

		if (fd >= loop->n_slots)
			continue;
		s = &loop->slots[fd];
		if (s->fn == NULL || s->gen != gen)
			continue;
		s->fn(loop, fd, evs[i].events, s->user);
	}
	run_timers(loop);
	run_deferred(loop);
	return 0;
}

int av_loop_run(struct av_loop *loop)
{
	loop->quit = false;
	while (!loop->quit) {
		int r = av_loop_run_once(loop, -1);

		if (r < 0)
			return r;
	}
	run_deferred(loop);
	return 0;
}
