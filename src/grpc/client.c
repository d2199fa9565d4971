#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grpc/client.h"
#include "grpc/frame.h"
#include "grpc/h2conn.h"
#include "grpc/unixsock.h"

struct av_grpc_client {
	struct av_h2conn h2;
	struct av_loop *loop;
	struct av_timer *timer;
	nghttp2_session_callbacks *cbs;

	/* the call in flight */
	bool busy, closed, in_io;
	int32_t stream;
	uint8_t *req;
	size_t req_len, req_off;
	struct av_grpc_reader rx;
	uint8_t *resp;
	size_t resp_len;
	unsigned n_resp;
	int http_status;
	int grpc_status;             /* -1 until seen */
	char message[512];
	const char *local_error;     /* set when we decide the outcome */
	int local_code;
	av_grpc_reply_fn fn;
	void *user;
};

static int header_cb(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user)
{
	struct av_grpc_client *c = user;
	char buf[512];
	size_t n = valuelen < sizeof(buf) - 1 ? valuelen : sizeof(buf) - 1;

	if (frame->hd.stream_id != c->stream)
		return 0;
	memcpy(buf, value, n);
	buf[n] = '\0';
	if (namelen == 7 && memcmp(name, ":status", 7) == 0)
		c->http_status = atoi(buf);
	else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		c->grpc_status = atoi(buf);
	else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
		av_grpc_pct_decode(buf, c->message, sizeof(c->message));
	return 0;
}

static int take_msg(void *user, uint8_t *msg, size_t len)
{
	struct av_grpc_client *c = user;

	if (c->n_resp++ > 0) {
		free(msg);
		return AV_GRPC_INTERNAL;
	}
	c->resp = msg;
	c->resp_len = len;
	return 0;
}

static int data_cb(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *user)
{
	struct av_grpc_client *c = user;
	int r;

	if (id != c->stream || c->local_error != NULL)
		return 0;
	r = av_grpc_reader_feed(&c->rx, data, len, take_msg, c);
	if (r != 0) {
		c->local_code = r;
		c->local_error = c->rx.error ? c->rx.error : "more than one reply message";
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
	}
	return 0;
}

static int close_cb(nghttp2_session *s, int32_t id, uint32_t error_code, void *user)
{
	struct av_grpc_client *c = user;

	if (id == c->stream)
		c->closed = true;
	return 0;
}

