/* gRPC message framing: reassembly from arbitrary chunks, the limits a
 * hostile peer runs into, and grpc-message escaping. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grpc/frame.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunks),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_percent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
