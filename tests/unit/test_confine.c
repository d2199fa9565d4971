/* A root stays a root: writes, the lock and reads resolve inside ROOT
 * whatever links a hostile tree plants (with openat2 and with the walk that
 * stands in for it), non-regular files are refused rather than waited on,
 * modprobe.d commands from a tree never run, and only commands that change
 * drivers record hives. */
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
#include <sys/utsname.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions/kmod.h"
#include "actions/lock.h"
#include "host/opts.h"
#include "host/host.h"
#include "host/inroot.h"
#include "base/util.h"
#include "tmptree.h"

/* Outside the root: nothing here may change. */
static char out[PATH_MAX];

static const bool WALK = true, OPENAT2 = false;

static int setup(void **state)
{
	av_inroot_use_walk(*(const bool *)*state);
	const char *tmp = getenv("TMPDIR");
	snprintf(out, sizeof(out), "%s/amdvirt-outside-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(out));
	assert_int_equal(make_root("amdvirt-confine"), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	assert_int_equal(system(cmd), 0);
	av_inroot_use_walk(false);
	return remove_root();
}

static void out_put(const char *name, const char *content)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", out, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void out_mkdir(const char *name)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", out, name);
	assert_int_equal(mkdir(p, 0755), 0);
}

/* The outside directory's entries, sorted, and a file's content: what a
 * test compares before and after. */
