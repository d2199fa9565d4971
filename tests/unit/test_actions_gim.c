/* gim load/unload plans and their execution on the fake kernel. */
#include "config.h"

#include <errno.h>
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
	/* amdgpu must not own a gim target: take it off 05:00.0 first */
	assert_int_equal(av_write(x->host, "/sys/bus/pci/drivers/amdgpu/unbind", "0000:05:00.0"), 0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx_teardown(*state);
	free(*state);
	return 0;
}

static int plan(struct fx *x, bool load, const char *const *params, int n, const char *version, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host, .params = params, .n_params = n, .expect_version = version };
	fx_discover(x, AV_MODE_VF);
	return load ? av_plan_gim_load(&x->m, &o, p) : av_plan_gim_unload(&x->m, &o, p);
}

static void load_exact_and_run(void **state)
{
	struct fx *x = *state;
	const char *params[] = { "vf_num=2" };
	struct av_plan p;
	char buf[4096];
	assert_int_equal(plan(x, true, params, 1, "8.1.0.K", &p), 0);
	char *s = fx_print(&p);
	assert_string_equal(s,
		"load gim for vf-passthrough\n"
		"  note: 0000:07:00.0 has no SR-IOV capability; gim cannot make VFs on it\n"
		"   0. lock    /run/amdvirt.lock\n"
		"   1. check   /sys/bus/pci/devices/0000:05:00.0 driver is (none)  (unchanged since planning)\n"
		"   2. check   /sys/bus/pci/devices/0000:06:00.0 driver is (none)  (unchanged since planning)\n"
		"   3. record  /var/lib/amdvirt/state.json: 0000:05:00.0 autoprobe 1, 0000:06:00.0 autoprobe 1  (what unload restores)\n"
		"   4. write   /sys/bus/pci/devices/0000:05:00.0/sriov_drivers_autoprobe <- \"0\"  (no host driver may grab the VFs gim creates)\n"
		"   5. write   /sys/bus/pci/devices/0000:06:00.0/sriov_drivers_autoprobe <- \"0\"  (no host driver may grab the VFs gim creates)\n"
		"   6. load    vfio-pci  (gim uses vfio symbols)\n"
		"   7. load    gim vf_num=2  (through libkmod)\n"
		"   8. verify  /sys/module/gim exists\n"
		"   9. verify  /sys/module/gim/version reads \"8.1.0.K\"  (spec.driver.version)\n"
		"  10. verify  /sys/bus/pci/devices/0000:05:00.0 driver is gim\n"
		"  11. verify  /sys/bus/pci/devices/0000:05:00.0/sriov_numvfs reads \"2\"  (VFs created)\n"
		"  12. verify  /sys/bus/pci/devices/0000:06:00.0 driver is gim\n"
		"  13. verify  /sys/bus/pci/devices/0000:06:00.0/sriov_numvfs is above 0  (VFs created)\n"
		"  on failure: the unit being changed is restored to its recorded state:\n"
		"      0000:05:00.0: driver (none), driver_override \"\", sriov_drivers_autoprobe 1\n"
		"      0000:06:00.0: driver (none), driver_override \"\", sriov_drivers_autoprobe 1\n");
	free(s);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, NULL), 0);
	av_plan_clear(&p);
	assert_string_equal(fx_driver(x, "0000:05:00.0"), "gim");
	/* autoprobe was off when the VFs appeared: no host driver took them */
	assert_string_equal(fx_driver(x, "0000:05:00.1"), "");
	assert_string_equal(fx_read(x, "/sys/bus/pci/devices/0000:05:00.0/sriov_numvfs", buf, sizeof(buf)), "2");
	fx_read(x, "/var/lib/amdvirt/state.json", buf, sizeof(buf));
	assert_non_null(strstr(buf, "sriov_drivers_autoprobe"));

	/* bind the new VFs, then unload: the VFs leave vfio-pci first */
	struct av_action_opts o = { .host = x->host, .all = true };
	fx_discover(x, AV_MODE_VF);
	assert_int_equal(av_plan_bind(&x->m, NULL, 0, &o, &p), 0);
	assert_int_equal(p.n_refusals, 0);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, NULL), 0);
	av_plan_clear(&p);
	assert_string_equal(fx_driver(x, "0000:05:00.2"), "vfio-pci");

	sim_put(x->k, "/sys/bus/pci/devices/0000:05:00.2/enable", "1\n");
	assert_int_equal(plan(x, false, NULL, 0, NULL, &p), 0);
	assert_int_equal(p.n_refusals, 1);
	assert_non_null(strstr(p.refusals[0], "VF 0000:05:00.2 is in use (enable=1): gim would wait for it forever"));
	av_plan_clear(&p);
	sim_put(x->k, "/sys/bus/pci/devices/0000:05:00.2/enable", "0\n");

	assert_int_equal(plan(x, false, NULL, 0, NULL, &p), 0);
	s = fx_print(&p);
	assert_non_null(strstr(s, "write   /sys/bus/pci/drivers/vfio-pci/unbind <- \"0000:05:00.1\"\n"));
	assert_non_null(strstr(s, "unload  gim"));
	assert_non_null(strstr(s, "write   /sys/bus/pci/devices/0000:05:00.0/sriov_drivers_autoprobe <- \"1\""));
	free(s);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, NULL), 0);
	av_plan_clear(&p);
	assert_false(av_exists(x->host, "/sys/module/gim"));
	assert_false(av_exists(x->host, "/sys/bus/pci/devices/0000:05:00.1"));
	assert_string_equal(fx_read(x, "/sys/bus/pci/devices/0000:05:00.0/sriov_drivers_autoprobe", buf, sizeof(buf)), "1");
	fx_read(x, "/var/lib/amdvirt/state.json", buf, sizeof(buf));
	assert_null(strstr(buf, "\"bdf\""));
}

