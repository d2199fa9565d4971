/* gRPC message framing and status helpers, independent of HTTP/2.
 *
 * A gRPC message on an HTTP/2 stream is a 1-byte compressed flag, a 4-byte
 * big-endian length and the protobuf bytes.  The reader reassembles
 * messages from DATA chunks of any size; it is the part a hostile peer
 * reaches first, so it checks every length before allocating. */
#ifndef AV_GRPC_FRAME_H
#define AV_GRPC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gRPC's default receive limit: what the client takes from kubelet and the
 * largest reply the server sends. */
#define AV_GRPC_MAX_MESSAGE (4u * 1024 * 1024)
/* The largest request message the server takes.  Kubelet's are a few KiB
 * (an AllocateRequest for 64 devices is under 1 KiB); the rest is room that
 * a hostile peer must not have, since every open stream may hold one. */
#define AV_GRPC_MAX_REQUEST (64u * 1024)
#define AV_GRPC_PREFIX_LEN 5

enum av_grpc_code {
	AV_GRPC_OK = 0,
	AV_GRPC_CANCELLED = 1,
	AV_GRPC_UNKNOWN = 2,
	AV_GRPC_INVALID_ARGUMENT = 3,
	AV_GRPC_DEADLINE_EXCEEDED = 4,
	AV_GRPC_NOT_FOUND = 5,
	AV_GRPC_RESOURCE_EXHAUSTED = 8,
	AV_GRPC_FAILED_PRECONDITION = 9,
	AV_GRPC_UNIMPLEMENTED = 12,
	AV_GRPC_INTERNAL = 13,
	AV_GRPC_UNAVAILABLE = 14,
};

/* Receives one complete message; the callee owns msg (NULL when len is 0)
 * and frees it.  A non-zero return stops the reader and is passed on. */
typedef int (*av_grpc_msg_fn)(void *user, uint8_t *msg, size_t len);

struct av_grpc_reader {
	size_t max;                  /* message size limit */
	uint8_t hdr[AV_GRPC_PREFIX_LEN];
	size_t hdr_len;
	uint8_t *msg;
	size_t msg_len, got, cap;
	unsigned n_msgs;             /* complete messages so far */
	const char *error;           /* why the stream is unusable, static */
};

void av_grpc_reader_init(struct av_grpc_reader *r, size_t max);
void av_grpc_reader_clear(struct av_grpc_reader *r);

/* Feeds bytes.  Returns 0, or a gRPC status code (r->error says why) when
 * the stream carries a compressed or oversized message, or the callback's
 * non-zero value.  After an error the reader accepts nothing more. */
int av_grpc_reader_feed(struct av_grpc_reader *r, const uint8_t *data, size_t len,
                        av_grpc_msg_fn fn, void *user);
/* True when the stream ended inside a message. */
bool av_grpc_reader_partial(const struct av_grpc_reader *r);

void av_grpc_put_prefix(uint8_t out[AV_GRPC_PREFIX_LEN], uint32_t len);

/* grpc-message is percent-encoded: bytes outside 0x20..0x7e and '%'.
 * Both write at most size-1 bytes plus a NUL (truncating whole escapes)
 * and return the output length. */
size_t av_grpc_pct_encode(const char *in, char *out, size_t size);
size_t av_grpc_pct_decode(const char *in, char *out, size_t size);

/* "OK", "NOT_FOUND", ... ("UNKNOWN" for codes without a name here). */
const char *av_grpc_code_name(int code);

#endif
