/* The sysfs `resource` parser (shared by the checks and the console) and
 * the on-demand reader of one function's BARs, link and reset methods. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "host/details.h"
#include "host/pcires.h"
#include "tmptree.h"

/* An MI300X PF as Linux 6.8 prints it: 64 GiB framebuffer and 2 MiB
 * doorbell BARs above 4 GiB, a 512 KiB register BAR and the ROM below,
 * VF BARs 0 and 2 (lines 7 and 9) for one VF. */
static const char mi300x_pf[] =
	"0x0000084000000000 0x0000087fffffffff 0x000000000014220c\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x000008c000000000 0x000008c0001fffff 0x000000000014220c\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000080000000 0x000000008007ffff 0x0000000000040200\n"
	"0x0000000080480000 0x000000008049ffff 0x0000000000046200\n"
	"0x0000088000000000 0x000008bfffffffff 0x000000000014220c\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x000008c000200000 0x000008c0011fffff 0x000000000014220c\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	"0x0000000080080000 0x000000008047ffff 0x0000000000040200\n";

static void test_parse_pf(void **state)
{
	(void)state;
	struct av_resource r[AV_RES_MAX];
	int bad = 0;
	assert_int_equal(av_resource_parse(mi300x_pf, r, AV_RES_MAX, &bad), 13);
	assert_true(r[0].flags & AV_RES_MEM_64);
	assert_true(r[0].flags & AV_RES_PREFETCH);
	assert_int_equal(r[0].start, 0x84000000000ull);
	assert_int_equal(av_resource_size(&r[0]), 256ull << 30);
	assert_true(av_resource_above_4g(&r[0]));
	assert_int_equal(av_resource_size(&r[2]), 2u << 20);
	assert_false(av_resource_above_4g(&r[5]));
	assert_false(r[5].flags & AV_RES_MEM_64);
	assert_int_equal(av_resource_size(&r[5]), 512u << 10);
	assert_false(av_resource_present(&r[1]));
	assert_int_equal(av_resource_size(&r[1]), 0);
	assert_false(av_resource_unassigned(&r[1]));   /* flags 0: no BAR at all */
	assert_true(av_resource_present(&r[AV_RES_IOV_FIRST]));
	assert_int_equal(av_resource_size(&r[AV_RES_ROM]), 128u << 10);
	/* max cuts a longer file (a bridge's windows) without an error. */
	assert_int_equal(av_resource_parse(mi300x_pf, r, 7, &bad), 7);
}

static void test_parse_unassigned(void **state)
{
	(void)state;
	struct av_resource r[AV_RES_MAX];
	int bad = 0;
	/* Firmware without Above 4G: the 64-bit BAR got no address (UNSET),
	 * an I/O BAR and a disabled ROM beside it. */
	const char *text =
		"0x0000000000000000 0x00000003ffffffff 0x000000002014220c\n"
		"0x000000000000e000 0x000000000000e0ff 0x0000000000040101\n"
		"0x00000000f0000000 0x00000000f001ffff 0x0000000010046200\n";
	assert_int_equal(av_resource_parse(text, r, AV_RES_MAX, &bad), 3);
	assert_true(av_resource_unassigned(&r[0]));
	assert_false(av_resource_above_4g(&r[0]));
	assert_int_equal(av_resource_size(&r[0]), 16ull << 30);
	assert_true(r[1].flags & AV_RES_IO);
	assert_false(av_resource_unassigned(&r[1]));   /* I/O: not a memory window */
	assert_int_equal(av_resource_size(&r[1]), 256);
	assert_true(r[2].flags & AV_RES_DISABLED);
	/* No 0x prefix, upper case, CRLF, no final newline: still the format. */
	assert_int_equal(av_resource_parse("F0000000 f00fffff 0X200\r\n0 0 0", r, AV_RES_MAX, &bad), 2);
	assert_int_equal(r[0].start, 0xf0000000ull);
	assert_int_equal(r[0].flags, AV_RES_MEM);
}