static void load_refusals(void **state)
{
	struct fx *x = *state;
	struct av_plan p;
	assert_int_equal(av_write(x->host, "/sys/bus/pci/drivers/amdgpu/bind", "0000:05:00.0"), 0);
	assert_int_equal(plan(x, true, NULL, 0, NULL, &p), 0);
	assert_non_null(strstr(p.refusals[0], "0000:05:00.0 is owned by amdgpu"));
	av_plan_clear(&p);
	const char *bad[] = { "=3" };
	assert_int_equal(plan(x, true, bad, 1, NULL, &p), 0);
	assert_non_null(strstr(p.refusals[0], "module parameters '=3'"));
	av_plan_clear(&p);
}

static void pf_passthrough_pf_is_reserved(void **state)
{
	struct fx *x = *state;
	struct av_plan p;
	/* a PF already on vfio-pci stays out; an unbound one listed for
	 * pf-passthrough gets driver_override=vfio-pci before gim loads */
	static uint16_t ids[] = { 0x74a1 };
	x->cfg.present = true;
	x->cfg.device_ids = ids;
	x->cfg.n_device_ids = 1;
	assert_int_equal(plan(x, true, NULL, 0, NULL, &p), 0);
	x->cfg.device_ids = NULL;
	x->cfg.n_device_ids = 0;
	assert_non_null(strstr(p.refusals[0], "no GPU PF for gim"));
	av_plan_clear(&p);
}

/* Fails every operation of a load in turn: each run must leave the host
 * exactly as before (gim unloaded, autoprobe restored, no record). */
static void load_rollback_every_step(void **state)
{
	struct fx *x = *state;
	struct av_plan p;
	char *before = fx_snapshot(x);
	int start = fk_ops(x->k);
	assert_int_equal(plan(x, true, NULL, 0, "8.1.0.K", &p), 0);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, NULL), 0);
	av_plan_clear(&p);
	int total = fk_ops(x->k) - start;
	assert_int_equal(plan(x, false, NULL, 0, NULL, &p), 0);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, NULL), 0);
	av_plan_clear(&p);
	char *again = fx_snapshot(x);
	assert_string_equal(before, again);
	free(again);
	for (int i = 1; i <= total; i++) {
		char *cause = NULL;
		assert_int_equal(plan(x, true, NULL, 0, "8.1.0.K", &p), 0);
		fk_fail_nth(x->k, i, EIO);
		assert_int_not_equal(av_plan_execute(x->host, &p, NULL, &cause), 0);
		fk_fail_nth(x->k, 0, 0);
		av_plan_clear(&p);
		char *after = fx_snapshot(x);
		if (strcmp(before, after) != 0)
			fail_msg("after failure %d/%d (%s):\n%s\n!=\n%s", i, total, cause, after, before);
		free(after);
		free(cause);
	}
	/* a version that does not match is a failure too, rolled back */
	char *cause = NULL;
	assert_int_equal(plan(x, true, NULL, 0, "9.9.9.K", &p), 0);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, &cause), -EAGAIN);
	assert_non_null(strstr(cause, "/sys/module/gim/version reads \"8.1.0.K\", expected \"9.9.9.K\""));
	av_plan_clear(&p);
	char *after = fx_snapshot(x);
	assert_string_equal(before, after);
	free(after);
	free(cause);
	free(before);
}

/* gim loads and binds but makes no VF on a PF (firmware, a bad vf_num in
 * /etc/gim_config): without an explicit count the post-condition is "above
 * 0", so the load fails naming sriov_numvfs and is rolled back whole. */
static void load_zero_vfs_rolls_back(void **state)
{
	struct fx *x = *state;
	struct av_plan p;
	char *before = fx_snapshot(x), *cause = NULL;
	sim_set_gim(x->k, "8.1.0.K", 0);
	assert_int_equal(plan(x, true, NULL, 0, NULL, &p), 0);
	assert_int_equal(p.n_refusals, 0);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, &cause), -EAGAIN);
	av_plan_clear(&p);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "/sys/bus/pci/devices/0000:05:00.0/sriov_numvfs reads \"0\", expected a number above 0"));
	char *after = fx_snapshot(x);
	assert_string_equal(before, after);
	assert_false(av_exists(x->host, "/sys/module/gim"));
	free(after);
	free(cause);
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(load_exact_and_run, setup, teardown),
		cmocka_unit_test_setup_teardown(load_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(pf_passthrough_pf_is_reserved, setup, teardown),
		cmocka_unit_test_setup_teardown(load_rollback_every_step, setup, teardown),
		cmocka_unit_test_setup_teardown(load_zero_vfs_rolls_back, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
