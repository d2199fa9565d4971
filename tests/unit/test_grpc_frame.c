/* gRPC message framing: reassembly from arbitrary chunks, the limits a
 * hostile peer runs into, grpc-message escaping; the HTTP/2 request rules
 * the server keeps (any :authority, malformed requests refused) and the cap
 * on lines about peers. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grpc/frame.h"
#include "grpc/loglimit.h"
#include "grpc/reqcheck.h"

struct got {
	int n;
	size_t lens[8];
	uint8_t first[8];
};

static int collect(void *user, uint8_t *msg, size_t len)
{
	struct got *g = user;

	if (g->n < 8) {
		g->lens[g->n] = len;
		g->first[g->n] = len ? msg[0] : 0;
	}
	g->n++;
	free(msg);
	return 0;
}

static void test_chunks(void **state)
{
	uint8_t wire[5 + 3 + 5 + 0 + 5 + 2];
	size_t o = 0;

	av_grpc_put_prefix(wire + o, 3);
	memcpy(wire + o + 5, "abc", 3);
	o += 8;
	av_grpc_put_prefix(wire + o, 0);
	o += 5;
	av_grpc_put_prefix(wire + o, 2);
	memcpy(wire + o + 5, "xy", 2);
	o += 7;
	/* Every split into single bytes and into two halves gives the same. */
	for (size_t step = 1; step <= o; step++) {
		struct av_grpc_reader r;
		struct got g = { 0 };

		av_grpc_reader_init(&r, AV_GRPC_MAX_MESSAGE);
		for (size_t i = 0; i < o; i += step)
			assert_int_equal(av_grpc_reader_feed(&r, wire + i, i + step > o ? o - i : step,
			                                     collect, &g), 0);
		assert_int_equal(g.n, 3);
		assert_int_equal(g.lens[0], 3);
		assert_int_equal(g.first[0], 'a');
		assert_int_equal(g.lens[1], 0);
		assert_int_equal(g.lens[2], 2);
		assert_int_equal(g.first[2], 'x');
		assert_false(av_grpc_reader_partial(&r));
		av_grpc_reader_clear(&r);
	}
}

static void test_limits(void **state)
{
	struct av_grpc_reader r;
	struct got g = { 0 };
	uint8_t big[5], zip[5] = { 1, 0, 0, 0, 0 }, bad[5] = { 7, 0, 0, 0, 0 }, part[7];

	av_grpc_reader_init(&r, AV_GRPC_MAX_MESSAGE);
	av_grpc_put_prefix(big, AV_GRPC_MAX_MESSAGE + 1);
	assert_int_equal(av_grpc_reader_feed(&r, big, 5, collect, &g), AV_GRPC_RESOURCE_EXHAUSTED);
	assert_non_null(r.error);
	/* Once failed, nothing more is taken. */
	assert_int_not_equal(av_grpc_reader_feed(&r, zip, 5, collect, &g), 0);
	av_grpc_reader_clear(&r);

	av_grpc_reader_init(&r, AV_GRPC_MAX_MESSAGE);
	assert_int_equal(av_grpc_reader_feed(&r, zip, 5, collect, &g), AV_GRPC_UNIMPLEMENTED);
	av_grpc_reader_clear(&r);
	av_grpc_reader_init(&r, AV_GRPC_MAX_MESSAGE);
	assert_int_equal(av_grpc_reader_feed(&r, bad, 5, collect, &g), AV_GRPC_INTERNAL);
	av_grpc_reader_clear(&r);

	/* Exactly at the limit is fine (announced; only 2 bytes buffered). */
	av_grpc_reader_init(&r, AV_GRPC_MAX_MESSAGE);
	av_grpc_put_prefix(part, AV_GRPC_MAX_MESSAGE);
	part[5] = part[6] = 0;
	assert_int_equal(av_grpc_reader_feed(&r, part, 7, collect, &g), 0);
	assert_true(av_grpc_reader_partial(&r));
	assert_true(r.cap <= 256);
	av_grpc_reader_clear(&r);
	assert_int_equal(g.n, 0);
}

static int refuse(void *user, uint8_t *msg, size_t len)
{
	free(msg);
	return 42;
}

static void test_callback_stops(void **state)
{
	struct av_grpc_reader r;
	uint8_t two[12];

	av_grpc_put_prefix(two, 1);
	two[5] = 'a';
	av_grpc_put_prefix(two + 6, 1);
	two[11] = 'b';
	av_grpc_reader_init(&r, AV_GRPC_MAX_MESSAGE);
	assert_int_equal(av_grpc_reader_feed(&r, two, 12, refuse, NULL), 42);
	av_grpc_reader_clear(&r);
}

static void test_percent(void **state)
{
	char enc[64], dec[64];

	av_grpc_pct_encode("device 12: 50% \"bad\"\n\xc3\xa9", enc, sizeof(enc));
	assert_string_equal(enc, "device 12: 50%25 \"bad\"%0A%C3%A9");
	av_grpc_pct_decode(enc, dec, sizeof(dec));
	assert_string_equal(dec, "device 12: 50% \"bad\"\n\xc3\xa9");
	/* Truncation never splits an escape. */
	av_grpc_pct_encode("ab\n", enc, 5);
	assert_string_equal(enc, "ab");
	av_grpc_pct_decode("%zz%4", dec, sizeof(dec));
	assert_string_equal(dec, "%zz%4");
	assert_string_equal(av_grpc_code_name(5), "NOT_FOUND");
	assert_string_equal(av_grpc_code_name(99), "UNKNOWN");
}