static void out_listing(char *buf, size_t size)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "cd '%s' && find . -printf '%%p %%y %%s %%l\\n' | sort", out);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(buf, 1, size - 1, p);
	buf[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

static void out_read(const char *name, char *buf, size_t size)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", out, name);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* ROOT/rel as a path of the machine. */
static const char *in_root(const char *rel, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", root, rel);
	return buf;
}

/* ROOT + the outside directory's path: where an absolute link to it
 * leads when the root is "/". */
static void mkdir_root_out(const char *sub)
{
	char p[PATH_MAX * 3];
	snprintf(p, sizeof(p), "mkdir -p '%s%s/%s'", root, out, sub);
	assert_int_equal(system(p), 0);
}

static void sysfs_device(void)
{
	put("sys/devices/pci0000:00/0000:01:00.0/vendor", "0x1002\n");
	put("sys/devices/pci0000:00/0000:01:00.0/driver_override", "(null)\n");
	put("sys/bus/pci/devices/.keep", "");
	link_to("sys/bus/pci/devices/0000:01:00.0", "../../../devices/pci0000:00/0000:01:00.0");
}

static void test_mode(void **state)
{
	/* The openat2 runs really use it on this kernel, or both runs would
	 * test the walk. */
	struct av_host *h = av_host_open(root, NULL);
	assert_true(av_exists(h, "/"));
	assert_int_equal(av_inroot_walking(), *(const bool *)*state);
	av_host_free(h);
}

static void test_sysfs_write_through_link(void **state)
{
	(void)state;
	char p[PATH_MAX * 2], q[PATH_MAX * 2], buf[64], before[4096], after[4096];
	sysfs_device();
	out_put("victim", "untouched\n");
	out_listing(before, sizeof(before));
	struct av_host *h = av_host_open(root, NULL);

	/* The sysfs shape: devices/BDF is a link, the attribute a file. */
	assert_int_equal(av_write(h, "/sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci"), 0);
	assert_int_equal(av_read_text(h, "/sys/devices/pci0000:00/0000:01:00.0/driver_override", buf, sizeof(buf)), 8);

	/* An attribute that is a link, absolute or climbing out: refused. */
	snprintf(p, sizeof(p), "%s/victim", out);
	assert_int_equal(unlink(in_root("sys/devices/pci0000:00/0000:01:00.0/driver_override", q, sizeof(q))), 0);
	link_to("sys/devices/pci0000:00/0000:01:00.0/driver_override", p);
	assert_int_equal(av_write(h, "/sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci"), -ELOOP);
	snprintf(p, sizeof(p), "../../../../../../../../../../../../../..%s/victim", out);
	assert_int_equal(unlink(in_root("sys/devices/pci0000:00/0000:01:00.0/driver_override", q, sizeof(q))), 0);
	link_to("sys/devices/pci0000:00/0000:01:00.0/driver_override", p);
	assert_int_equal(av_write(h, "/sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci"), -ELOOP);

	out_read("victim", buf, sizeof(buf));
	assert_string_equal(buf, "untouched\n");
	out_listing(after, sizeof(after));
	assert_string_equal(before, after);
	av_host_free(h);
}

static void test_state_dir_link(void **state)
{
	(void)state;
	char p[PATH_MAX * 2], buf[64], before[4096], after[4096];
	out_mkdir("state");
	out_listing(before, sizeof(before));
	put("var/lib/.keep", "");
	snprintf(p, sizeof(p), "%s/state", out);
	link_to("var/lib/amdvirt", p);
	struct av_host *h = av_host_open(root, NULL);

	/* On the host the root describes, that link leads to ROOT/<out>/state,
	 * which does not exist. */
	assert_int_equal(av_write_atomic(h, "/var/lib/amdvirt/state.json", "{}\n", 3), -ENOENT);
	out_listing(after, sizeof(after));
	assert_string_equal(before, after);

	mkdir_root_out("state");
	assert_int_equal(av_write_atomic(h, "/var/lib/amdvirt/state.json", "{}\n", 3), 0);
	snprintf(p, sizeof(p), "%s/state/state.json", out);
	assert_int_equal(av_read_text(h, p, buf, sizeof(buf)), 2);
	out_listing(after, sizeof(after));
	assert_string_equal(before, after);
	av_host_free(h);
}

static void test_parents_made_inside(void **state)
{
	(void)state;
	char p[PATH_MAX * 2], before[4096], after[4096];
	out_mkdir("var");
	out_listing(before, sizeof(before));
	snprintf(p, sizeof(p), "%s/var", out);
	link_to("var", p);
	struct av_host *h = av_host_open(root, NULL);
	assert_int_equal(av_write_atomic(h, "/var/lib/amdvirt/hives.json", "{}\n", 3), -ENOENT);
	out_listing(after, sizeof(after));
	assert_string_equal(before, after);

	mkdir_root_out("var");
	assert_int_equal(av_write_atomic(h, "/var/lib/amdvirt/hives.json", "{}\n", 3), 0);
	snprintf(p, sizeof(p), "%s/var/lib/amdvirt/hives.json", out);
	assert_true(av_exists(h, p));
	out_listing(after, sizeof(after));
	assert_string_equal(before, after);
	av_host_free(h);
}

static void test_planted_temp(void **state)
{
	(void)state;
	char p[PATH_MAX * 2], q[PATH_MAX * 2], name[96], buf[64], before[4096], after[4096];
	out_put("victim", "untouched\n");
	out_listing(before, sizeof(before));
	put("var/lib/amdvirt/.keep", "");
	snprintf(p, sizeof(p), "%s/victim", out);
	snprintf(name, sizeof(name), "var/lib/amdvirt/state.json.tmp.%ld", (long)getpid());
	link_to(name, p);
	struct av_host *h = av_host_open(root, NULL);
	assert_int_equal(av_write_atomic(h, "/var/lib/amdvirt/state.json", "{\"v\": 1}\n", 9), 0);
	assert_int_equal(av_read_text(h, "/var/lib/amdvirt/state.json", buf, sizeof(buf)), 8);
	out_read("victim", buf, sizeof(buf));
	assert_string_equal(buf, "untouched\n");
	out_listing(after, sizeof(after));
	assert_string_equal(before, after);
	/* A planted state.json link is replaced, not written through. */
	assert_int_equal(unlink(in_root("var/lib/amdvirt/state.json", q, sizeof(q))), 0);
	link_to("var/lib/amdvirt/state.json", p);
	assert_int_equal(av_write_atomic(h, "/var/lib/amdvirt/state.json", "{}\n", 3), 0);
	out_read("victim", buf, sizeof(buf));
	assert_string_equal(buf, "untouched\n");
	av_host_free(h);
}

static void test_lock_run_link(void **state)
{
	(void)state;
	char p[PATH_MAX * 2], before[4096], after[4096], *cause = NULL;
	out_mkdir("run");
	out_listing(before, sizeof(before));
	snprintf(p, sizeof(p), "%s/run", out);
	link_to("run", p);
	struct av_host *h = av_host_open(root, NULL);
	assert_int_equal(av_lock_take(h, 0, &cause), -ENOENT);
	assert_non_null(cause);
	assert_non_null(strstr(cause, in_root("run/amdvirt.lock", p, sizeof(p))));
	free(cause);
	cause = NULL;
	out_listing(after, sizeof(after));
	assert_string_equal(before, after);

	mkdir_root_out("run");
	int fd = av_lock_take(h, 0, &cause);
	assert_true(fd >= 0);
	av_lock_release(fd);
	snprintf(p, sizeof(p), "%s/run/amdvirt.lock", out);
	assert_true(av_exists(h, p));
	out_listing(after, sizeof(after));
	assert_string_equal(before, after);
	av_host_free(h);
}

static void test_reads_stay_inside(void **state)
{
	(void)state;
	char p[PATH_MAX * 2], buf[64];
	out_put("secret", "outside\n");
	put("etc/hostname", "inside\n");
	snprintf(p, sizeof(p), "%s/secret", out);
	link_to("etc/abs", p);
	snprintf(p, sizeof(p), "../../../../../../../../../../../../../..%s/secret", out);
	link_to("etc/climb", p);
	link_to("etc/host", "/etc/hostname");
	link_to("etc/up", "../../../../../../../../../../../../etc/hostname");
	struct av_host *h = av_host_open(root, NULL);
	assert_int_equal(av_read_text(h, "/etc/abs", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(av_read_text(h, "/etc/climb", buf, sizeof(buf)), -ENOENT);
	assert_false(av_exists(h, "/etc/abs"));
	assert_int_equal(av_read_text(h, "/etc/host", buf, sizeof(buf)), 6);
	assert_string_equal(buf, "inside");
	assert_int_equal(av_read_text(h, "/etc/up", buf, sizeof(buf)), 6);
	assert_string_equal(buf, "inside");
	assert_int_equal(av_read_text(h, "/../../etc/hostname", buf, sizeof(buf)), 6);
	av_host_free(h);
}

static void test_walk_edges(void **state)
{
	(void)state;
	char buf[64];
	put("a/b/c", "c\n");
	link_to("a/loop1", "loop2");
	link_to("a/loop2", "loop1");
	link_to("a/link", "b/c");
	link_to("a/dirlink", "/a/b");
	struct av_host *h = av_host_open(root, NULL);
	assert_int_equal(av_read_text(h, "/a/loop1", buf, sizeof(buf)), -ELOOP);
	assert_int_equal(av_read_text(h, "/a/dirlink/c", buf, sizeof(buf)), 1);
	assert_int_equal(av_read_text(h, "/a/dirlink/../b/./c", buf, sizeof(buf)), 1);
	assert_int_equal(av_read_text(h, "/a/b/c/", buf, sizeof(buf)), -ENOTDIR);
	assert_true(av_is_dir(h, "/a/dirlink/"));
	assert_true(av_is_dir(h, "/.."));
	/* O_NOFOLLOW: the last component itself. */
	int fd = av_open(h, "/a/link", O_RDONLY | O_NOFOLLOW, 0);
	assert_int_equal(fd, -ELOOP);
	fd = av_open(h, "/a/link", O_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(av_read_link_base(h, "/a/dirlink/../link", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "c");
	av_host_free(h);
}

static void test_not_regular(void **state)
{
	(void)state;
	char buf[64], q[PATH_MAX * 2], *text;
	put("etc/default/.keep", "");
	put("etc/conf.d/.keep", "");
	assert_int_equal(mkfifo(in_root("etc/default/grub", q, sizeof(q)), 0644), 0);
	struct av_host *h = av_host_open(root, NULL);
	assert_int_equal(av_read_all(h, "/etc/default/grub", 1 << 20, &text), -AV_ENOTREG);
	assert_null(text);
	assert_int_equal(av_read_text(h, "/etc/default/grub", buf, sizeof(buf)), -AV_ENOTREG);
	assert_int_equal(av_read_all(h, "/etc/conf.d", 1 << 20, &text), -EISDIR);
	assert_true(av_write(h, "/etc/default/grub", "x") < 0);
	assert_string_equal(av_strerror(-AV_ENOTREG), "not a regular file");
	assert_string_equal(av_strerror(EISDIR), strerror(EISDIR));

	char p[PATH_MAX * 2];
	assert_int_equal(av_file_read_all(in_root("etc/default/grub", p, sizeof(p)), 1 << 20, &text), -AV_ENOTREG);
	assert_int_equal(av_file_read_all(in_root("etc/conf.d", p, sizeof(p)), 1 << 20, &text), -EISDIR);
	put("etc/exact", "0123456789");
	assert_int_equal(av_file_read_all(in_root("etc/exact", p, sizeof(p)), 10, &text), 10);
	free(text);
	assert_int_equal(av_file_read_all(in_root("etc/exact", p, sizeof(p)), 9, &text), -EFBIG);
	av_host_free(h);
}

/* A tree that runs this machine's kernel, as the DaemonSet's /host does. */
static struct av_host *kmod_tree(const char *release)
{
	struct utsname u;
	char text[300];
	assert_int_equal(uname(&u), 0);
	snprintf(text, sizeof(text), "%s\n", release ? release : u.release);
	put("proc/sys/kernel/osrelease", text);
	put("sys/module/.keep", "");
	av_kmod_set_ops(NULL, NULL);
	return av_host_open(root, NULL);
}

static void test_kmod_install_line(void **state)
{
	(void)state;
	char line[PATH_MAX * 2], p[PATH_MAX * 2], *cause = NULL;
	snprintf(line, sizeof(line), "# vfio\nblacklist nouveau\ninstall  amd-fake-mod touch %s/pwned # no\n", out);
	put("etc/modprobe.d/evil.conf", line);
	struct av_host *h = kmod_tree(NULL);
	assert_int_equal(av_kmod_load(h, "amd_fake_mod", "", &cause), -EPERM);
	assert_non_null(cause);
	assert_null(strchr(cause, '\n'));
	assert_non_null(strstr(cause, in_root("etc/modprobe.d/evil.conf", p, sizeof(p))));
	assert_non_null(strstr(cause, "install  amd-fake-mod touch"));
	free(cause);
	cause = NULL;
	snprintf(p, sizeof(p), "%s/pwned", out);
	assert_int_equal(access(p, F_OK), -1);

	/* A command reached another way (an alias) is refused by libkmod's
	 * hook: the scan above looks for the name asked for only. */
	snprintf(line, sizeof(line), "alias amd_fake_alias amd_fake_target\ninstall amd_fake_target touch %s/pwned2\n",
	         out);
	put("lib/modprobe.d/alias.conf", line);
	int r = av_kmod_load(h, "amd_fake_alias", "", &cause);
	assert_true(r < 0);
	if (cause)
		printf("# %s\n", cause);
	snprintf(p, sizeof(p), "%s/pwned2", out);
	assert_int_equal(access(p, F_OK), -1);
	free(cause);
	av_host_free(h);
}

static void test_kmod_remove_line(void **state)
{
	(void)state;
	char p[PATH_MAX * 2], *cause = NULL;
	put("run/modprobe.d/gim.conf", "remove gim /bin/sh -c 'echo gone'\n");
	struct av_host *h = kmod_tree(NULL);
	assert_int_equal(av_kmod_unload(h, "gim", &cause), -EPERM);
	assert_non_null(strstr(cause, in_root("run/modprobe.d/gim.conf", p, sizeof(p))));
	assert_non_null(strstr(cause, "remove gim"));
	free(cause);
	av_host_free(h);
}

static void test_kmod_other_kernel(void **state)
{
	(void)state;
	char p[PATH_MAX * 2], *cause = NULL;
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	struct av_host *h = kmod_tree("1.2.3-not-this-one");
	assert_int_equal(av_kmod_load(h, "amd_fake_mod", "", &cause), -EXDEV);
	assert_non_null(strstr(cause, in_root("proc/sys/kernel/osrelease", p, sizeof(p))));
	assert_non_null(strstr(cause, "1.2.3-not-this-one"));
	assert_non_null(strstr(cause, u.release));
	free(cause);
	cause = NULL;
	assert_int_equal(av_kmod_unload(h, "amd_fake_mod", &cause), -EXDEV);
	assert_non_null(strstr(cause, "unloading amd_fake_mod"));
	free(cause);
	av_host_free(h);
}

static void test_records_hives(void **state)
{
	(void)state;
	static const char *const quiet[] = { "list", "check", "labels", "kubevirt-config", "daemon" };
	static const char *const changing[] = { "bind", "unbind", "gim", "console" };
	for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		struct av_opts cli = { .command = quiet[i] };
		assert_false(av_opts_records_hives(&cli));
	}
	for (size_t i = 0; i < sizeof(changing) / sizeof(changing[0]); i++) {
		struct av_opts cli = { .command = changing[i] };
		assert_true(av_opts_records_hives(&cli));
		cli.dry_run = true;
		assert_false(av_opts_records_hives(&cli));
		cli.dry_run = false;
		cli.demo = true;
		assert_false(av_opts_records_hives(&cli));
	}
	struct av_opts console = { .command = "console", .readonly = true };
	assert_false(av_opts_records_hives(&console));
}

#define BOTH(t) \
	cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, (void *)&OPENAT2), \
	cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, (void *)&WALK)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_mode),
		BOTH(test_sysfs_write_through_link),
		BOTH(test_state_dir_link),
		BOTH(test_parents_made_inside),
		BOTH(test_planted_temp),
		BOTH(test_lock_run_link),
		BOTH(test_reads_stay_inside),
		BOTH(test_walk_edges),
		BOTH(test_not_regular),
		BOTH(test_kmod_install_line),
		cmocka_unit_test_prestate_setup_teardown(test_kmod_remove_line, setup, teardown, (void *)&OPENAT2),
		cmocka_unit_test_prestate_setup_teardown(test_kmod_other_kernel, setup, teardown, (void *)&OPENAT2),
		cmocka_unit_test(test_records_hives),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
