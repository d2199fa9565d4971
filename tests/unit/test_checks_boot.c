/* boot.pending-reboot and cmdline.params on small trees: BLS entries with
 * grubenv's $kernelopts, /etc/default/grub out of step with BLS,
 * /etc/kernel/cmdline, and the parameters that matter. */
#include "config.h"

#include <errno.h>
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

#include "checks/checks.h"
#include "host/discover.h"
#include "tmptree.h"

static int setup(void **state)
{
	(void)state;
	assert_int_equal(make_root("amdvirt-checks"), 0);
	put("sys/bus/pci/devices/.keep", "");
	put("proc/sys/kernel/osrelease", "5.14.0-427.el9.x86_64\n");
	put("proc/cpuinfo", "vendor_id\t: AuthenticAMD\nflags\t\t: fpu svm\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return remove_root();
}

/* Runs every check on the tree and returns a copy of the first result of
 * id (status in *st), or NULL. */
static char *result(const char *id, enum av_check_status *st)
{
	struct av_host *h = av_host_open(root, NULL);
	assert_non_null(h);
	struct av_model m;
	assert_int_equal(av_discover(h, NULL, &m), 0);
	struct av_check_opts opts = { .all = true };
	struct av_check_report r;
	assert_int_equal(av_checks_run(h, NULL, &m, &opts, &r), 0);
	char *msg = NULL;
	for (int i = 0; i < r.n_results && !msg; i++)
		if (strcmp(r.results[i].id, id) == 0) {
			*st = r.results[i].status;
			msg = strdup(r.results[i].message);
		}
	av_check_report_clear(&r);
	av_model_free(&m);
	av_host_free(h);
	return msg;
}

static void test_bls_kernelopts(void **state)
{
	(void)state;
	put("proc/cmdline", "BOOT_IMAGE=(hd0,gpt2)/vmlinuz-5.14.0-427.el9.x86_64 root=/dev/mapper/rhel-root ro "
	                    "crashkernel=1G-4G:192M rhgb quiet\n");
	put("boot/loader/entries/abc-5.14.0-362.el9.x86_64.conf",
	    "title old\nversion 5.14.0-362.el9.x86_64\nlinux /vmlinuz-5.14.0-362.el9.x86_64\noptions $kernelopts iommu=off\n");
	put("boot/loader/entries/abc-5.14.0-427.el9.x86_64.conf",
	    "title RHEL\nversion 5.14.0-427.el9.x86_64\nlinux /vmlinuz-5.14.0-427.el9.x86_64\n"
	    "options $kernelopts $tuned_params\n");
	put("boot/grub2/grubenv", "# GRUB Environment Block\nkernelopts=root=/dev/mapper/rhel-root ro "
	                          "crashkernel=1G-4G:192M rhgb quiet\n###########\n");
	enum av_check_status st;
	char *msg = result("boot.pending-reboot", &st);
	assert_non_null(msg);
	assert_int_equal(st, AV_CHECK_PASS);
	assert_non_null(strstr(msg, "abc-5.14.0-427.el9.x86_64.conf"));
	free(msg);

	/* grubby --args=iommu=pt on the entry, not yet rebooted. */
	put("boot/grub2/grubenv", "kernelopts=root=/dev/mapper/rhel-root ro crashkernel=1G-4G:192M rhgb quiet "
	                          "iommu=pt\n");
	msg = result("boot.pending-reboot", &st);
	assert_int_equal(st, AV_CHECK_FAIL);
	assert_non_null(strstr(msg, "not active: iommu=pt"));
	free(msg);
}

static void test_grub_not_in_bls(void **state)
{
	(void)state;
	put("boot/grub2/grubenv", "kernelopts=root=/dev/mapper/rhel-root ro crashkernel=1G-4G:192M rhgb quiet\n");
	put("etc/default/grub", "GRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX=\"crashkernel=1G-4G:192M rhgb quiet "
	                        "modprobe.blacklist=amdgpu\"\nGRUB_ENABLE_BLSCFG=true\n");
	enum av_check_status st;
	char *msg = result("boot.pending-reboot", &st);
	assert_int_equal(st, AV_CHECK_FAIL);
	assert_non_null(strstr(msg, "in /etc/default/grub but not in the boot entry: modprobe.blacklist=amdgpu"));
	free(msg);
	put("etc/default/grub", "GRUB_CMDLINE_LINUX=\"crashkernel=1G-4G:192M rhgb quiet\"\n");
	msg = result("boot.pending-reboot", &st);
	assert_int_equal(st, AV_CHECK_PASS);
	free(msg);
}

static void test_kernel_cmdline_and_lost(void **state)
{
	(void)state;
	char path[2 * PATH_MAX + 64];
	snprintf(path, sizeof(path), "rm -rf '%s/boot/loader' '%s/etc/default'", root, root);
	assert_int_equal(system(path), 0);
	put("etc/kernel/cmdline", "root=/dev/mapper/rhel-root ro quiet\n");
	put("proc/cmdline", "initrd=\\initrd.img root=/dev/mapper/rhel-root ro quiet vfio-pci.ids=1002:74b5\n");
	enum av_check_status st;
	char *msg = result("boot.pending-reboot", &st);
	assert_int_equal(st, AV_CHECK_WARN);
	assert_non_null(strstr(msg, "active but not configured (lost at next boot): vfio-pci.ids=1002:74b5"));
	free(msg);
}

static void test_cmdline_params(void **state)
{
	(void)state;
	put("proc/cmdline", "root=/dev/sda1 iommu=1 amd_iommu=on,fullflush intel_iommu=on pci=noari\n");
	enum av_check_status st;
	char *msg = result("cmdline.params", &st);
	assert_int_equal(st, AV_CHECK_WARN);
	assert_non_null(strstr(msg, "iommu=1 has no effect"));
	assert_non_null(strstr(msg, "amd_iommu=on,fullflush has no effect"));
	assert_non_null(strstr(msg, "intel_iommu=on has no effect on an AMD host"));
	assert_non_null(strstr(msg, "pci=noari disables ARI"));
	free(msg);
	put("proc/cmdline", "root=/dev/sda1 \"iommu=off\"\n");
	msg = result("cmdline.params", &st);
	assert_int_equal(st, AV_CHECK_FAIL);
	free(msg);
	put("proc/cmdline", "");
	msg = result("cmdline.params", &st);
	assert_int_equal(st, AV_CHECK_PASS);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bls_kernelopts),
		cmocka_unit_test(test_grub_not_in_bls),
		cmocka_unit_test(test_kernel_cmdline_and_lost),
		cmocka_unit_test(test_cmdline_params),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
