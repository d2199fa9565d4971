#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grpc/h2conn.h"

/* A peer that stops reading must not make us buffer without end; nghttp2's
 * flow control keeps DATA small, so this only trips on abuse. */
#define PEND_MAX (8u * 1024 * 1024)
/* Bytes read per readiness event before giving other descriptors a turn
 * (epoll is level-triggered, so the rest is read on the next turn). */
#define READ_BUDGET (256u * 1024)
/* Output gathered from nghttp2 before it is sent. */
#define GATHER_MAX (64u * 1024)

void av_h2conn_init(struct av_h2conn *c, struct av_loop *loop, int fd, nghttp2_session *session)
{
	*c = (struct av_h2conn){ .loop = loop, .fd = fd, .session = session };
}

int av_h2conn_watch(struct av_h2conn *c, av_loop_fd_fn fn, void *user)
{
	int r = av_loop_add(c->loop, c->fd, EPOLLIN, fn, user);

	if (r == 0) {
		c->watched = true;
		c->events = EPOLLIN;
	}
	return r;
}

static bool die(struct av_h2conn *c, const char *why)
{
	if (!c->dead) {
		c->dead = true;
		c->why = why;
	}
	return false;
}

static bool keep(struct av_h2conn *c, const uint8_t *data, size_t len)
{
	if (c->pend_off > 0) {
		memmove(c->pend, c->pend + c->pend_off, c->pend_len - c->pend_off);
		c->pend_len -= c->pend_off;
		c->pend_off = 0;
	}
	if (c->pend_len + len > PEND_MAX)
		return die(c, "peer is not reading");
	if (c->pend_len + len > c->pend_cap) {
		size_t cap = c->pend_cap ? c->pend_cap : 4096;
		uint8_t *p;

		while (cap < c->pend_len + len)
			cap *= 2;
		p = realloc(c->pend, cap);
		if (p == NULL)
			return die(c, "out of memory");
		c->pend = p;
		c->pend_cap = cap;
	}
	memcpy(c->pend + c->pend_len, data, len);
	c->pend_len += len;
	return true;
}

static void set_interest(struct av_h2conn *c, bool want_out)
{
	uint32_t ev = EPOLLIN | (want_out ? EPOLLOUT : 0);

	if (c->watched && ev != c->events && av_loop_mod(c->loop, c->fd, ev) == 0)
		c->events = ev;
}

/* Sends the pending bytes.  Returns false on error; *full when the socket
 * took less than all of them. */
static bool send_pending(struct av_h2conn *c, bool *full)
{
	while (c->pend_off < c->pend_len) {
		ssize_t n = send(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				*full = true;
				return true;
			}
			return die(c, "write failed");
		}
		c->pend_off += (size_t)n;
	}
	c->pend_off = c->pend_len = 0;
	return true;
}

bool av_h2conn_flush(struct av_h2conn *c)
{
	bool full = false;

	if (c->dead)
		return false;
	while (!full) {
		/* nghttp2 hands out one frame at a time and a unary reply is
		 * three (HEADERS, DATA, trailers): gathering them makes one
		 * system call of three, the largest part of a call's cost. */
		while (c->pend_len - c->pend_off < GATHER_MAX) {
			const uint8_t *data;
			ssize_t n = nghttp2_session_mem_send(c->session, &data);

			if (n < 0)
				return die(c, nghttp2_strerror((int)n));
			if (n == 0)
				break;
			if (!keep(c, data, (size_t)n))
				return false;
		}
		if (c->pend_off == c->pend_len)
			break;
		if (!send_pending(c, &full))
			return false;
	}
	set_interest(c, c->pend_off < c->pend_len);
	return true;
}

bool av_h2conn_io(struct av_h2conn *c, uint32_t events)
{
	uint8_t buf[16384];
	size_t budget = READ_BUDGET;

	if (c->dead)
		return false;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		while (budget > 0) {
			ssize_t n = read(c->fd, buf, sizeof(buf));
			ssize_t used;

			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				return die(c, "read failed");
			}
			if (n == 0)
				return die(c, "peer closed the connection");
			used = nghttp2_session_mem_recv(c->session, buf, (size_t)n);
			if (used < 0)
				return die(c, nghttp2_strerror((int)used));
			/* A short read drained the socket: skip the read that would
			 * only say EAGAIN (epoll is level-triggered). */
			if ((size_t)n < sizeof(buf))
				break;
			budget = (size_t)n < budget ? budget - (size_t)n : 0;
		}
	}
	if (!av_h2conn_flush(c))
		return false;
	if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session) &&
	    c->pend_off == c->pend_len)
		return die(c, "session finished");
	return true;
}

void av_h2conn_release(struct av_h2conn *c)
{
	if (c->watched)
		av_loop_del(c->loop, c->fd);
	c->watched = false;
	nghttp2_session_del(c->session);
	c->session = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->pend);
	c->pend = NULL;
	c->pend_len = c->pend_off = c->pend_cap = 0;
}