/* Feeds name/value pairs ("" ends the list); returns the verdict. */
static const char *request(const char *const *nv, size_t n, bool end_headers)
{
	static struct av_grpc_reqcheck k;

	av_grpc_reqcheck_init(&k);
	for (size_t i = 0; i + 1 < n; i += 2)
		av_grpc_reqcheck_field(&k, (const uint8_t *)nv[i], strlen(nv[i]),
		                       (const uint8_t *)nv[i + 1], strlen(nv[i + 1]), false);
	if (end_headers)
		av_grpc_reqcheck_headers(&k);
	return k.bad;
}

#define REQ(...) request((const char *const[]){ __VA_ARGS__ }, \
                         sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *), true)
#define BASE ":method", "POST", ":scheme", "http", ":path", "/v1beta1.DevicePlugin/Allocate"

static void test_reqcheck(void **state)
{
	struct av_grpc_reqcheck k;
	const uint8_t nul[] = { 'a', 0, 'b' };

	/* What kubelets before 1.26 send, and what later ones do. */
	assert_null(REQ(BASE, ":authority", "/var/lib/kubelet/device-plugins/amdvirt-amd_com_gpu.sock",
	                "content-type", "application/grpc", "te", "trailers",
	                "user-agent", "grpc-go/1.27.0"));
	assert_null(REQ(BASE, ":authority", "localhost", "content-type", "application/grpc"));
	assert_null(REQ(BASE));                         /* :authority is optional */
	assert_null(REQ(BASE, "te", "Trailers"));

	assert_non_null(REQ(BASE, "x-forged", "a\r\namdvirt: forged"));
	assert_non_null(REQ(BASE, "x-lead", " v"));
	assert_non_null(REQ(BASE, "X-Upper", "v"));
	assert_non_null(REQ(BASE, "", "v"));
	assert_non_null(REQ(":method", "POST", "x-a", "b", ":scheme", "http", ":path", "/p"));
	assert_non_null(REQ(BASE, ":path", "/again"));
	assert_non_null(REQ(BASE, ":protocol", "websocket"));
	assert_non_null(REQ(BASE, ":authority", "a\nb"));
	assert_non_null(REQ(BASE, "connection", "close"));
	assert_non_null(REQ(BASE, "transfer-encoding", "chunked"));
	assert_non_null(REQ(BASE, "te", "gzip"));
	assert_non_null(REQ(":method", "POST", ":scheme", "http"));
	assert_non_null(REQ(":method", "POST", ":scheme", "http", ":path", "no-slash"));
	assert_non_null(REQ(":method", "PO ST", ":scheme", "http", ":path", "/p"));
	assert_non_null(REQ(BASE, "content-length", "12x"));
	assert_non_null(REQ(BASE, "content-length", "1", "content-length", "1"));

	/* NUL inside a value (HPACK carries any byte). */
	av_grpc_reqcheck_init(&k);
	assert_false(av_grpc_reqcheck_field(&k, (const uint8_t *)"x-nul", 5, nul, 3, false));

	/* Trailers: regular fields only. */
	av_grpc_reqcheck_init(&k);
	assert_true(av_grpc_reqcheck_field(&k, (const uint8_t *)"x-t", 3, (const uint8_t *)"v", 1,
	                                   true));
	assert_false(av_grpc_reqcheck_field(&k, (const uint8_t *)":path", 5,
	                                    (const uint8_t *)"/p", 2, true));

	/* content-length must match the DATA. */
	av_grpc_reqcheck_init(&k);
	assert_true(av_grpc_reqcheck_field(&k, (const uint8_t *)"content-length", 14,
	                                   (const uint8_t *)"5", 1, false));
	assert_true(av_grpc_reqcheck_data(&k, 3));
	assert_false(av_grpc_reqcheck_end(&k));
	av_grpc_reqcheck_init(&k);
	av_grpc_reqcheck_field(&k, (const uint8_t *)"content-length", 14, (const uint8_t *)"5", 1,
	                       false);
	assert_false(av_grpc_reqcheck_data(&k, 6));
	av_grpc_reqcheck_init(&k);
	assert_true(av_grpc_reqcheck_data(&k, 100));
	assert_true(av_grpc_reqcheck_end(&k));
}

static void test_loglimit(void **state)
{
	struct av_loglimit l = { .what = "test lines", .burst = 3, .window_ms = 1000 };
	int64_t t = 5000;

	for (int i = 0; i < 3; i++)
		assert_true(av_loglimit_take(&l, t + i));
	assert_false(av_loglimit_take(&l, t + 10));
	assert_false(av_loglimit_take(&l, t + 20));
	assert_int_equal(l.dropped, 2);
	/* The summary is due at the end of the window. */
	assert_int_equal(av_loglimit_tick(&l, t + 500), 500);
	assert_int_equal(av_loglimit_tick(&l, t + 1000), -1);
	assert_int_equal(l.dropped, 0);
	assert_true(av_loglimit_take(&l, t + 1001));
	assert_int_equal(av_loglimit_tick(&l, t + 1002), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunks),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_reqcheck),
		cmocka_unit_test(test_loglimit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
