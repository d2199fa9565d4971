#include "config.h"

#include <string.h>

#include <nghttp2/nghttp2.h>

#include "grpc/reqcheck.h"

enum { P_METHOD = 1, P_SCHEME = 2, P_PATH = 4, P_AUTHORITY = 8 };

void av_grpc_reqcheck_init(struct av_grpc_reqcheck *k)
{
	*k = (struct av_grpc_reqcheck){ .content_length = -1 };
}

static bool bad(struct av_grpc_reqcheck *k, const char *why)
{
	if (k->bad == NULL)
		k->bad = why;
	return false;
}

static bool is(const uint8_t *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static bool is_ci(const uint8_t *s, size_t n, const char *lit)
{
	if (n != strlen(lit))
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i] >= 'A' && s[i] <= 'Z' ? (uint8_t)(s[i] + 32) : s[i];

		if (c != (uint8_t)lit[i])
			return false;
	}
	return true;
}

/* RFC 9113 8.2.1: no NUL, CR, LF (nghttp2_check_header_value), and no
 * white space at either end. */
static bool value_ok(const uint8_t *v, size_t n)
{
	if (!nghttp2_check_header_value(v, n))
		return false;
	return n == 0 || (v[0] != ' ' && v[0] != '\t' && v[n - 1] != ' ' && v[n - 1] != '\t');
}

static bool token_ok(const uint8_t *v, size_t n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'z') ||
		      (v[i] >= 'A' && v[i] <= 'Z') || (v[i] != '\0' && strchr(extra, v[i]) != NULL)))
			return false;
	return true;
}

static bool pseudo(struct av_grpc_reqcheck *k, const uint8_t *name, size_t namelen,
                   const uint8_t *value, size_t valuelen, bool trailer)
{
	unsigned bit;

	if (trailer)
		return bad(k, "pseudo-header field in trailers");
	if (k->regular)
		return bad(k, "pseudo-header field after a regular field");
	if (is(name, namelen, ":method"))
		bit = P_METHOD;
	else if (is(name, namelen, ":scheme"))
		bit = P_SCHEME;
	else if (is(name, namelen, ":path"))
		bit = P_PATH;
	else if (is(name, namelen, ":authority"))
		bit = P_AUTHORITY;
	else
		return bad(k, "unknown pseudo-header field");
	if (k->seen & bit)
		return bad(k, "repeated pseudo-header field");
	k->seen |= bit;
	if (!value_ok(value, valuelen))
		return bad(k, "invalid pseudo-header field value");
	switch (bit) {
	case P_METHOD:
		return token_ok(value, valuelen) || bad(k, "invalid :method");
	case P_SCHEME:
		return valuelen > 0 || bad(k, "empty :scheme");
	case P_PATH:
		/* A field value without spaces (nghttp2_check_path's rule). */
		if (valuelen == 0 || value[0] != '/' || memchr(value, ' ', valuelen) != NULL ||
		    memchr(value, '\t', valuelen) != NULL)
			return bad(k, "invalid :path");
		return true;
	default:
		/* :authority: any field value (kubelets before 1.26 send the
		 * socket path). */
		return true;
	}
}

static bool content_length(struct av_grpc_reqcheck *k, const uint8_t *v, size_t n)
{
	int64_t len = 0;

	if (k->content_length >= 0)
		return bad(k, "repeated content-length");
	if (n == 0 || n > 18)
		return bad(k, "invalid content-length");
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return bad(k, "invalid content-length");
		len = len * 10 + (v[i] - '0');
	}
	k->content_length = len;
	return k->data_len <= (uint64_t)len || bad(k, "more DATA than content-length");
}

bool av_grpc_reqcheck_field(struct av_grpc_reqcheck *k, const uint8_t *name, size_t namelen,
                            const uint8_t *value, size_t valuelen, bool trailer)
{
	if (k->bad != NULL)
		return false;
	/* Lower-case tokens (a leading ':' for pseudo-header fields). */
	if (!nghttp2_check_header_name(name, namelen))
		return bad(k, "invalid header field name");
	if (name[0] == ':')
		return pseudo(k, name, namelen, value, valuelen, trailer);
	k->regular = true;
	if (!value_ok(value, valuelen))
		return bad(k, "invalid header field value");
	if (is(name, namelen, "connection") || is(name, namelen, "keep-alive") ||
	    is(name, namelen, "proxy-connection") || is(name, namelen, "transfer-encoding") ||
	    is(name, namelen, "upgrade"))
		return bad(k, "connection-specific header field");
	if (is(name, namelen, "te") && !is_ci(value, valuelen, "trailers"))
		return bad(k, "te other than trailers");
	if (is(name, namelen, "content-length"))
		return content_length(k, value, valuelen);
	return true;
}

bool av_grpc_reqcheck_headers(struct av_grpc_reqcheck *k)
{
	unsigned need = P_METHOD | P_SCHEME | P_PATH;

	if (k->bad != NULL)
		return false;
	return (k->seen & need) == need || bad(k, "missing :method, :scheme or :path");
}

bool av_grpc_reqcheck_data(struct av_grpc_reqcheck *k, size_t len)
{
	if (k->bad != NULL)
		return false;
	k->data_len += len;
	return k->content_length < 0 || k->data_len <= (uint64_t)k->content_length ||
	       bad(k, "more DATA than content-length");
}

bool av_grpc_reqcheck_end(struct av_grpc_reqcheck *k)
{
	if (k->bad != NULL)
		return false;
	return k->content_length < 0 || k->data_len == (uint64_t)k->content_length ||
	       bad(k, "less DATA than content-length");
}
