/* Driver management (the daemon's): when it is on, and that running its
 * plans one after another on the fake kernel brings the host to what the
 * DeviceConfig asks, then has nothing more to do. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions_fixture.h"

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	fx_setup(x);
	x->cfg.present = true;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx_teardown(*state);
	free(*state);
	return 0;
}

static void set_type(struct fx *x, const char *type)
{
	free(x->cfg.driver_type);
	x->cfg.driver_type = type ? strdup(type) : NULL;
}

static const char *off_reason(struct fx *x)
{
	fx_discover(x, AV_MODE_NONE);
	return av_manage_off_reason(&x->m);
}

static void off_unless_enabled_with_a_passthrough_type(void **state)
{
	struct fx *x = *state;
	x->cfg.present = false;
	assert_string_equal(off_reason(x), "no DeviceConfig (--config or --deviceconfig)");
	x->cfg.present = true;
	assert_string_equal(off_reason(x), "the DeviceConfig has no spec.driver");
	/* container, given or AMD's default, manages nothing and does not
	 * make the host's mode container (the fixture's GPUs are on amdgpu
	 * and gim, whatever the DeviceConfig says) */
	set_type(x, "container");
	assert_string_equal(off_reason(x), "spec.driver.driverType is container (AMD's default when not given): amdgpu is not amdvirt's to manage");
	assert_int_equal(x->m.mode_source, AV_SOURCE_AUTO);
	set_type(x, "pf-passthrough");
	x->cfg.driver_enable = false;
	assert_string_equal(off_reason(x), "spec.driver.enable is false");
	x->cfg.driver_enable = true;
	assert_null(off_reason(x));

	/* off means an empty plan, whatever the host looks like */
	struct av_plan p;
	struct av_action_opts o = { .host = x->host };
	x->cfg.driver_enable = false;
	fx_discover(x, AV_MODE_NONE);
	assert_int_equal(av_plan_manage(&x->m, &o, &p), 0);
	assert_int_equal(p.n_steps + p.n_refusals, 0);
	av_plan_clear(&p);
}

/* Plans and runs until there is nothing to do; returns the rounds that
 * changed something, their titles in titles[]. */
static int converge(struct fx *x, char titles[][128], int max)
{
	struct av_action_opts o = { .host = x->host };
	for (int round = 0; round <= max; round++) {
		struct av_plan p;
		fx_discover(x, AV_MODE_NONE);
		assert_int_equal(av_plan_manage(&x->m, &o, &p), 0);
		if (p.n_refusals)
			fail_msg("round %d refused: %s", round, p.refusals[0]);
		if (!p.n_steps) {
			av_plan_clear(&p);
			return round;
		}
		assert_true(round < max);
		snprintf(titles[round], 128, "%s", p.title);
		char *cause = NULL;
		int r = av_plan_execute(x->host, &p, NULL, &cause);
		if (r < 0)
			fail_msg("round %d failed: %s", round, cause);
		av_plan_clear(&p);
	}
	return -1;
}

static void vf_passthrough_loads_gim_then_binds_its_vfs(void **state)
{
	struct fx *x = *state;
	char titles[4][128];
	/* amdgpu must not own a gim target */
	assert_int_equal(av_write(x->host, "/sys/bus/pci/drivers/amdgpu/unbind", "0000:05:00.0"), 0);
	set_type(x, "vf-passthrough");
	x->cfg.module_params = calloc(1, sizeof(char *));
	x->cfg.module_params[0] = strdup("vf_num=2,2");
	x->cfg.n_module_params = 1;
	assert_int_equal(converge(x, titles, 3), 2);
	assert_string_equal(titles[0], "load gim for vf-passthrough");
	assert_string_equal(titles[1], "bind 4 functions in 4 IOMMU groups to vfio-pci");
	assert_string_equal(fx_driver(x, "0000:05:00.0"), "gim");
	assert_string_equal(fx_driver(x, "0000:06:00.0"), "gim");
	const char *vfs[] = { "0000:05:00.1", "0000:05:00.2", "0000:06:00.1", "0000:06:00.2" };
	for (int i = 0; i < 4; i++)
		assert_string_equal(fx_driver(x, vfs[i]), "vfio-pci");
	/* what is not a selected GPU function is left alone */
	assert_string_equal(fx_driver(x, "0000:07:00.0"), "amdgpu");
	assert_string_equal(fx_driver(x, "0000:08:00.0"), "nvme");

	/* someone takes a VF off vfio-pci: the next round puts it back */
	assert_int_equal(av_write(x->host, "/sys/bus/pci/drivers/vfio-pci/unbind", "0000:06:00.2"), 0);
	assert_int_equal(converge(x, titles, 2), 1);
	assert_string_equal(titles[0], "bind 0000:06:00.2 (group 45) to vfio-pci");
	assert_string_equal(fx_driver(x, "0000:06:00.2"), "vfio-pci");
}

static void pf_passthrough_binds_the_selected_pfs(void **state)
{
	struct fx *x = *state;
	char titles[3][128];
	set_type(x, "pf-passthrough");
	x->cfg.device_ids = calloc(1, sizeof(uint16_t));
	x->cfg.device_ids[0] = 0x74a1;
	x->cfg.n_device_ids = 1;
	assert_int_equal(converge(x, titles, 2), 1);
	assert_string_equal(titles[0], "bind 2 functions in 2 IOMMU groups to vfio-pci");
	assert_string_equal(fx_driver(x, "0000:05:00.0"), "vfio-pci");
	assert_string_equal(fx_driver(x, "0000:06:00.0"), "vfio-pci");
	assert_string_equal(fx_driver(x, "0000:07:00.0"), "amdgpu");
	assert_false(av_exists(x->host, "/sys/module/gim"));
}

