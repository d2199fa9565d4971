/* The HTTP/2 request rules (RFC 9113 section 8) the server enforces itself.
 *
 * nghttp2's own HTTP messaging checks are off: they refuse an :authority
 * holding a '/', which is what kubelets before 1.26 send (the socket path),
 * and a gRPC server has no business judging :authority.  What those checks
 * were for is kept here: field names and values free of bytes that could
 * split or forge a header or a log line, pseudo-header fields known, once
 * each and first, no connection-specific fields, content-length honest.
 * A request that breaks them is malformed: its stream is reset with
 * PROTOCOL_ERROR. */
#ifndef AV_GRPC_REQCHECK_H
#define AV_GRPC_REQCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct av_grpc_reqcheck {
	unsigned seen;               /* pseudo-header fields so far */
	bool regular;                /* a regular field came: no pseudo after it */
	int64_t content_length;      /* -1: not given */
	uint64_t data_len;
	const char *bad;             /* why the request is malformed, static */
};

void av_grpc_reqcheck_init(struct av_grpc_reqcheck *k);
/* One field of the request's HEADERS (trailer: of its trailers).  Returns
 * false, with k->bad set, once the request is malformed. */
bool av_grpc_reqcheck_field(struct av_grpc_reqcheck *k, const uint8_t *name, size_t namelen,
                            const uint8_t *value, size_t valuelen, bool trailer);
/* The request's HEADERS are complete: :method, :scheme and :path given. */
bool av_grpc_reqcheck_headers(struct av_grpc_reqcheck *k);
/* DATA payload bytes, and the end of the request. */
bool av_grpc_reqcheck_data(struct av_grpc_reqcheck *k, size_t len);
bool av_grpc_reqcheck_end(struct av_grpc_reqcheck *k);

#endif
