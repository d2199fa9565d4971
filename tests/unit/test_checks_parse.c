/* Parsers behind boot.pending-reboot and cmdline.params: kernel command
 * line tokens and diff, /etc/default/grub shell quoting, BLS, grubenv. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checks/cmdline.h"
#include "checks/grub.h"

static void test_tokens(void **state)
{
	(void)state;
	struct av_cmdline c;
	assert_int_equal(av_cmdline_parse("  BOOT_IMAGE=/vmlinuz root=UUID=ab ro  quiet\tdyndbg=\"file x.c +p\" a=\"\" "
	                                  "-- init-arg --x", &c), 0);
	assert_int_equal(c.n, 6);
	assert_string_equal(c.tok[0], "BOOT_IMAGE=/vmlinuz");
	assert_string_equal(c.tok[1], "root=UUID=ab");
	assert_string_equal(c.tok[2], "ro");
	assert_string_equal(c.tok[3], "quiet");
	assert_string_equal(c.tok[4], "dyndbg=file x.c +p");
	assert_string_equal(c.tok[5], "a=");
	av_cmdline_free(&c);

	assert_int_equal(av_cmdline_parse("", &c), 0);
	assert_int_equal(c.n, 0);
	av_cmdline_free(&c);
	/* An unterminated quote runs to the end, as in the kernel. */
	assert_int_equal(av_cmdline_parse("a=\"b c", &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.tok[0], "a=b c");
	av_cmdline_free(&c);
}

static void test_lookup(void **state)
{
	(void)state;
	struct av_cmdline c;
	assert_int_equal(av_cmdline_parse("iommu=pt vfio_pci.ids=1002:74b5 quiet modprobe.blacklist=ast,amdgpu "
	                                  "iommu=off", &c), 0);
	assert_string_equal(av_cmdline_get(&c, "iommu"), "off"); /* the last one wins */
	assert_string_equal(av_cmdline_get(&c, "vfio-pci.ids"), "1002:74b5");
	assert_string_equal(av_cmdline_get(&c, "quiet"), "");
	assert_null(av_cmdline_get(&c, "splash"));
	assert_true(av_cmdline_has_item(&c, "modprobe.blacklist", "amdgpu"));
	assert_true(av_cmdline_has_item(&c, "modprobe.blacklist", "ast"));
	assert_false(av_cmdline_has_item(&c, "modprobe.blacklist", "amd"));
	assert_false(av_cmdline_has_item(&c, "module_blacklist", "amdgpu"));
	av_cmdline_free(&c);
	assert_true(av_param_eq("vfio-pci.ids=1", "vfio_pci.ids=1"));
	assert_false(av_param_eq("vfio-pci.ids=1", "vfio_pci.ids=2"));
	assert_false(av_param_eq("iommu", "iommu=pt"));
}

static bool skip_boot(const char *t)
{
	return strncmp(t, "BOOT_IMAGE=", 11) == 0;
}

static void test_minus(void **state)
{
	(void)state;
	struct av_cmdline run, conf;
	assert_int_equal(av_cmdline_parse("BOOT_IMAGE=/v root=/dev/sda ro quiet iommu=pt", &run), 0);
	assert_int_equal(av_cmdline_parse("root=/dev/sda ro quiet iommu=pt modprobe.blacklist=amdgpu quiet "
	                                  "vfio-pci.ids=1002:74b5", &conf), 0);
	const char **out = NULL;
	int n = av_cmdline_minus(&conf, &run, NULL, &out);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "modprobe.blacklist=amdgpu");
	assert_string_equal(out[1], "vfio-pci.ids=1002:74b5");
	free(out);
	n = av_cmdline_minus(&run, &conf, skip_boot, &out);
	assert_int_equal(n, 0);
	free(out);
	n = av_cmdline_minus(&run, &conf, NULL, &out);
	assert_int_equal(n, 1);
	assert_string_equal(out[0], "BOOT_IMAGE=/v");
	free(out);
	av_cmdline_free(&run);
	av_cmdline_free(&conf);
}

