/* A gRPC client for one unary call at a time over a unix socket (the
 * plugin's Register call to kubelet).  The reply callback runs exactly once
 * per call, from the event loop, never from inside av_grpc_client_call. */
#ifndef AV_GRPC_CLIENT_H
#define AV_GRPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "base/evloop.h"

struct av_grpc_client;

/* code is a gRPC status (AV_GRPC_UNAVAILABLE when the connection failed,
 * AV_GRPC_DEADLINE_EXCEEDED on timeout); message is decoded text ("" when
 * none); resp is the reply message on success.  The callback may free the
 * client. */
typedef void (*av_grpc_reply_fn)(void *user, int code, const char *message,
                                 const uint8_t *resp, size_t len);

/* Connects to dir/name.  Returns 0 or -errno (-ENOENT, -ECONNREFUSED when
 * nothing listens there). */
int av_grpc_client_connect(struct av_loop *loop, int dirfd, const char *dir,
                           const char *name, struct av_grpc_client **out);
/* Starts a call.  Returns 0, -EBUSY while one is in flight, or -errno. */
int av_grpc_client_call(struct av_grpc_client *c, const char *path,
                        const ProtobufCMessage *req, int timeout_ms,
                        av_grpc_reply_fn fn, void *user);
/* Drops the connection; a call in flight is abandoned without callback. */
void av_grpc_client_free(struct av_grpc_client *c);

#endif
