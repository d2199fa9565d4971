/* A small single-threaded event loop: epoll for file descriptors, a
 * handful of one-shot timers, and deferred calls that run once the current
 * dispatch has finished (so a handler can drop an object that other
 * handlers of the same turn may still reach).
 *
 * The loop sleeps in epoll_wait until a descriptor is ready or the nearest
 * timer is due; it never wakes up on its own otherwise. */
#ifndef AV_EVLOOP_H
#define AV_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct av_loop;
struct av_timer;

typedef void (*av_loop_fd_fn)(struct av_loop *loop, int fd, uint32_t events, void *user);
typedef void (*av_loop_fn)(struct av_loop *loop, void *user);

/* Returns NULL on allocation or epoll failure (errno set). */
struct av_loop *av_loop_new(void);
/* Frees the loop; descriptors stay open (their owners close them).
 * Pending deferred calls are run first. */
void av_loop_free(struct av_loop *loop);

/* Watches fd for events (EPOLLIN, EPOLLOUT, ...).  Returns 0 or -errno. */
int av_loop_add(struct av_loop *loop, int fd, uint32_t events, av_loop_fd_fn fn, void *user);
int av_loop_mod(struct av_loop *loop, int fd, uint32_t events);
/* Stops watching fd; events already collected for it are dropped. */
void av_loop_del(struct av_loop *loop, int fd);

/* Runs fn(loop, user) after the current dispatch turn.  Returns 0 or
 * -ENOMEM. */
int av_loop_defer(struct av_loop *loop, av_loop_fn fn, void *user);

/* Timers are one-shot; re-arm from the callback for periodic work. */
struct av_timer *av_timer_new(struct av_loop *loop, av_loop_fn fn, void *user);
void av_timer_arm(struct av_timer *t, int64_t after_ms);
void av_timer_stop(struct av_timer *t);
bool av_timer_armed(const struct av_timer *t);
void av_timer_free(struct av_timer *t);

/* Dispatches until av_loop_quit().  Returns 0, or -errno when epoll fails. */
int av_loop_run(struct av_loop *loop);
/* One turn: waits at most max_ms (-1: until something happens). */
int av_loop_run_once(struct av_loop *loop, int max_ms);
void av_loop_quit(struct av_loop *loop);
bool av_loop_quitting(const struct av_loop *loop);

/* CLOCK_MONOTONIC in milliseconds: whole for timers, fractional for the
 * figures in the log. */
int64_t av_now_ms(void);
double av_clock_ms(void);
/* ms from now on CLOCK_MONOTONIC, for pthread_cond_timedwait on a
 * condition made with that clock (a wall-clock step must not stretch or
 * cut a wait). */
void av_deadline_ms(struct timespec *ts, long ms);

#endif
