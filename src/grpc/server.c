#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grpc/h2conn.h"
#include "grpc/server.h"

/* Limits a single peer can push us to (kubelet needs one connection with a
 * handful of streams). */
#define MAX_CONNS 64
#define MAX_STREAMS 128
#define MAX_HEADERS 64               /* header fields per request */
#define CONN_RX_MAX (16u * 1024 * 1024)  /* request bytes buffered per connection */
#define CALL_OUT_MAX (1u * 1024 * 1024)  /* unsent reply bytes per call */
#define STATUS_MSG_MAX 1024

struct sconn;

struct av_grpc_call {
	struct sconn *conn;
	int32_t id;
	char path[128];
	bool post, grpc_ct, bad_header;
	int n_headers;
	struct av_grpc_reader rx;
	size_t rx_bytes;             /* counted against the connection */
	uint8_t *req;
	size_t req_len;
	unsigned n_req;
	bool dispatched, headers_sent, finished, deferred;
	int status;
	char *status_msg;            /* percent-encoded */
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	av_grpc_close_fn on_close;
	void *close_user;
	struct av_grpc_call *prev, *next;
};

struct sconn {
	struct av_h2conn h2;
	struct av_grpc_server *srv;
	struct av_grpc_call *calls;
	size_t rx_bytes;
	bool in_io, flush_scheduled, closing;
	struct sconn *prev, *next;
};

struct av_grpc_server {
	struct av_loop *loop;
	int lfd;
	const struct av_grpc_method *methods;
	size_t n_methods;
	void *user;
	struct sconn *conns;
	int n_conns;
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
};

static void conn_kick(struct sconn *c);

/* --- calls ----------------------------------------------------------- */

static void call_free(struct av_grpc_call *call)
{
	struct sconn *c = call->conn;

	if (call->on_close != NULL) {
		av_grpc_close_fn fn = call->on_close;

		call->on_close = NULL;
		fn(call, call->close_user);
	}
	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	c->rx_bytes -= call->rx_bytes;
	av_grpc_reader_clear(&call->rx);
	free(call->req);
	free(call->out);
	free(call->status_msg);
	free(call);
}

static int out_reserve(struct av_grpc_call *call, size_t add)
{
	size_t need;

	if (call->out_off > 0 && call->out_off == call->out_len)
		call->out_off = call->out_len = 0;
	need = call->out_len + add;
	if (need - call->out_off > CALL_OUT_MAX)
		return -ENOBUFS;
	if (need > call->out_cap) {
		size_t cap = call->out_cap ? call->out_cap : 256;
		uint8_t *p;

		if (call->out_off > 0) {
			memmove(call->out, call->out + call->out_off, call->out_len - call->out_off);
			call->out_len -= call->out_off;
			call->out_off = 0;
			need = call->out_len + add;
		}
		while (cap < need)
			cap *= 2;
		p = realloc(call->out, cap);
		if (p == NULL)
			return -ENOMEM;
		call->out = p;
		call->out_cap = cap;
	}
	return 0;
}

static void status_headers(const struct av_grpc_call *call, char code[12], nghttp2_nv *nv)
{
	snprintf(code, 12, "%d", call->status);
	nv[0] = (nghttp2_nv){ (uint8_t *)"grpc-status", (uint8_t *)code, 11, strlen(code),
	                      NGHTTP2_NV_FLAG_NONE };
	nv[1] = (nghttp2_nv){ (uint8_t *)"grpc-message", (uint8_t *)call->status_msg, 12,
	                      call->status_msg ? strlen(call->status_msg) : 0,
	                      NGHTTP2_NV_FLAG_NONE };
}

