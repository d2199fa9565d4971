#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grpc/h2conn.h"
#include "grpc/loglimit.h"
#include "grpc/reqcheck.h"
#include "grpc/server.h"
#include "base/log.h"

/* Limits peers can push us to (kubelet needs one connection with a handful
 * of streams and messages of a few KiB).  What they bound together is in
 * doc/daemon.md ("Memory"), measured by bench/plugin-attack.py. */
#define MAX_CONNS 64
#define MAX_STREAMS 128
#define MAX_HEADERS 64               /* header fields per request */
#define CONN_RX_MAX (256u * 1024)    /* request bytes buffered per connection */
#define SRV_RX_MAX (4u * 1024 * 1024)    /* ... and across all connections */
#define CONN_OUT_MAX (1u * 1024 * 1024)  /* unsent reply bytes per connection */
#define SRV_OUT_MAX (4u * 1024 * 1024)   /* ... and across all connections */
#define STATUS_MSG_MAX 1024
/* A connection that has not sent the client preface and its SETTINGS by
 * then is closed: idle sockets must not hold the table kubelet needs. */
#define GREETING_MS 3000
/* ... and one may be closed to make room after this long silent (a newer
 * one may just not have been read yet). */
#define IDLE_MS 500
/* Lines about peers: a burst per window per kind, then a count. */
#define LOG_BURST 20
#define LOG_WINDOW_MS 10000

struct sconn;

struct av_grpc_call {
	struct sconn *conn;
	int32_t id;
	char path[128];
	bool post, grpc_ct, bad_header;
	int n_headers;
	struct av_grpc_reqcheck chk;
	const char *reset_why;       /* our RST_STREAM's reason, static */
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
	size_t rx_bytes;             /* request bytes buffered */
	size_t out_bytes;            /* reply bytes not yet handed to nghttp2 */
	bool in_io, flush_scheduled, closing;
	bool greeted;                /* preface and SETTINGS received */
	bool doomed;                 /* to be closed after this loop turn */
	bool said_goodbye;           /* its end is logged already */
	int64_t born_ms, active_ms;
	pid_t pid;                   /* SO_PEERCRED; 0 outside our pid namespace */
	uid_t uid;
	bool cred;
	unsigned serial;
	char err[160];               /* nghttp2's last complaint about the peer */
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
	unsigned serial;
	size_t rx_bytes, out_bytes;  /* the sums over connections */
	struct av_timer *timer;      /* greeting deadlines, log summaries */
	struct av_loglimit proto;    /* resets, refusals, closed connections */
	struct av_loglimit calls;    /* handlers' lines (av_grpc_call_log) */
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
};

static void conn_kick(struct sconn *c);
static void conn_close(struct sconn *c);
static void housekeeping_soon(struct av_grpc_server *srv, int64_t after_ms);

/* --- naming peers in the log ---------------------------------------------- */

/* "kubelet[1234]".  The command name is the peer's to choose: it goes
 * through av_log like any text, which escapes what it must. */
static void peer_name(const struct sconn *c, char *buf, size_t size)
{
	char path[48], comm[32];
	ssize_t n = -1;
	int fd;

	if (!c->cred) {
		snprintf(buf, size, "connection %u", c->serial);
		return;
	}
	if (c->pid <= 0) {
		snprintf(buf, size, "uid %u (pid not visible here)", (unsigned)c->uid);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)c->pid);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, sizeof(comm) - 1);
		close(fd);
	}
	if (n > 0 && comm[n - 1] == '\n')
		n--;
	if (n > 0) {
		comm[n] = '\0';
		snprintf(buf, size, "%s[%d]", comm, (int)c->pid);
	} else {
		snprintf(buf, size, "pid %d", (int)c->pid);
	}
}