static ssize_t read_req(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
                        uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct av_grpc_client *c = user;
	size_t n = c->req_len - c->req_off;

	if (n > length)
		n = length;
	memcpy(buf, c->req + c->req_off, n);
	c->req_off += n;
	if (c->req_off == c->req_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* Hands the outcome to the caller; the last thing done with c. */
static void complete(struct av_grpc_client *c, int code, const char *message)
{
	av_grpc_reply_fn fn = c->fn;
	void *user = c->user;
	uint8_t *resp = c->resp;
	size_t len = c->resp_len;
	char text[sizeof(c->message)];

	snprintf(text, sizeof(text), "%s", message);
	c->busy = false;
	c->resp = NULL;
	free(c->req);
	c->req = NULL;
	av_grpc_reader_clear(&c->rx);
	av_timer_stop(c->timer);
	fn(user, code, text, code == 0 ? resp : NULL, code == 0 ? len : 0);
	free(resp);
}

static void settle(struct av_grpc_client *c)
{
	char text[sizeof(c->message) + 64];

	if (c->local_error != NULL) {
		complete(c, c->local_code, c->local_error);
	} else if (c->http_status != 200) {
		snprintf(text, sizeof(text), "HTTP status %d", c->http_status);
		complete(c, AV_GRPC_UNKNOWN, text);
	} else if (c->grpc_status < 0) {
		complete(c, AV_GRPC_INTERNAL, "reply without grpc-status");
	} else if (c->grpc_status == 0 && (c->n_resp != 1 || av_grpc_reader_partial(&c->rx))) {
		complete(c, AV_GRPC_INTERNAL, "reply without exactly one message");
	} else {
		complete(c, c->grpc_status, c->message);
	}
}

static void client_io(struct av_loop *loop, int fd, uint32_t events, void *user)
{
	struct av_grpc_client *c = user;
	bool alive = av_h2conn_io(&c->h2, events);

	if (!c->busy) {
		if (!alive) {
			av_loop_del(loop, fd);
			c->h2.watched = false;
		}
		return;
	}
	if (c->closed) {
		settle(c);
		return;
	}
	if (!alive) {
		av_loop_del(loop, fd);
		c->h2.watched = false;
		complete(c, AV_GRPC_UNAVAILABLE, c->h2.why ? c->h2.why : "connection lost");
	}
}

static void on_timeout(struct av_loop *loop, void *user)
{
	struct av_grpc_client *c = user;

	if (c->busy && c->h2.dead) {
		complete(c, AV_GRPC_UNAVAILABLE, c->h2.why ? c->h2.why : "connection lost");
	} else if (c->busy) {
		nghttp2_submit_rst_stream(c->h2.session, NGHTTP2_FLAG_NONE, c->stream,
		                          NGHTTP2_CANCEL);
		av_h2conn_flush(&c->h2);
		complete(c, AV_GRPC_DEADLINE_EXCEEDED, "no reply in time");
	}
}

int av_grpc_client_connect(struct av_loop *loop, int dirfd, const char *dir,
                           const char *name, struct av_grpc_client **out)
{
	struct av_grpc_client *c;
	nghttp2_session *s;
	int fd, r;

	fd = av_unix_connect(dirfd, dir, name);
	if (fd < 0)
		return fd;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto nomem;
	c->loop = loop;
	c->timer = av_timer_new(loop, on_timeout, c);
	if (c->timer == NULL || nghttp2_session_callbacks_new(&c->cbs) != 0)
		goto nomem;
	nghttp2_session_callbacks_set_on_header_callback(c->cbs, header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(c->cbs, data_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(c->cbs, close_cb);
	if (nghttp2_session_client_new(&s, c->cbs, c) != 0)
		goto nomem;
	av_h2conn_init(&c->h2, loop, fd, s);
	fd = -1;
	r = nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0);
	if (r != 0 || (r = av_h2conn_watch(&c->h2, client_io, c)) < 0) {
		av_grpc_client_free(c);
		return r < 0 ? r : -EPROTO;
	}
	*out = c;
	return 0;
nomem:
	if (fd >= 0)
		close(fd);
	if (c != NULL) {
		av_timer_free(c->timer);
		nghttp2_session_callbacks_del(c->cbs);
		free(c);
	}
	return -ENOMEM;
}

int av_grpc_client_call(struct av_grpc_client *c, const char *path,
                        const ProtobufCMessage *req, int timeout_ms,
                        av_grpc_reply_fn fn, void *user)
{
	nghttp2_nv nv[] = {
		{ (uint8_t *)":method", (uint8_t *)"POST", 7, 4, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":authority", (uint8_t *)"localhost", 10, 9, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16,
		  NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"te", (uint8_t *)"trailers", 2, 8, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"user-agent", (uint8_t *)"amdvirt/" PACKAGE_VERSION, 10,
		  strlen("amdvirt/" PACKAGE_VERSION), NGHTTP2_NV_FLAG_NONE },
	};
	nghttp2_data_provider prd = { .read_callback = read_req };
	size_t len = protobuf_c_message_get_packed_size(req);
	int32_t id;

	if (c->busy)
		return -EBUSY;
	if (c->h2.dead)
		return -ENOTCONN;
	if (len > AV_GRPC_MAX_MESSAGE)
		return -EMSGSIZE;
	c->req = malloc(AV_GRPC_PREFIX_LEN + len);
	if (c->req == NULL)
		return -ENOMEM;
	av_grpc_put_prefix(c->req, (uint32_t)len);
	protobuf_c_message_pack(req, c->req + AV_GRPC_PREFIX_LEN);
	c->req_len = AV_GRPC_PREFIX_LEN + len;
	c->req_off = 0;
	id = nghttp2_submit_request(c->h2.session, NULL, nv, sizeof(nv) / sizeof(nv[0]), &prd, c);
	if (id < 0) {
		free(c->req);
		c->req = NULL;
		return -EPROTO;
	}
	av_grpc_reader_init(&c->rx, AV_GRPC_MAX_MESSAGE);
	c->stream = id;
	c->busy = true;
	c->closed = false;
	c->n_resp = 0;
	c->http_status = 0;
	c->grpc_status = -1;
	c->message[0] = '\0';
	c->local_error = NULL;
	c->fn = fn;
	c->user = user;
	av_timer_arm(c->timer, timeout_ms);
	/* A write error is reported from the loop, like every outcome. */
	if (!av_h2conn_flush(&c->h2))
		av_timer_arm(c->timer, 0);
	return 0;
}

void av_grpc_client_free(struct av_grpc_client *c)
{
	if (c == NULL)
		return;
	av_h2conn_release(&c->h2);
	av_timer_free(c->timer);
	nghttp2_session_callbacks_del(c->cbs);
	av_grpc_reader_clear(&c->rx);
	free(c->req);
	free(c->resp);
	free(c);
}