static void test_parse_garbled(void **state)
{
	(void)state;
	struct av_resource r[AV_RES_MAX];
	int bad = 0;
	assert_int_equal(av_resource_parse("", r, AV_RES_MAX, &bad), 0);
	assert_int_equal(av_resource_parse("0x1 0x2\n", r, AV_RES_MAX, &bad), -EINVAL);
	assert_int_equal(bad, 1);
	assert_int_equal(av_resource_parse("0x1 0x2 0x3\n0x1 0x2 0x3 junk\n", r, AV_RES_MAX, &bad), -EINVAL);
	assert_int_equal(bad, 2);
	/* 17 digits overflow 64 bits. */
	assert_int_equal(av_resource_parse("0x11111111111111111 0 0\n", r, AV_RES_MAX, &bad), -EINVAL);
	assert_int_equal(av_resource_parse("0x1 0x2 0x3\n\n0x1 0x2 0x3\n", r, AV_RES_MAX, &bad), -EINVAL);
	assert_int_equal(bad, 2);
	assert_int_equal(av_resource_parse("0x 0x2 0x3\n", r, AV_RES_MAX, &bad), -EINVAL);
	assert_int_equal(av_resource_parse("0x1,0x2,0x3\n", r, AV_RES_MAX, &bad), -EINVAL);
	assert_int_equal(av_resource_parse("0x0000084000000000 0x0000087fffffffff 0x14220c\xff\n", r,
	                                   AV_RES_MAX, &bad), -EINVAL);
	/* A line cut short by a truncated read. */
	assert_int_equal(av_resource_parse("0x1 0x2 0x3\n0x0000000080000000 0x00000000", r, AV_RES_MAX, &bad),
	                 -EINVAL);
	assert_int_equal(bad, 2);
	/* end below start: present, but no size to show. */
	assert_int_equal(av_resource_parse("0x2000 0x1000 0x200\n", r, AV_RES_MAX, &bad), 1);
	assert_int_equal(av_resource_size(&r[0]), 0);
}

static void test_size_str(void **state)
{
	(void)state;
	char s[32];
	av_size_str(256ull << 30, s, sizeof(s));
	assert_string_equal(s, "256 GiB");
	av_size_str(3 << 20, s, sizeof(s));
	assert_string_equal(s, "3 MiB");
	av_size_str(1000, s, sizeof(s));
	assert_string_equal(s, "1000 B");
	av_size_str(0, s, sizeof(s));
	assert_string_equal(s, "0 B");
}

static int setup(void **state)
{
	(void)state;
	return make_root("amdvirt-details");
}

static int teardown(void **state)
{
	(void)state;
	return remove_root();
}

static void test_read(void **state)
{
	(void)state;
	const char *pf = "sys/bus/pci/devices/0000:05:00.0/";
	char path[128];
	snprintf(path, sizeof(path), "%sresource", pf);
	put(path, mi300x_pf);
	snprintf(path, sizeof(path), "%scurrent_link_speed", pf);
	put(path, "16.0 GT/s PCIe\n");
	snprintf(path, sizeof(path), "%smax_link_speed", pf);
	put(path, "32.0 GT/s PCIe\n");
	snprintf(path, sizeof(path), "%scurrent_link_width", pf);
	put(path, "16\n");
	snprintf(path, sizeof(path), "%smax_link_width", pf);
	put(path, "16\n");
	snprintf(path, sizeof(path), "%sreset_method", pf);
	put(path, "flr bus\n");
	/* A VF: no link of its own, garbled resource, no reset method. */
	const char *vf = "sys/bus/pci/devices/0000:05:02.0/";
	snprintf(path, sizeof(path), "%sresource", vf);
	put(path, "0x1 0x2 0x3\nnot a resource line\n");
	snprintf(path, sizeof(path), "%scurrent_link_speed", vf);
	put(path, "Unknown\n");
	snprintf(path, sizeof(path), "%scurrent_link_width", vf);
	put(path, "0\n");

	struct av_host *host = av_host_open(root, NULL);
	assert_non_null(host);
	struct av_func_details d;
	assert_int_equal(av_func_details(host, "0000:05:00.0", &d), 0);
	assert_int_equal(d.res_err, 0);
	assert_int_equal(d.n_res, 13);
	assert_string_equal(d.link.speed, "16.0 GT/s PCIe");
	assert_true(d.link.gts == 16.0);
	assert_int_equal(d.link.max_width, 16);
	assert_true(av_link_known(&d.link));
	assert_true(av_link_degraded(&d.link));
	assert_string_equal(d.reset_method, "flr bus");

	assert_int_equal(av_func_details(host, "0000:05:02.0", &d), 0);
	assert_int_equal(d.res_err, -EINVAL);
	assert_int_equal(d.res_bad_line, 2);
	assert_int_equal(d.n_res, 0);
	assert_false(av_link_known(&d.link));
	assert_false(av_link_degraded(&d.link));
	assert_int_equal(d.link.width, 0);
	assert_int_equal(d.link.max_width, -1);
	assert_string_equal(d.link.max_speed, "");
	assert_int_equal(d.reset_err, -ENOENT);
	assert_string_equal(d.reset_method, "");

	assert_int_equal(av_func_details(host, "0000:06:00.0", &d), -ENOENT);
	assert_int_equal(av_func_details(host, "../../../etc", &d), -EINVAL);
	av_host_free(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_pf),
		cmocka_unit_test(test_parse_unassigned),
		cmocka_unit_test(test_parse_garbled),
		cmocka_unit_test(test_size_str),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