static void conn_log(struct sconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conn_log(struct sconn *c, const char *fmt, ...)
{
	struct av_grpc_server *srv = c->srv;
	char who[96], text[768];
	va_list ap;

	if (!av_loglimit_take(&srv->proto, av_now_ms())) {
		housekeeping_soon(srv, av_loglimit_tick(&srv->proto, av_now_ms()));
		return;
	}
	peer_name(c, who, sizeof(who));
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	av_log("gRPC peer %s: %s", who, text);
}

void av_grpc_call_log(struct av_grpc_call *call, const char *fmt, ...)
{
	struct av_grpc_server *srv = call->conn->srv;
	char who[96], text[768];
	va_list ap;

	if (!av_loglimit_take(&srv->calls, av_now_ms())) {
		housekeeping_soon(srv, av_loglimit_tick(&srv->calls, av_now_ms()));
		return;
	}
	peer_name(call->conn, who, sizeof(who));
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	av_log("%s; peer %s", text, who);
}

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
	c->srv->rx_bytes -= call->rx_bytes;
	c->out_bytes -= call->out_len - call->out_off;
	c->srv->out_bytes -= call->out_len - call->out_off;
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
		call->conn->out_bytes -= n;
		call->conn->srv->out_bytes -= n;
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

/* A request that will not be served no longer holds its bytes (the rest of
 * it is read and dropped). */
static void drop_request(struct av_grpc_call *call)
{
	call->conn->rx_bytes -= call->rx_bytes;
	call->conn->srv->rx_bytes -= call->rx_bytes;
	call->rx_bytes = 0;
	av_grpc_reader_clear(&call->rx);
	free(call->req);
	call->req = NULL;
}

/* Ends the stream with RST_STREAM; why goes into the log line written when
 * the frame leaves (on_frame_send). */
static void call_reset(struct av_grpc_call *call, uint32_t code, const char *why)
{
	call->finished = call->dispatched = true;
	call->reset_why = why;
	drop_request(call);
	nghttp2_submit_rst_stream(call->conn->h2.session, NGHTTP2_FLAG_NONE, call->id, code);
	conn_kick(call->conn);
}

/* The connection holding the most of a budget (rx: request bytes, else
 * reply bytes), not counting those already being closed. */
static struct sconn *hoarder(struct av_grpc_server *srv, bool rx)
{
	struct sconn *best = NULL;

	for (struct sconn *c = srv->conns; c != NULL; c = c->next)
		if (!c->doomed && !c->closing &&
		    (best == NULL || (rx ? c->rx_bytes > best->rx_bytes : c->out_bytes > best->out_bytes)))
			best = c;
	return best;
}

/* Unsent reply bytes of the connections not about to be closed. */
static size_t out_kept(const struct av_grpc_server *srv)
{
	size_t n = 0;

	for (const struct sconn *c = srv->conns; c != NULL; c = c->next)
		if (!c->doomed && !c->closing)
			n += c->out_bytes;
	return n;
}

/* Over the budget of unsent replies: the peer that reads least loses its
 * connection, after this loop turn when the caller may be walking its list
 * of streams (one of them may be that peer's).  Kubelet reads its replies
 * at once, so it is never that peer while someone else hoards. */
static bool out_budget(struct av_grpc_call *call, size_t add)
{
	struct sconn *c = call->conn, *h;

	if (c->out_bytes + add > CONN_OUT_MAX) {
		call_reset(call, NGHTTP2_CANCEL, "the peer does not read its replies (1 MiB unsent)");
		return false;
	}
	/* Connections already condemned free their share after this turn. */
	while (c->srv->out_bytes + add > SRV_OUT_MAX && out_kept(c->srv) + add > SRV_OUT_MAX) {
		h = hoarder(c->srv, false);
		if (h == NULL || h == c || h->out_bytes == 0) {
			call_reset(call, NGHTTP2_CANCEL, "replies unsent to all peers exceed 4 MiB");
			return false;
		}
		conn_log(h, "closing the connection: it holds the most of the replies unsent "
		         "to all peers (%zu KiB of 4 MiB)", h->out_bytes / 1024);
		h->said_goodbye = true;
		/* Inside c's own I/O (a handler replying) no one walks a list
		 * of streams: h can go at once, as on the request side. */
		if (c->in_io) {
			conn_close(h);
		} else {
			h->doomed = true;
			conn_kick(h);
		}
	}
	return true;
}

int av_grpc_call_send(struct av_grpc_call *call, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	int r;

	if (call->finished)
		return -EPIPE;
	if (len > AV_GRPC_MAX_MESSAGE)
		return -EMSGSIZE;
	if (!out_budget(call, AV_GRPC_PREFIX_LEN + len))
		return -ENOBUFS;
	r = out_reserve(call, AV_GRPC_PREFIX_LEN + len);
	if (r < 0)
		return r;
	av_grpc_put_prefix(call->out + call->out_len, (uint32_t)len);
	protobuf_c_message_pack(msg, call->out + call->out_len + AV_GRPC_PREFIX_LEN);
	call->out_len += AV_GRPC_PREFIX_LEN + len;
	call->conn->out_bytes += AV_GRPC_PREFIX_LEN + len;
	call->conn->srv->out_bytes += AV_GRPC_PREFIX_LEN + len;
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
	drop_request(call);
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

/* A request the server itself turns down, before or instead of a handler:
 * the peer gets the status, the log a line naming it. */
static void refuse(struct av_grpc_call *call, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void refuse(struct av_grpc_call *call, int code, const char *fmt, ...)
{
	char text[STATUS_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	conn_log(call->conn, "stream %d (%s): %s: %s", call->id,
	         call->path[0] ? call->path : "no path", av_grpc_code_name(code), text);
	av_grpc_call_finish(call, code, "%s", text);
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
	av_grpc_reqcheck_init(&call->chk);
	av_grpc_reader_init(&call->rx, AV_GRPC_MAX_REQUEST);
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
	struct sconn *c = user;
	struct av_grpc_call *call = stream_call(s, frame->hd.stream_id);
	bool trailer;

	if (call == NULL || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	trailer = frame->headers.cat != NGHTTP2_HCAT_REQUEST;
	/* A flood of header fields costs decoding time on every one: such a
	 * peer loses the connection. */
	if (++call->n_headers > MAX_HEADERS) {
		snprintf(c->err, sizeof(c->err), "more than %d header fields on stream %d",
		         MAX_HEADERS, call->id);
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	/* A malformed request is reset once its HEADERS are in (on_frame_recv). */
	if (!av_grpc_reqcheck_field(&call->chk, name, namelen, value, valuelen, trailer) || trailer)
		return 0;
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

/* Whether len more request bytes fit the budgets.  Over the budget of all
 * connections, the peer holding the most of it loses its connection (it is
 * not the one being read, so closing it here is safe); kubelet's requests
 * are a few KiB, so it is never that peer while someone else hoards. */
static bool rx_budget(struct sconn *c, struct av_grpc_call *call, size_t len)
{
	struct av_grpc_server *srv = c->srv;

	if (c->rx_bytes + len > CONN_RX_MAX) {
		refuse(call, AV_GRPC_RESOURCE_EXHAUSTED,
		       "more than %u KiB of request data in flight on this connection",
		       CONN_RX_MAX / 1024);
		return false;
	}
	while (srv->rx_bytes + len > SRV_RX_MAX) {
		struct sconn *h = hoarder(srv, true);

		if (h == NULL || h == c || h->rx_bytes == 0) {
			refuse(call, AV_GRPC_RESOURCE_EXHAUSTED,
			       "more than %u MiB of request data in flight from all peers",
			       SRV_RX_MAX / 1024 / 1024);
			return false;
		}
		conn_log(h, "closing the connection: it holds the most of the request data "
		         "in flight from all peers (%zu KiB of %u MiB)", h->rx_bytes / 1024,
		         SRV_RX_MAX / 1024 / 1024);
		h->said_goodbye = true;
		conn_close(h);
	}
	return true;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                   size_t len, void *user)
{
	struct sconn *c = user;
	struct av_grpc_call *call = stream_call(s, id);
	int r;

	if (call == NULL || call->finished || call->dispatched)
		return 0;
	if (!av_grpc_reqcheck_data(&call->chk, len)) {
		call_reset(call, NGHTTP2_PROTOCOL_ERROR, call->chk.bad);
		return 0;
	}
	if (!rx_budget(c, call, len))
		return 0;
	c->rx_bytes += len;
	c->srv->rx_bytes += len;
	call->rx_bytes += len;
	r = av_grpc_reader_feed(&call->rx, data, len, take_msg, call);
	if (r == AV_GRPC_UNIMPLEMENTED && call->rx.error == NULL)
		refuse(call, r, "%s takes exactly one request message", call->path);
	else if (r == AV_GRPC_RESOURCE_EXHAUSTED && call->rx.error != NULL)
		refuse(call, r, "%s (%u KiB)", call->rx.error, AV_GRPC_MAX_REQUEST / 1024);
	else if (r != 0)
		refuse(call, r, "%s", call->rx.error ? call->rx.error : "bad request");
	return 0;
}

static const struct av_grpc_method *find_method(const struct av_grpc_server *srv, const char *path)
{
	for (size_t i = 0; i < srv->n_methods; i++)
		if (strcmp(srv->methods[i].path, path) == 0)
			return &srv->methods[i];
	return NULL;
}

static void plain_http_error(struct av_grpc_call *call, const char *status, const char *why)
{
	nghttp2_nv nv[] = {
		{ (uint8_t *)":status", (uint8_t *)status, 7, strlen(status), NGHTTP2_NV_FLAG_NONE },
	};

	conn_log(call->conn, "stream %d: HTTP %s: %s", call->id, status, why);
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
		plain_http_error(call, "405", "not a POST");
		return;
	}
	if (!call->grpc_ct) {
		plain_http_error(call, "415", "content-type is not application/grpc");
		return;
	}
	if (call->bad_header) {
		refuse(call, AV_GRPC_INVALID_ARGUMENT, "request path too long");
		return;
	}
	m = find_method(c->srv, call->path);
	if (m == NULL) {
		refuse(call, AV_GRPC_UNIMPLEMENTED, "unknown method %s", call->path);
		return;
	}
	if (av_grpc_reader_partial(&call->rx)) {
		refuse(call, AV_GRPC_INTERNAL, "request ended inside a message");
		return;
	}
	if (call->n_req != 1) {
		refuse(call, AV_GRPC_INTERNAL, "%s needs one request message", call->path);
		return;
	}
	/* The request bytes no longer count against the peer. */
	c->rx_bytes -= call->rx_bytes;
	c->srv->rx_bytes -= call->rx_bytes;
	call->rx_bytes = 0;
	req = call->req;
	call->req = NULL;
	m->fn(call, req, call->req_len, c->srv->user);
	free(req);
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	struct sconn *c = user;
	struct av_grpc_call *call;
	bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;

	if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK))
		c->greeted = true;
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	call = stream_call(s, frame->hd.stream_id);
	if (call == NULL || call->dispatched || call->finished)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS) {
		if (frame->headers.cat == NGHTTP2_HCAT_REQUEST)
			av_grpc_reqcheck_headers(&call->chk);
		else if (!end && call->chk.bad == NULL)
			call->chk.bad = "trailers without END_STREAM";
	}
	if (end)
		av_grpc_reqcheck_end(&call->chk);
	if (call->chk.bad != NULL)
		call_reset(call, NGHTTP2_PROTOCOL_ERROR, call->chk.bad);
	else if (end)
		dispatch(call);
	return 0;
}

/* Every stream or connection the server ends at the HTTP/2 level leaves a
 * line: a peer that sees only a reset must not leave the log silent. */
static int on_frame_send(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	struct sconn *c = user;

	if (frame->hd.type == NGHTTP2_RST_STREAM) {
		struct av_grpc_call *call = stream_call(s, frame->hd.stream_id);
		const char *why = call != NULL && call->reset_why != NULL ? call->reset_why
		                : c->err[0] != '\0' ? c->err : "refused by the HTTP/2 layer";

		conn_log(c, "stream %d%s%s%s reset (%s): %s", frame->hd.stream_id,
		         call != NULL && call->path[0] ? " (" : "", call != NULL ? call->path : "",
		         call != NULL && call->path[0] ? ")" : "",
		         nghttp2_http2_strerror(frame->rst_stream.error_code), why);
	} else if (frame->hd.type == NGHTTP2_GOAWAY && !c->said_goodbye) {
		/* nghttp2 puts its reason into the GOAWAY's debug data. */
		int n = (int)(frame->goaway.opaque_data_len < 120 ? frame->goaway.opaque_data_len : 120);

		c->said_goodbye = true;
		if (c->err[0] != '\0' || n == 0)
			conn_log(c, "closing the connection (GOAWAY %s): %s",
			         nghttp2_http2_strerror(frame->goaway.error_code),
			         c->err[0] != '\0' ? c->err : "protocol error");
		else
			conn_log(c, "closing the connection (GOAWAY %s): %.*s",
			         nghttp2_http2_strerror(frame->goaway.error_code), n,
			         (const char *)frame->goaway.opaque_data);
	}
	return 0;
}

static int on_error(nghttp2_session *s, int lib_error_code, const char *msg, size_t len,
                    void *user)
{
	struct sconn *c = user;

	snprintf(c->err, sizeof(c->err), "%.*s", (int)len, msg);
	return 0;
}

/* The reason for the reset or GOAWAY nghttp2 sends next. */
static int on_invalid_frame(nghttp2_session *s, const nghttp2_frame *frame, int lib_error_code,
                            void *user)
{
	static const char *const types[] = { "DATA", "HEADERS", "PRIORITY", "RST_STREAM",
		"SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION" };
	struct sconn *c = user;

	snprintf(c->err, sizeof(c->err), "invalid %s frame on stream %d: %s",
	         frame->hd.type < sizeof(types) / sizeof(types[0]) ? types[frame->hd.type] : "unknown",
	         frame->hd.stream_id, nghttp2_strerror(lib_error_code));
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

/* The connection ended by itself: a line unless the peer simply left or
 * the end is logged already (GOAWAY). */
static void conn_died(struct sconn *c)
{
	const char *why = c->h2.why;

	if (!c->said_goodbye && why != NULL &&
	    (c->err[0] != '\0' || (strcmp(why, "peer closed the connection") != 0 &&
	                           strcmp(why, "session finished") != 0 &&
	                           strcmp(why, "read failed") != 0 &&
	                           strcmp(why, "write failed") != 0)))
		conn_log(c, "connection closed: %s", c->err[0] != '\0' ? c->err : why);
	conn_close(c);
}

static void conn_io(struct av_loop *loop, int fd, uint32_t events, void *user)
{
	struct sconn *c = user;
	bool alive;

	if (events & EPOLLIN)
		c->active_ms = av_now_ms();
	c->in_io = true;
	alive = av_h2conn_io(&c->h2, events);
	c->in_io = false;
	if (!alive)
		conn_died(c);
}

static void deferred_flush(struct av_loop *loop, void *user)
{
	struct sconn *c = user;

	c->flush_scheduled = false;
	if (c->closing) {
		free(c);
		return;
	}
	if (c->doomed)
		conn_close(c);
	else if (!av_h2conn_flush(&c->h2))
		conn_died(c);
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

/* Closes connections that did not greet in time and writes the summaries of
 * left-out log lines; runs only while there is such work. */
static void housekeeping(struct av_loop *loop, void *user)
{
	struct av_grpc_server *srv = user;
	int64_t now = av_now_ms(), next = -1, t;
	struct sconn *c = srv->conns;

	while (c != NULL) {
		struct sconn *n = c->next;

		if (!c->greeted && !c->doomed) {
			if (now - c->born_ms >= GREETING_MS) {
				conn_log(c, "connection closed: no HTTP/2 preface and SETTINGS "
				         "within %d s", GREETING_MS / 1000);
				conn_close(c);
			} else if (next < 0 || c->born_ms + GREETING_MS - now < next) {
				next = c->born_ms + GREETING_MS - now;
			}
		}
		c = n;
	}
	t = av_loglimit_tick(&srv->proto, now);
	if (t >= 0 && (next < 0 || t < next))
		next = t;
	t = av_loglimit_tick(&srv->calls, now);
	if (t >= 0 && (next < 0 || t < next))
		next = t;
	if (next >= 0)
		av_timer_arm(srv->timer, next);
}

static void housekeeping_soon(struct av_grpc_server *srv, int64_t after_ms)
{
	if (srv->timer != NULL && !av_timer_armed(srv->timer))
		av_timer_arm(srv->timer, after_ms);
}

/* With the table full, a connection doing nothing makes room: one that
 * has not greeted (oldest first), else one without streams (least recently
 * active first), silent for IDLE_MS either way.  Kubelet's own connection
 * always has its ListAndWatch stream open. */
static struct sconn *idle_victim(struct av_grpc_server *srv)
{
	int64_t now = av_now_ms();
	struct sconn *best = NULL;

	for (struct sconn *c = srv->conns; c != NULL; c = c->next)
		if (!c->greeted && !c->doomed && now - c->active_ms >= IDLE_MS &&
		    (best == NULL || c->born_ms < best->born_ms))
			best = c;
	if (best != NULL)
		return best;
	for (struct sconn *c = srv->conns; c != NULL; c = c->next)
		if (c->calls == NULL && !c->doomed && now - c->active_ms >= IDLE_MS &&
		    (best == NULL || c->active_ms < best->active_ms))
			best = c;
	return best;
}

int av_grpc_server_adopt(struct av_grpc_server *srv, int fd)
{
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 16384 },
	};
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct sconn *c;
	nghttp2_session *s;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->srv = srv;
	c->serial = ++srv->serial;
	c->born_ms = c->active_ms = av_now_ms();
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0) {
		c->cred = true;
		c->pid = cred.pid;
		c->uid = cred.uid;
	}
	if (srv->n_conns >= MAX_CONNS) {
		struct sconn *v = idle_victim(srv);

		if (v == NULL) {
			conn_log(c, "connection refused: %d connections open, none idle", MAX_CONNS);
			free(c);
			close(fd);
			return -EMFILE;
		}
		conn_log(v, "connection closed to make room for a new one (%d open, this one %s)",
		         MAX_CONNS, v->greeted ? "without streams" : "silent");
		conn_close(v);
	}
	if (nghttp2_session_server_new2(&s, srv->cbs, c, srv->opt) != 0) {
		free(c);
		close(fd);
		return -ENOMEM;
	}
	av_h2conn_init(&c->h2, srv->loop, fd, s);
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
	housekeeping_soon(srv, GREETING_MS);
	if (!av_h2conn_flush(&c->h2))
		conn_died(c);
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
	*srv = (struct av_grpc_server){
		.loop = loop, .lfd = lfd, .methods = methods, .n_methods = n_methods, .user = user,
		.proto = { .what = "lines about gRPC peers (resets, refusals, closed connections)",
		           .burst = LOG_BURST, .window_ms = LOG_WINDOW_MS },
		.calls = { .what = "lines about device plugin calls",
		           .burst = LOG_BURST, .window_ms = LOG_WINDOW_MS },
	};
	srv->timer = av_timer_new(loop, housekeeping, srv);
	if (srv->timer == NULL || nghttp2_session_callbacks_new(&srv->cbs) != 0)
		goto fail;
	nghttp2_session_callbacks_set_on_begin_headers_callback(srv->cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(srv->cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(srv->cbs, on_data);
	nghttp2_session_callbacks_set_on_frame_recv_callback(srv->cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(srv->cbs, on_frame_send);
	nghttp2_session_callbacks_set_error_callback2(srv->cbs, on_error);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(srv->cbs, on_invalid_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(srv->cbs, on_stream_close);
	if (nghttp2_option_new(&srv->opt) != 0)
		goto fail;
	/* A peer flooding PINGs or SETTINGS without reading our ACKs is
	 * dropped instead of growing our output queue. */
	nghttp2_option_set_max_outbound_ack(srv->opt, 1000);
	/* nghttp2's HTTP messaging refuses the :authority of kubelets before
	 * 1.26 (the socket path); on_header applies the rules that matter
	 * (grpc/reqcheck.h). */
	nghttp2_option_set_no_http_messaging(srv->opt, 1);
	/* Closed streams are not kept for the priority tree: memory a peer
	 * could otherwise grow with every stream it opens. */
	nghttp2_option_set_no_closed_streams(srv->opt, 1);
	if (lfd >= 0 && av_loop_add(loop, lfd, EPOLLIN, on_accept, srv) < 0)
		goto fail;
	return srv;
fail:
	if (srv != NULL) {
		nghttp2_option_del(srv->opt);
		nghttp2_session_callbacks_del(srv->cbs);
		av_timer_free(srv->timer);
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
	av_loglimit_flush(&srv->proto, av_now_ms());
	av_loglimit_flush(&srv->calls, av_now_ms());
	nghttp2_option_del(srv->opt);
	nghttp2_session_callbacks_del(srv->cbs);
	av_timer_free(srv->timer);
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