static ssize_t read_out(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                        size_t length, uint32_t *flags, nghttp2_data_source *source,
                        void *user)
{
	struct av_grpc_call *call = source->ptr;
	size_t avail = call->out_len - call->out_off;

	if (avail > 0) {
		size_t n = avail < length ? avail : length;

		memcpy(buf, call->out + call->out_off, n);
		call->out_off += n;
		return (ssize_t)n;
	}
	if (call->finished) {
		char code[12];
		nghttp2_nv nv[2];

		status_headers(call, code, nv);
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (nghttp2_submit_trailer(session, stream_id, nv, call->status_msg ? 2 : 1) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		return 0;
	}
	call->deferred = true;
	return NGHTTP2_ERR_DEFERRED;
}

static int start_response(struct av_grpc_call *call)
{
	static const nghttp2_nv nv[] = {
		{ (uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16,
		  NGHTTP2_NV_FLAG_NONE },
	};
	nghttp2_data_provider prd = { .source.ptr = call, .read_callback = read_out };

	call->headers_sent = true;
	return nghttp2_submit_response(call->conn->h2.session, call->id, nv, 2, &prd);
}

/* Wakes the data provider once more output or the end is queued. */
static void call_push(struct av_grpc_call *call)
{
	if (!call->headers_sent)
		start_response(call);
	else if (call->deferred) {
		call->deferred = false;
		nghttp2_session_resume_data(call->conn->h2.session, call->id);
	}
	conn_kick(call->conn);
}

int av_grpc_call_send(struct av_grpc_call *call, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	int r;

	if (call->finished)
		return -EPIPE;
	if (len > AV_GRPC_MAX_MESSAGE)
		return -EMSGSIZE;
	r = out_reserve(call, AV_GRPC_PREFIX_LEN + len);
	if (r == -ENOBUFS) {
		nghttp2_submit_rst_stream(call->conn->h2.session, NGHTTP2_FLAG_NONE, call->id,
		                          NGHTTP2_CANCEL);
		call->finished = true;
		conn_kick(call->conn);
	}
	if (r < 0)
		return r;
	av_grpc_put_prefix(call->out + call->out_len, (uint32_t)len);
	protobuf_c_message_pack(msg, call->out + call->out_len + AV_GRPC_PREFIX_LEN);
	call->out_len += AV_GRPC_PREFIX_LEN + len;
	call_push(call);
	return 0;
}

static void finish_v(struct av_grpc_call *call, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void finish_v(struct av_grpc_call *call, int code, const char *fmt, va_list ap)
{
	char text[STATUS_MSG_MAX];

	if (call->finished)
		return;
	call->finished = true;
	call->status = code;
	if (fmt != NULL && code != AV_GRPC_OK) {
		vsnprintf(text, sizeof(text), fmt, ap);
		call->status_msg = malloc(3 * strlen(text) + 1);
		if (call->status_msg != NULL)
			av_grpc_pct_encode(text, call->status_msg, 3 * strlen(text) + 1);
	}
	if (!call->headers_sent) {
		/* Trailers-only: one HEADERS frame ending the stream. */
		char num[12];
		nghttp2_nv nv[4] = {
			{ (uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE },
			{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16,
			  NGHTTP2_NV_FLAG_NONE },
		};

		status_headers(call, num, nv + 2);
		call->headers_sent = true;
		/* No RST_STREAM after it even when the request is still arriving:
		 * nghttp2 would drop the queued HEADERS and the peer would see
		 * a bare reset instead of the status.  The rest of the request is
		 * read and dropped. */
		nghttp2_submit_response(call->conn->h2.session, call->id, nv,
		                        call->status_msg ? 4 : 3, NULL);
		conn_kick(call->conn);
		return;
	}
	call_push(call);
}

void av_grpc_call_finish(struct av_grpc_call *call, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	finish_v(call, code, fmt, ap);
	va_end(ap);
}

void av_grpc_call_reply(struct av_grpc_call *call, const ProtobufCMessage *msg)
{
	int r = av_grpc_call_send(call, msg);

	if (r == -EMSGSIZE || r == -ENOMEM)
		av_grpc_call_finish(call, AV_GRPC_RESOURCE_EXHAUSTED, "reply does not fit: %s", strerror(-r));
	else
		av_grpc_call_finish(call, AV_GRPC_OK, NULL);
}

void av_grpc_call_on_close(struct av_grpc_call *call, av_grpc_close_fn fn, void *user)
{
	call->on_close = fn;
	call->close_user = user;
}

bool av_grpc_call_finished(const struct av_grpc_call *call)
{
	return call->finished;
}

/* --- nghttp2 callbacks ------------------------------------------------- */

static struct av_grpc_call *stream_call(nghttp2_session *s, int32_t id)
{
	return nghttp2_session_get_stream_user_data(s, id);
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	struct sconn *c = user;
	struct av_grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	call = calloc(1, sizeof(*call));
	if (call == NULL)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	call->conn = c;
	call->id = frame->hd.stream_id;
	av_grpc_reader_init(&call->rx, AV_GRPC_MAX_MESSAGE);
	call->next = c->calls;
	if (c->calls != NULL)
		c->calls->prev = call;
	c->calls = call;
	nghttp2_session_set_stream_user_data(s, call->id, call);
	return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user)
{
	struct av_grpc_call *call = stream_call(s, frame->hd.stream_id);

	if (call == NULL || frame->hd.type != NGHTTP2_HEADERS ||
	    frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	/* A flood of header fields costs decoding time on every one: such a
	 * peer loses the connection. */
	if (++call->n_headers > MAX_HEADERS)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (namelen == 5 && memcmp(name, ":path", 5) == 0) {
		if (valuelen < sizeof(call->path)) {
			memcpy(call->path, value, valuelen);
			call->path[valuelen] = '\0';
		} else {
			call->bad_header = true;
		}
	} else if (namelen == 7 && memcmp(name, ":method", 7) == 0) {
		call->post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
	} else if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
		/* "application/grpc" or "application/grpc+proto" etc. */
		call->grpc_ct = valuelen >= 16 && memcmp(value, "application/grpc", 16) == 0 &&
		                (valuelen == 16 || value[16] == '+' || value[16] == ';');
	}
	return 0;
}

static int take_msg(void *user, uint8_t *msg, size_t len)
{
	struct av_grpc_call *call = user;

	if (call->n_req++ > 0) {
		free(msg);
		return AV_GRPC_UNIMPLEMENTED;
	}
	call->req = msg;
	call->req_len = len;
	return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *user)
{
	struct sconn *c = user;
	struct av_grpc_call *call = stream_call(s, id);
	int r;

	if (call == NULL || call->finished || call->dispatched)
		return 0;
	if (c->rx_bytes + len > CONN_RX_MAX) {
		av_grpc_call_finish(call, AV_GRPC_RESOURCE_EXHAUSTED, "too much request data in flight");
		return 0;
	}
	c->rx_bytes += len;
	call->rx_bytes += len;
	r = av_grpc_reader_feed(&call->rx, data, len, take_msg, call);
	if (r == AV_GRPC_UNIMPLEMENTED && call->rx.error == NULL)
		av_grpc_call_finish(call, r, "%s takes exactly one request message", call->path);
	else if (r != 0)
		av_grpc_call_finish(call, r, "%s", call->rx.error ? call->rx.error : "bad request");
	return 0;
}

static const struct av_grpc_method *find_method(const struct av_grpc_server *srv, const char *path)
{
	for (size_t i = 0; i < srv->n_methods; i++)
		if (strcmp(srv->methods[i].path, path) == 0)
			return &srv->methods[i];
	return NULL;
}

static void plain_http_error(struct av_grpc_call *call, const char *status)
{
	nghttp2_nv nv[] = {
		{ (uint8_t *)":status", (uint8_t *)status, 7, strlen(status), NGHTTP2_NV_FLAG_NONE },
	};

	call->finished = call->headers_sent = true;
	nghttp2_submit_response(call->conn->h2.session, call->id, nv, 1, NULL);
}

static void dispatch(struct av_grpc_call *call)
{
	struct sconn *c = call->conn;
	const struct av_grpc_method *m;
	uint8_t *req;

	call->dispatched = true;
	if (!call->post) {
		plain_http_error(call, "405");
		return;
	}
	if (!call->grpc_ct) {
		plain_http_error(call, "415");
		return;
	}
	if (call->bad_header) {
		av_grpc_call_finish(call, AV_GRPC_INVALID_ARGUMENT, "request path too long");
		return;
	}
	m = find_method(c->srv, call->path);
	if (m == NULL) {
		av_grpc_call_finish(call, AV_GRPC_UNIMPLEMENTED, "unknown method %s", call->path);
		return;
	}
	if (av_grpc_reader_partial(&call->rx)) {
		av_grpc_call_finish(call, AV_GRPC_INTERNAL, "request ended inside a message");
		return;
	}
	if (call->n_req != 1) {
		av_grpc_call_finish(call, AV_GRPC_INTERNAL, "%s needs one request message", call->path);
		return;
	}
	/* The request bytes no longer count against the peer. */
	c->rx_bytes -= call->rx_bytes;
	call->rx_bytes = 0;
	req = call->req;
	call->req = NULL;
	m->fn(call, req, call->req_len, c->srv->user);
	free(req);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	struct av_grpc_call *call;

	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	call = stream_call(s, frame->hd.stream_id);
	if (call != NULL && !call->dispatched && !call->finished)
		dispatch(call);
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t error_code, void *user)
{
	struct av_grpc_call *call = stream_call(s, id);

	if (call != NULL) {
		nghttp2_session_set_stream_user_data(s, id, NULL);
		call_free(call);
	}
	return 0;
}

/* --- connections --------------------------------------------------------- */

static void conn_close(struct sconn *c)
{
	struct av_grpc_server *srv = c->srv;

	c->closing = true;
	while (c->calls != NULL) {
		nghttp2_session_set_stream_user_data(c->h2.session, c->calls->id, NULL);
		call_free(c->calls);
	}
	av_h2conn_release(&c->h2);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->n_conns--;
	/* A scheduled flush still points at c: it frees it instead. */
	if (!c->flush_scheduled)
		free(c);
}

static void conn_io(struct av_loop *loop, int fd, uint32_t events, void *user)
{
	struct sconn *c = user;
	bool alive;

	c->in_io = true;
	alive = av_h2conn_io(&c->h2, events);
	c->in_io = false;
	if (!alive)
		conn_close(c);
}

static void deferred_flush(struct av_loop *loop, void *user)
{
	struct sconn *c = user;

	c->flush_scheduled = false;
	if (c->closing) {
		free(c);
		return;
	}
	if (!av_h2conn_flush(&c->h2))
		conn_close(c);
}

/* Output queued outside the connection's own I/O is written after the
 * current loop turn: writing here could close streams (and run close hooks)
 * under a caller that is walking its list of streams. */
static void conn_kick(struct sconn *c)
{
	if (c->in_io || c->flush_scheduled || c->closing)
		return;
	if (av_loop_defer(c->h2.loop, deferred_flush, c) == 0)
		c->flush_scheduled = true;
}

int av_grpc_server_adopt(struct av_grpc_server *srv, int fd)
{
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 16384 },
	};
	struct sconn *c;
	nghttp2_session *s;

	if (srv->n_conns >= MAX_CONNS) {
		close(fd);
		return -EMFILE;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return -ENOMEM;
	}
	if (nghttp2_session_server_new2(&s, srv->cbs, c, srv->opt) != 0) {
		free(c);
		close(fd);
		return -ENOMEM;
	}
	av_h2conn_init(&c->h2, srv->loop, fd, s);
	c->srv = srv;
	if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, iv, 2) != 0 ||
	    av_h2conn_watch(&c->h2, conn_io, c) < 0) {
		av_h2conn_release(&c->h2);
		free(c);
		return -ENOMEM;
	}
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	if (!av_h2conn_flush(&c->h2))
		conn_close(c);
	return 0;
}

