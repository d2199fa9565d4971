/* Non-blocking socket I/O for one nghttp2 session, shared by the gRPC
 * server and client: read what the socket has, feed nghttp2, write what
 * nghttp2 wants to send, and keep the epoll interest in step (EPOLLOUT
 * only while output is pending). */
#ifndef AV_GRPC_H2CONN_H
#define AV_GRPC_H2CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "base/evloop.h"

struct av_h2conn {
	struct av_loop *loop;
	int fd;
	nghttp2_session *session;
	uint8_t *pend;              /* output nghttp2 produced, not yet sent */
	size_t pend_len, pend_off, pend_cap;
	uint32_t events;            /* epoll interest registered now */
	bool watched;
	bool dead;
	const char *why;            /* static reason when dead */
};

/* Takes ownership of fd (non-blocking) and session. */
void av_h2conn_init(struct av_h2conn *c, struct av_loop *loop, int fd, nghttp2_session *session);
/* Registers fd with the loop (EPOLLIN); fn gets the events.  Returns 0 or
 * -errno. */
int av_h2conn_watch(struct av_h2conn *c, av_loop_fd_fn fn, void *user);
/* Handles readiness: reads, feeds nghttp2, then flushes.  Returns false
 * once the connection is over (EOF, error, protocol violation, or nothing
 * left to read or write). */
bool av_h2conn_io(struct av_h2conn *c, uint32_t events);
/* Sends what nghttp2 has queued.  Returns false when the connection died. */
bool av_h2conn_flush(struct av_h2conn *c);
/* Unregisters, frees the session and closes the socket. */
void av_h2conn_release(struct av_h2conn *c);

#endif
