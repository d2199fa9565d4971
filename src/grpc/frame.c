#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/frame.h"

void av_grpc_reader_init(struct av_grpc_reader *r, size_t max)
{
	*r = (struct av_grpc_reader){ .max = max };
}

void av_grpc_reader_clear(struct av_grpc_reader *r)
{
	free(r->msg);
	r->msg = NULL;
	r->hdr_len = r->msg_len = r->got = r->cap = 0;
}

static int fail(struct av_grpc_reader *r, int code, const char *why)
{
	av_grpc_reader_clear(r);
	r->error = why;
	return code;
}

/* Grows the buffer as bytes arrive, not to the announced length: a peer
 * announcing 4 MiB and sending nothing costs nothing. */
static int reserve(struct av_grpc_reader *r, size_t need)
{
	size_t cap = r->cap ? r->cap : 256;
	uint8_t *p;

	if (need <= r->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > r->msg_len)
		cap = r->msg_len;
	p = realloc(r->msg, cap);
	if (p == NULL)
		return -ENOMEM;
	r->msg = p;
	r->cap = cap;
	return 0;
}

static int deliver(struct av_grpc_reader *r, av_grpc_msg_fn fn, void *user)
{
	uint8_t *msg = r->msg;
	size_t len = r->msg_len;

	r->msg = NULL;
	r->hdr_len = r->msg_len = r->got = r->cap = 0;
	r->n_msgs++;
	if (len == 0) {
		free(msg);
		msg = NULL;
	}
	return fn(user, msg, len);
}

int av_grpc_reader_feed(struct av_grpc_reader *r, const uint8_t *data, size_t len,
                        av_grpc_msg_fn fn, void *user)
{
	if (r->error != NULL)
		return AV_GRPC_INTERNAL;
	while (len > 0) {
		size_t n;
		int rc;

		if (r->hdr_len < AV_GRPC_PREFIX_LEN) {
			n = AV_GRPC_PREFIX_LEN - r->hdr_len;
			if (n > len)
				n = len;
			memcpy(r->hdr + r->hdr_len, data, n);
			r->hdr_len += n;
			data += n;
			len -= n;
			if (r->hdr_len < AV_GRPC_PREFIX_LEN)
				return 0;
			if (r->hdr[0] == 1)
				return fail(r, AV_GRPC_UNIMPLEMENTED,
				            "compressed messages are not supported");
			if (r->hdr[0] != 0)
				return fail(r, AV_GRPC_INTERNAL, "bad message prefix flag");
			r->msg_len = (size_t)r->hdr[1] << 24 | (size_t)r->hdr[2] << 16 |
			             (size_t)r->hdr[3] << 8 | r->hdr[4];
			if (r->msg_len > r->max)
				return fail(r, AV_GRPC_RESOURCE_EXHAUSTED,
				            "message larger than the size limit");
			r->got = 0;
			if (r->msg_len == 0) {
				rc = deliver(r, fn, user);
				if (rc != 0)
					return rc;
			}
			continue;
		}
		n = r->msg_len - r->got;
		if (n > len)
			n = len;
		if (reserve(r, r->got + n) < 0)
			return fail(r, AV_GRPC_RESOURCE_EXHAUSTED, "out of memory");
		memcpy(r->msg + r->got, data, n);
		r->got += n;
		data += n;
		len -= n;
		if (r->got == r->msg_len) {
			rc = deliver(r, fn, user);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

bool av_grpc_reader_partial(const struct av_grpc_reader *r)
{
	return r->hdr_len > 0;
}

void av_grpc_put_prefix(uint8_t out[AV_GRPC_PREFIX_LEN], uint32_t len)
{
	out[0] = 0;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
}

size_t av_grpc_pct_encode(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (size == 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		if (*p >= 0x20 && *p <= 0x7e && *p != '%') {
			if (o + 1 >= size)
				break;
			out[o++] = (char)*p;
		} else {
			if (o + 3 >= size)
				break;
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
	return o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t av_grpc_pct_decode(const char *in, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return 0;
	for (const char *p = in; *p != '\0' && o + 1 < size; p++) {
		int hi, lo;

		if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			p += 2;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return o;
}

const char *av_grpc_code_name(int code)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
		"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
		"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
	};

	if (code < 0 || code >= (int)(sizeof(names) / sizeof(names[0])))
		return "UNKNOWN";
	return names[code];
}
