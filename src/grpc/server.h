/* A gRPC server on a listening unix socket, driven by the event loop.
 *
 * Every method takes one request message (at most AV_GRPC_MAX_REQUEST
 * bytes); a handler answers at once
 * (av_grpc_call_reply / av_grpc_call_error) or keeps the call open and
 * streams messages until it finishes it or the peer goes away.  Requests
 * that are malformed, oversized, compressed or for unknown methods are
 * answered with gRPC errors here and never reach a handler. */
#ifndef AV_GRPC_SERVER_H
#define AV_GRPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "base/evloop.h"
#include "grpc/frame.h"

struct av_grpc_server;
struct av_grpc_call;

/* req is only valid during the call. */
typedef void (*av_grpc_handler_fn)(struct av_grpc_call *call, const uint8_t *req,
                                   size_t len, void *user);
/* The call is about to be freed (peer reset, connection lost, server
 * closed, or the stream completed). */
typedef void (*av_grpc_close_fn)(struct av_grpc_call *call, void *user);

struct av_grpc_method {
	const char *path;            /* "/v1beta1.DevicePlugin/Allocate" */
	av_grpc_handler_fn fn;
};

/* Takes ownership of the listening descriptor lfd (-1: connections only
 * come through av_grpc_server_adopt).  methods must outlive the server.
 * Returns NULL on allocation failure. */
struct av_grpc_server *av_grpc_server_new(struct av_loop *loop, int lfd,
                                          const struct av_grpc_method *methods,
                                          size_t n_methods, void *user);
/* Serves an already connected, non-blocking socket (taken over, closed on
 * failure).  Returns 0 or -errno. */
int av_grpc_server_adopt(struct av_grpc_server *srv, int fd);
/* Closes the listener and every connection; close hooks of open calls run. */
void av_grpc_server_free(struct av_grpc_server *srv);
/* Connections whose output is not yet fully written. */
bool av_grpc_server_busy(const struct av_grpc_server *srv);
int av_grpc_server_connections(const struct av_grpc_server *srv);

/* Queues a message (streaming or before av_grpc_call_finish).  Returns 0,
 * -EPIPE when the call is finished, -EMSGSIZE, or -ENOBUFS when the peer
 * stopped reading (the stream is then reset). */
int av_grpc_call_send(struct av_grpc_call *call, const ProtobufCMessage *msg);
/* Ends the call with a status and, for errors, a message for people. */
void av_grpc_call_finish(struct av_grpc_call *call, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Unary shorthands. */
void av_grpc_call_reply(struct av_grpc_call *call, const ProtobufCMessage *msg);
#define av_grpc_call_error av_grpc_call_finish
/* A log line about a call, naming its peer; lines peers can cause are
 * capped (a burst, then a count of the lines left out). */
void av_grpc_call_log(struct av_grpc_call *call, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void av_grpc_call_on_close(struct av_grpc_call *call, av_grpc_close_fn fn, void *user);
bool av_grpc_call_finished(const struct av_grpc_call *call);

#endif