static void test_grub_quoting(void **state)
{
	(void)state;
	struct av_shvars v = { 0 };
	int bad = 0;
	const char *text =
		"# If you change this file, run 'update-grub'\n"
		"GRUB_DEFAULT=0\n"
		"GRUB_TIMEOUT_STYLE=hidden # trailing comment\n"
		"GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
		"GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n"
		"GRUB_CMDLINE_LINUX='iommu=pt  \"x\"'\n"
		"export GRUB_TERMINAL=console\n"
		"GRUB_A=a\\ b\\\"c\n"
		"GRUB_B=\"x\\\"y \\$z \\\\ $GRUB_DEFAULT ${GRUB_TERMINAL}\"\n"
		"GRUB_C=\"multi\nline\"; GRUB_D=d\n"
		"if [ -x /usr/bin/foo ]; then GRUB_E=e; fi\n"
		"GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT amd_iommu=on\"\n"
		"GRUB_F+=\" more\"\n"
		"GRUB_G=`echo x; GRUB_NOT=1`\n"
		"GRUB_H=\"a $(echo \\\"b)\\\"; GRUB_NOT2=1) c\"\n"
		"GRUB_DISTRIBUTOR=`( . /etc/os-release; echo ${NAME:-Ubuntu} ) 2>/dev/null || echo Ubuntu`\n";
	assert_int_equal(av_grub_source(text, &v, &bad), 0);
	assert_string_equal(av_shvars_get(&v, "GRUB_DEFAULT"), "0");
	assert_string_equal(av_shvars_get(&v, "GRUB_TIMEOUT_STYLE"), "hidden");
	assert_string_equal(av_shvars_get(&v, "GRUB_CMDLINE_LINUX"), "iommu=pt  \"x\"");
	assert_string_equal(av_shvars_get(&v, "GRUB_TERMINAL"), "console");
	assert_string_equal(av_shvars_get(&v, "GRUB_A"), "a b\"c");
	assert_string_equal(av_shvars_get(&v, "GRUB_B"), "x\"y $z \\ 0 console");
	assert_string_equal(av_shvars_get(&v, "GRUB_C"), "multi\nline");
	assert_string_equal(av_shvars_get(&v, "GRUB_D"), "d");
	assert_string_equal(av_shvars_get(&v, "GRUB_CMDLINE_LINUX_DEFAULT"), "quiet splash amd_iommu=on");
	assert_string_equal(av_shvars_get(&v, "GRUB_F"), " more");
	/* Command substitutions are opaque: nothing inside is assigned. */
	assert_string_equal(av_shvars_get(&v, "GRUB_G"), "");
	assert_null(av_shvars_get(&v, "GRUB_NOT"));
	assert_null(av_shvars_get(&v, "GRUB_NOT2"));
	assert_string_equal(av_shvars_get(&v, "GRUB_H"), "a  c");
	assert_string_equal(av_shvars_get(&v, "GRUB_DISTRIBUTOR"), "");
	/* Statements inside if/fi are not evaluated (the condition is unknown). */
	assert_null(av_shvars_get(&v, "GRUB_E"));

	/* A grub.d file sourced afterwards sees and overrides the variables. */
	assert_int_equal(av_grub_source("GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX vfio-pci.ids=1002:74b5\"\n", &v, &bad), 0);
	assert_string_equal(av_shvars_get(&v, "GRUB_CMDLINE_LINUX"), "iommu=pt  \"x\" vfio-pci.ids=1002:74b5");
	av_shvars_free(&v);
}

static void test_grub_garbled(void **state)
{
	(void)state;
	struct av_shvars v = { 0 };
	int bad = 0;
	assert_int_equal(av_grub_source("GRUB_A=1\n\nGRUB_CMDLINE_LINUX=\"iommu=pt\nGRUB_B=2\n", &v, &bad), -EINVAL);
	assert_int_equal(bad, 3);
	assert_string_equal(av_shvars_get(&v, "GRUB_A"), "1");
	av_shvars_free(&v);
	assert_int_equal(av_grub_source("X='never closed", &v, &bad), -EINVAL);
	assert_int_equal(bad, 1);
	av_shvars_free(&v);
	/* Binary junk and lone symbols are statements we skip, not errors. */
	assert_int_equal(av_grub_source("\x01\x02 = = ;;; $ } {\n=oops\n", &v, &bad), 0);
	assert_int_equal(v.n, 0);
	av_shvars_free(&v);
}

static const char *fake_env(const char *name, void *user)
{
	char *v = av_grubenv_get(user, name);
	bool found = v != NULL;
	free(v);
	return found ? "root=/dev/vda ro" : NULL;
}

static void test_bls(void **state)
{
	(void)state;
	struct av_bls_entry e;
	assert_int_equal(av_bls_parse("title Red Hat Enterprise Linux (5.14.0-427.el9.x86_64)\n"
	                              "version 5.14.0-427.el9.x86_64\n"
	                              "linux /vmlinuz-5.14.0-427.el9.x86_64\n"
	                              "initrd /initramfs-5.14.0-427.el9.x86_64.img $tuned_initrd\n"
	                              "  options root=/dev/mapper/rhel-root ro   crashkernel=1G-4G:192M\n"
	                              "# comment\n"
	                              "options iommu=pt\n"
	                              "grub_users $grub_users\n", &e), 0);
	assert_string_equal(e.version, "5.14.0-427.el9.x86_64");
	assert_string_equal(e.linux_path, "/vmlinuz-5.14.0-427.el9.x86_64");
	assert_string_equal(e.options, "root=/dev/mapper/rhel-root ro   crashkernel=1G-4G:192M iommu=pt");
	av_bls_free(&e);
	assert_int_equal(av_bls_parse("", &e), 0);
	assert_string_equal(e.options, "");
	assert_null(e.version);
	av_bls_free(&e);

	const char *env = "# GRUB Environment Block\nsaved_entry=abc\nkernelopts=root=/dev/vda ro\n#####\n";
	char *k = av_grubenv_get(env, "kernelopts");
	assert_string_equal(k, "root=/dev/vda ro");
	free(k);
	assert_null(av_grubenv_get(env, "tuned_params"));
	char *x = av_expand_vars("$kernelopts ${tuned_params} iommu=pt $ $1 ${", fake_env, (void *)env);
	assert_string_equal(x, "root=/dev/vda ro  iommu=pt $ $1 ${");
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_minus),
		cmocka_unit_test(test_grub_quoting),
		cmocka_unit_test(test_grub_garbled),
		cmocka_unit_test(test_bls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
