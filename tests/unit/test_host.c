/* Host access under a root: reads, links, atomic writes, the write hook. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/host.h"
#include "tmptree.h"

static int setup(void **state)
{
	(void)state;
	assert_int_equal(make_root("amdvirt-host"), 0);
	put("sys/bus/pci/devices/.keep", "");
	put("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/vendor", "0x1002\n");
	put("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/numa_node", "-1\n");
	put("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/garbled", "0xzz\n");
	put("sys/bus/pci/drivers/vfio-pci/bind", "");
	link_to("sys/bus/pci/devices/0000:01:00.0", "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
	link_to("sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/driver", "../../../../bus/pci/drivers/vfio-pci");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return remove_root();
}

static void test_open_missing_root(void **state)
{
	(void)state;
	char *cause = NULL;
	assert_null(av_host_open("/nonexistent/amdvirt-root", &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "/nonexistent/amdvirt-root"));
	free(cause);
}

static void test_reads_through_links(void **state)
{
	(void)state;
	struct av_host *h = av_host_open(root, NULL);
	char buf[64];
	long v;
	assert_non_null(h);
	assert_int_equal(av_read_text(h, "/sys/bus/pci/devices/0000:01:00.0/vendor", buf, sizeof(buf)), 6);
	assert_string_equal(buf, "0x1002");
	assert_int_equal(av_read_long(h, "/sys/bus/pci/devices/0000:01:00.0/vendor", 16, &v), 0);
	assert_int_equal(v, 0x1002);
	assert_int_equal(av_read_long(h, "/sys/bus/pci/devices/0000:01:00.0/numa_node", 10, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(av_read_long(h, "/sys/bus/pci/devices/0000:01:00.0/garbled", 16, &v), -EINVAL);
	assert_int_equal(av_read_long(h, "/sys/bus/pci/devices/0000:01:00.0/missing", 16, &v), -ENOENT);
	assert_true(av_read_link_base(h, "/sys/bus/pci/devices/0000:01:00.0/driver", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "vfio-pci");
	assert_true(av_exists(h, "/sys/bus/pci/drivers/vfio-pci/bind"));
	assert_true(av_is_dir(h, "/sys/bus/pci/devices/0000:01:00.0"));
	assert_false(av_exists(h, "/sys/bus/pci/drivers/gim"));
	av_host_free(h);
}

static void test_path_and_root(void **state)
{
	(void)state;
	char buf[PATH_MAX * 2], slashed[PATH_MAX + 2];
	snprintf(slashed, sizeof(slashed), "%s//", root);
	struct av_host *h = av_host_open(slashed, NULL);
	assert_non_null(h);
	assert_string_equal(av_host_root(h), root);
	assert_false(av_host_is_real_root(h));
	char want[PATH_MAX * 2];
	snprintf(want, sizeof(want), "%s/proc/cmdline", root);
	assert_string_equal(av_host_path(h, "/proc/cmdline", buf, sizeof(buf)), want);
	av_host_free(h);

	h = av_host_open("/", NULL);
	assert_true(av_host_is_real_root(h));
	assert_string_equal(av_host_path(h, "/proc/cmdline", buf, sizeof(buf)), "/proc/cmdline");
	av_host_free(h);
}

static void test_atomic_write(void **state)
{
	(void)state;
	struct av_host *h = av_host_open(root, NULL);
	char buf[64];
	assert_int_equal(av_write_atomic(h, "/var/lib/amdvirt/state.json", "{}\n", 3), 0);
	assert_int_equal(av_read_text(h, "/var/lib/amdvirt/state.json", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "{}");
	assert_int_equal(av_write_atomic(h, "/var/lib/amdvirt/state.json", "[1]", 3), 0);
	assert_int_equal(av_read_text(h, "/var/lib/amdvirt/state.json", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "[1]");
	av_host_free(h);
}

struct hook_log {
	char path[128];
	char data[64];
	int calls;
};

static int record_write(struct av_host *h, const char *path, const char *data, size_t len, void *user)
{
	(void)h;
	struct hook_log *log = user;
	snprintf(log->path, sizeof(log->path), "%s", path);
	snprintf(log->data, sizeof(log->data), "%.*s", (int)len, data);
	log->calls++;
	return -EBUSY;
}

static void test_write_and_hook(void **state)
{
	(void)state;
	struct av_host *h = av_host_open(root, NULL);
	char buf[64];
	assert_int_equal(av_write(h, "/sys/bus/pci/drivers/vfio-pci/bind", "0000:01:00.0"), 0);
	assert_int_equal(av_read_text(h, "/sys/bus/pci/drivers/vfio-pci/bind", buf, sizeof(buf)), 12);
	assert_int_equal(av_write(h, "/sys/bus/pci/drivers/gim/bind", "x"), -ENOENT);

	struct hook_log log = { .calls = 0 };
	av_host_set_write_hook(h, record_write, &log);
	assert_int_equal(av_write(h, "/sys/bus/pci/drivers_probe", "0000:01:00.0"), -EBUSY);
	assert_int_equal(log.calls, 1);
	assert_string_equal(log.path, "/sys/bus/pci/drivers_probe");
	assert_string_equal(log.data, "0000:01:00.0");
	av_host_free(h);
}

static void test_read_all_limits(void **state)
{
	(void)state;
	struct av_host *h = av_host_open(root, NULL);
	char big[10000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put("etc/big", big);
	char *out;
	assert_int_equal(av_read_all(h, "/etc/big", 1 << 20, &out), (ssize_t)strlen(big));
	assert_int_equal(out[strlen(big)], '\0');
	free(out);
	assert_int_equal(av_read_all(h, "/etc/big", 4096, &out), -EFBIG);
	assert_null(out);
	av_host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_missing_root),
		cmocka_unit_test(test_reads_through_links),
		cmocka_unit_test(test_path_and_root),
		cmocka_unit_test(test_atomic_write),
		cmocka_unit_test(test_write_and_hook),
		cmocka_unit_test(test_read_all_limits),
	};
	return cmocka_run_group_tests_name("host", tests, setup, teardown);
}