static void on_accept(struct av_loop *loop, int lfd, uint32_t events, void *user)
{
	struct av_grpc_server *srv = user;

	/* A bounded batch per wake-up keeps one flood from starving the
	 * connections already served. */
	for (int i = 0; i < 16; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		av_grpc_server_adopt(srv, fd);
	}
}

struct av_grpc_server *av_grpc_server_new(struct av_loop *loop, int lfd,
                                          const struct av_grpc_method *methods,
                                          size_t n_methods, void *user)
{
	struct av_grpc_server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		goto fail;
	*srv = (struct av_grpc_server){ .loop = loop, .lfd = lfd, .methods = methods,
	                                .n_methods = n_methods, .user = user };
	if (nghttp2_session_callbacks_new(&srv->cbs) != 0)
		goto fail;
	nghttp2_session_callbacks_set_on_begin_headers_callback(srv->cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(srv->cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(srv->cbs, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(srv->cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(srv->cbs, on_stream_close);
	if (nghttp2_option_new(&srv->opt) != 0)
		goto fail;
	/* A peer flooding PINGs or SETTINGS without reading our ACKs is
	 * dropped instead of growing our output queue. */
	nghttp2_option_set_max_outbound_ack(srv->opt, 1000);
	if (lfd >= 0 && av_loop_add(loop, lfd, EPOLLIN, on_accept, srv) < 0)
		goto fail;
	return srv;
fail:
	if (srv != NULL) {
		nghttp2_option_del(srv->opt);
		nghttp2_session_callbacks_del(srv->cbs);
		free(srv);
	}
	if (lfd >= 0)
		close(lfd);
	return NULL;
}

void av_grpc_server_free(struct av_grpc_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->lfd >= 0) {
		av_loop_del(srv->loop, srv->lfd);
		close(srv->lfd);
	}
	while (srv->conns != NULL) {
		/* Best effort: let queued replies (an empty device list) out. */
		av_h2conn_flush(&srv->conns->h2);
		conn_close(srv->conns);
	}
	nghttp2_option_del(srv->opt);
	nghttp2_session_callbacks_del(srv->cbs);
	free(srv);
}

bool av_grpc_server_busy(const struct av_grpc_server *srv)
{
	for (const struct sconn *c = srv->conns; c != NULL; c = c->next)
		if (c->h2.pend_off < c->h2.pend_len || nghttp2_session_want_write(c->h2.session))
			return true;
	return false;
}

int av_grpc_server_connections(const struct av_grpc_server *srv)
{
	return srv->n_conns;
}