static void a_refusal_plans_nothing(void **state)
{
	struct fx *x = *state;
	struct av_plan p;
	struct av_action_opts o = { .host = x->host };
	set_type(x, "vf-passthrough");
	fx_discover(x, AV_MODE_NONE);
	assert_int_equal(av_plan_manage(&x->m, &o, &p), 0);
	assert_int_equal(p.n_steps, 0);
	assert_int_equal(p.n_refusals, 1);
	assert_string_equal(p.title, "load gim for vf-passthrough");
	assert_non_null(strstr(p.refusals[0], "0000:05:00.0 is owned by amdgpu"));
	av_plan_clear(&p);
	assert_false(av_exists(x->host, "/sys/module/gim"));
}

#define BL "/etc/modprobe.d/blacklist-amdgpu.conf"
#define BL_TEXT "# added by amdvirt (spec.driver.blacklist)\nblacklist amdgpu\n"

static void blacklist_comes_first_and_goes_when_false(void **state)
{
	struct fx *x = *state;
	char titles[4][128], buf[256];
	assert_int_equal(av_write(x->host, "/sys/bus/pci/drivers/amdgpu/unbind", "0000:05:00.0"), 0);
	set_type(x, "vf-passthrough");
	x->cfg.blacklist = x->cfg.blacklist_set = true;
	assert_int_equal(converge(x, titles, 4), 3);
	assert_string_equal(titles[0], "blacklist amdgpu (spec.driver.blacklist)");
	assert_string_equal(titles[1], "load gim for vf-passthrough");
	assert_int_equal(strncmp(titles[2], "bind ", 5), 0);
	assert_string_equal(fx_read(x, BL, buf, sizeof(buf)), "# added by amdvirt (spec.driver.blacklist)\nblacklist amdgpu");

	/* false removes amdvirt's own file, and only that */
	x->cfg.blacklist = false;
	assert_int_equal(converge(x, titles, 2), 1);
	assert_string_equal(titles[0], "remove amdvirt's amdgpu blacklist (spec.driver.blacklist: false)");
	assert_false(av_exists(x->host, BL));
	assert_int_equal(av_write_atomic(x->host, BL, "blacklist amdgpu\n", 17), 0);
	assert_int_equal(converge(x, titles, 1), 0);
	assert_true(av_exists(x->host, BL));

	/* true with someone's file that already blacklists amdgpu: nothing to do */
	x->cfg.blacklist = true;
	assert_int_equal(converge(x, titles, 1), 0);
}

static void blacklist_refuses_a_foreign_file_and_rolls_back(void **state)
{
	struct fx *x = *state;
	struct av_plan p;
	struct av_action_opts o = { .host = x->host };
	char buf[256];
	set_type(x, "vf-passthrough");
	x->cfg.blacklist = x->cfg.blacklist_set = true;
	assert_int_equal(av_write_atomic(x->host, BL, "options amdgpu foo=1\n", 21), 0);
	fx_discover(x, AV_MODE_NONE);
	assert_int_equal(av_plan_manage(&x->m, &o, &p), 0);
	assert_int_equal(p.n_steps, 0);
	assert_non_null(strstr(p.refusals[0], "exists and is not amdvirt's"));
	av_plan_clear(&p);

	/* a failure after the write puts the host's file back as it was */
	assert_int_equal(av_unlink(x->host, BL), 0);
	fx_discover(x, AV_MODE_NONE);
	assert_int_equal(av_plan_blacklist(&x->m, &o, &p), 0);
	char *text = fx_print(&p);
	assert_non_null(strstr(text, "   1. file    " BL " <- \"# added by amdvirt (spec.driver.blacklist)\\nblacklist amdgpu\\n\""));
	free(text);
	setenv("AMDVIRT_TEST_FAIL_STEP", "2", 1);
	char *cause = NULL;
	assert_true(av_plan_execute(x->host, &p, NULL, &cause) < 0);
	unsetenv("AMDVIRT_TEST_FAIL_STEP");
	assert_non_null(strstr(cause, "was rolled back"));
	free(cause);
	assert_false(av_exists(x->host, BL));
	av_plan_clear(&p);

	/* and a failed removal writes it back */
	assert_int_equal(av_write_atomic(x->host, BL, BL_TEXT, strlen(BL_TEXT)), 0);
	x->cfg.blacklist = false;
	fx_discover(x, AV_MODE_NONE);
	assert_int_equal(av_plan_blacklist(&x->m, &o, &p), 0);
	assert_int_equal(p.n_steps, 2);
	setenv("AMDVIRT_TEST_FAIL_STEP", "2", 1);
	assert_true(av_plan_execute(x->host, &p, NULL, NULL) < 0);
	unsetenv("AMDVIRT_TEST_FAIL_STEP");
	av_plan_clear(&p);
	assert_string_equal(fx_read(x, BL, buf, sizeof(buf)), "# added by amdvirt (spec.driver.blacklist)\nblacklist amdgpu");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(off_unless_enabled_with_a_passthrough_type, setup, teardown),
		cmocka_unit_test_setup_teardown(vf_passthrough_loads_gim_then_binds_its_vfs, setup, teardown),
		cmocka_unit_test_setup_teardown(pf_passthrough_binds_the_selected_pfs, setup, teardown),
		cmocka_unit_test_setup_teardown(a_refusal_plans_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(blacklist_comes_first_and_goes_when_false, setup, teardown),
		cmocka_unit_test_setup_teardown(blacklist_refuses_a_foreign_file_and_rolls_back, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
