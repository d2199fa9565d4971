/* Driver-action plans: exact step lists, refusals, the state file. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions/state.h"
#include "actions_fixture.h"

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	fx_setup(x);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx_teardown(*state);
	free(*state);
	return 0;
}

static char *plan_text(struct fx *x, bool bind, const char *const *bdfs, int n, bool force, bool all)
{
	struct av_action_opts o = { .host = x->host, .force = force, .all = all };
	struct av_plan p;
	int r = bind ? av_plan_bind(&x->m, bdfs, n, &o, &p) : av_plan_unbind(&x->m, x->host, bdfs, n, &o, &p);
	assert_int_equal(r, 0);
	char *s = fx_print(&p);
	av_plan_clear(&p);
	return s;
}

static void bind_pf_exact(void **state)
{
	struct fx *x = *state;
	fx_discover(x, AV_MODE_PF);
	const char *bdfs[] = { "05:00.0" };
	char *s = plan_text(x, true, bdfs, 1, false, false);
	assert_string_equal(s,
		"bind 0000:05:00.0 (group 11) to vfio-pci\n"
		"   0. lock    /run/amdvirt.lock\n"
		"   1. load    vfio-pci  (through libkmod)\n"
		"   2. verify  /sys/bus/pci/drivers/vfio-pci exists\n"
		"   3. check   /sys/bus/pci/devices/0000:05:00.0 driver is amdgpu  (unchanged since planning)\n"
		"   4. check   /sys/bus/pci/devices/0000:05:00.0/sriov_numvfs reads \"0\"  (vfio-pci refuses a PF with VFs)\n"
		"   5. record  /var/lib/amdvirt/state.json: 0000:05:00.0 was on amdgpu  (what unbind restores)\n"
		"   6. write   /sys/bus/pci/devices/0000:05:00.0/driver_override <- \"vfio-pci\"  (before unbinding, so no other driver can take it)\n"
		"   7. write   /sys/bus/pci/drivers/amdgpu/unbind <- \"0000:05:00.0\"\n"
		"   8. write   /sys/bus/pci/drivers_probe <- \"0000:05:00.0\"\n"
		"   9. verify  /sys/bus/pci/devices/0000:05:00.0 driver is vfio-pci\n"
		"  10. verify  /dev/vfio/11 exists  (the group is usable)\n"
		"  on failure: the unit being changed is restored to its recorded state:\n"
		"      0000:05:00.0: driver amdgpu, driver_override \"\"\n");
	free(s);
}

static void bind_group_refuses_other_endpoint(void **state)
{
	struct fx *x = *state;
	fx_discover(x, AV_MODE_PF);
	const char *bdfs[] = { "0000:07:00.0" };
	char *s = plan_text(x, true, bdfs, 1, false, false);
	assert_non_null(strstr(s, "refused: group 30: 0000:07:00.1 is on the host driver snd_hda_intel"));
	assert_null(strstr(s, "write"));
	free(s);
	/* --force takes the whole group, and leaves the bridge alone */
	s = plan_text(x, true, bdfs, 1, true, false);
	assert_null(strstr(s, "refused"));
	assert_non_null(strstr(s, "/sys/bus/pci/drivers/snd_hda_intel/unbind <- \"0000:07:00.1\""));
	assert_non_null(strstr(s, "/sys/bus/pci/drivers/amdgpu/unbind <- \"0000:07:00.0\""));
	assert_null(strstr(s, "0000:00:03.0"));
	free(s);
}

static void bind_refusals(void **state)
{
	struct fx *x = *state;
	struct fkdev;
	assert_int_equal(av_write(x->host, "/sys/bus/pci/devices/0000:08:00.0/sriov_numvfs", "2"), 0);
	fx_discover(x, AV_MODE_PF);
	const char *pf[] = { "0000:08:00.0" }, *bridge[] = { "0000:00:01.0" }, *bad[] = { "zz" },
	           *none[] = { "0000:99:00.0" };
	char *s = plan_text(x, true, pf, 1, true, false);
	assert_non_null(strstr(s, "refused: 0000:08:00.0 has 2 VFs enabled"));
	free(s);
	s = plan_text(x, true, bridge, 1, true, false);
	assert_non_null(strstr(s, "refused: 0000:00:01.0 is a bridge"));
	free(s);
	s = plan_text(x, true, bad, 1, false, false);
	assert_non_null(strstr(s, "refused: 'zz' is not a PCI address"));
	free(s);
	s = plan_text(x, true, none, 1, false, false);
	assert_non_null(strstr(s, "refused: 0000:99:00.0: no such PCI function"));
	free(s);
}

static void bind_vf_of_nvme(void **state)
{
	struct fx *x = *state;
	/* VFs of a non-AMD PF: the generic path the real-kernel lane uses */
	assert_int_equal(av_write(x->host, "/sys/bus/pci/devices/0000:08:00.0/sriov_drivers_autoprobe", "0"), 0);
	assert_int_equal(av_write(x->host, "/sys/bus/pci/devices/0000:08:00.0/sriov_numvfs", "2"), 0);
	assert_string_equal(fx_driver(x, "0000:08:00.1"), "");
	fx_discover(x, AV_MODE_VF);
	const char *vf[] = { "0000:08:00.1" };
	char *s = plan_text(x, true, vf, 1, false, false);
	assert_non_null(strstr(s, "bind 0000:08:00.1 (group 42) to vfio-pci\n"));
	assert_non_null(strstr(s, "check   /sys/bus/pci/devices/0000:08:00.1 driver is (none)"));
	assert_null(strstr(s, "drivers/nvme/unbind"));
	assert_non_null(strstr(s, "verify  /dev/vfio/42 exists"));
	free(s);
}

static void bind_all_selects_mode_targets(void **state)
{
	struct fx *x = *state;
	fx_discover(x, AV_MODE_PF);
	char *s = plan_text(x, true, NULL, 0, false, true);
	/* the known PF IDs (MI300X twice, MI210); the MI210 group has an audio function */
	assert_non_null(strstr(s, "bind 3 functions in 3 IOMMU groups to vfio-pci\n  refused: group 30: 0000:07:00.1"));
	free(s);
	s = plan_text(x, true, NULL, 0, true, true);
	assert_non_null(strstr(s, "drivers/amdgpu/unbind <- \"0000:05:00.0\""));
	assert_non_null(strstr(s, "drivers_probe <- \"0000:06:00.0\""));
	assert_non_null(strstr(s, "drivers/snd_hda_intel/unbind <- \"0000:07:00.1\""));
	free(s);
	s = plan_text(x, true, NULL, 0, false, false);
	assert_non_null(strstr(s, "refused: nothing to bind"));
	free(s);
}

static void bind_already_bound_is_nothing(void **state)
{
	struct fx *x = *state;
	fx_discover(x, AV_MODE_PF);
	const char *pf[] = { "0000:06:00.0" };
	struct av_action_opts o = { .host = x->host };
	struct av_plan p;
	assert_int_equal(av_plan_bind(&x->m, pf, 1, &o, &p), 0);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, NULL), 0);
	av_plan_clear(&p);
	fx_discover(x, AV_MODE_PF);
	char *s = plan_text(x, true, pf, 1, false, false);
	assert_non_null(strstr(s, "note: 0000:06:00.0 is already on vfio-pci\n  nothing to do\n"));
	free(s);
}

static void unbind_exact_and_in_use(void **state)
{
	struct fx *x = *state;
	fx_discover(x, AV_MODE_PF);
	const char *pf[] = { "0000:05:00.0" };
	struct av_action_opts o = { .host = x->host };
	struct av_plan p;
	assert_int_equal(av_plan_bind(&x->m, pf, 1, &o, &p), 0);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, NULL), 0);
	av_plan_clear(&p);
	fx_discover(x, AV_MODE_PF);
	char *s = plan_text(x, false, pf, 1, false, false);
	assert_string_equal(s,
		"unbind 0000:05:00.0 (group 11) from vfio-pci\n"
		"   0. lock    /run/amdvirt.lock\n"
		"   1. check   /sys/bus/pci/devices/0000:05:00.0 driver is vfio-pci  (unchanged since planning)\n"
		"   2. check   /sys/bus/pci/devices/0000:05:00.0/enable reads \"0\"  (not in use)\n"
		"   3. check   /dev/vfio/11 is not open  (no VM holds the group)\n"
		"   4. write   /sys/bus/pci/devices/0000:05:00.0/driver_override <- \"amdgpu\"  (only the recorded driver may take it)\n"
		"   5. write   /sys/bus/pci/drivers/vfio-pci/unbind <- \"0000:05:00.0\"\n"
		"   6. write   /sys/bus/pci/drivers/amdgpu/bind <- \"0000:05:00.0\"\n"
		"   7. verify  /sys/bus/pci/devices/0000:05:00.0 driver is amdgpu\n"
		"   8. write   /sys/bus/pci/devices/0000:05:00.0/driver_override <- \"\\n\"  (as recorded)\n"
		"   9. verify  /dev/vfio/11 is absent  (vfio released the group)\n"
		"  10. forget  /var/lib/amdvirt/state.json: 0000:05:00.0\n"
		"  on failure: the unit being changed is restored to its recorded state:\n"
		"      0000:05:00.0: driver vfio-pci, driver_override \"vfio-pci\"\n");
	free(s);

	/* in use: enable > 0, or the group node held open */
	sim_put(x->k, "/sys/devices/pci0000:00/0000:00:01.0/0000:05:00.0/enable", "1\n");
	fx_discover(x, AV_MODE_PF);
	s = plan_text(x, false, pf, 1, false, false);
	assert_non_null(strstr(s, "refused: 0000:05:00.0 is in use (enable=1)"));
	free(s);
	sim_put(x->k, "/sys/devices/pci0000:00/0000:00:01.0/0000:05:00.0/enable", "0\n");
	sim_hold_open(x->k, 4242, "/dev/vfio/11");
	s = plan_text(x, false, pf, 1, false, false);
	assert_non_null(strstr(s, "refused: group 11 is in use: /dev/vfio/11 is open"));
	free(s);
}

static void state_round_trip(void **state)
{
	struct fx *x = *state;
	struct av_state st = { 0 };
	struct av_saved_func a = { .bdf = "0000:05:00.0", .driver = "amdgpu", .driver_override = "", .iommu_group = 11,
	                           .autoprobe = -1, .binding = true };
	struct av_saved_func b = { .bdf = "0000:06:00.0", .iommu_group = -1, .autoprobe = 1 };
	struct av_saved_func later = a;
	snprintf(later.driver, sizeof(later.driver), "vfio-pci");
	assert_int_equal(av_state_put(&st, &a), 0);
	assert_int_equal(av_state_put(&st, &b), 0);
	assert_int_equal(av_state_put(&st, &later), 0); /* the first record wins */
	assert_int_equal(av_state_save(x->host, &st), 0);
	av_state_clear(&st);
	assert_int_equal(av_state_load(x->host, &st, NULL), 0);
	assert_int_equal(st.n, 2);
	const struct av_state_entry *e = av_state_find(&st, "0000:05:00.0");
	assert_non_null(e);
	assert_true(e->f.binding);
	assert_string_equal(e->f.driver, "amdgpu");
	assert_int_equal(e->f.iommu_group, 11);
	e = av_state_find(&st, "0000:06:00.0");
	assert_non_null(e);
	assert_false(e->f.binding);
	assert_int_equal(e->f.autoprobe, 1);
	av_state_drop(&st, &a);
	av_state_drop(&st, &b);
	assert_int_equal(st.n, 0);
	av_state_clear(&st);

	char *cause = NULL;
	sim_put(x->k, "/var/lib/amdvirt/state.json", "{\"functions\": [{\"bdf\": 3}]}");
	assert_int_equal(av_state_load(x->host, &st, &cause), -EINVAL);
	assert_non_null(strstr(cause, "not a valid amdvirt state file"));
	free(cause);
	/* an unreadable record refuses unbind rather than guessing */
	fx_discover(x, AV_MODE_PF);
	const char *pf[] = { "0000:05:00.0" };
	char *s = plan_text(x, false, pf, 1, false, false);
	assert_non_null(strstr(s, "refused:"));
	free(s);
}

/* A PF can hold two records: the driver it had before a bind, and its
 * sriov_drivers_autoprobe before a gim load.  Dropping one (unbind, or
 * unload) keeps the other, in memory and in the file. */
static void state_records_independent(void **state)
{
	struct fx *x = *state;
	struct av_state st = { 0 };
	struct av_saved_func bind = { .bdf = "0000:05:00.0", .driver = "amdgpu", .driver_override = "",
	                              .iommu_group = 11, .autoprobe = -1, .binding = true };
	struct av_saved_func probe = { .bdf = "0000:05:00.0", .iommu_group = -1, .autoprobe = 1 };
	const struct av_state_entry *e;

	/* the bind record goes first: the autoprobe record stays */
	assert_int_equal(av_state_put(&st, &bind), 0);
	assert_int_equal(av_state_put(&st, &probe), 0);
	assert_int_equal(st.n, 1);
	av_state_drop(&st, &bind);
	assert_int_equal(av_state_save(x->host, &st), 0);
	av_state_clear(&st);
	assert_int_equal(av_state_load(x->host, &st, NULL), 0);
	assert_non_null(e = av_state_find(&st, "0000:05:00.0"));
	assert_false(e->f.binding);
	assert_int_equal(e->f.autoprobe, 1);
	av_state_drop(&st, &probe);
	assert_int_equal(st.n, 0);
	assert_int_equal(av_state_save(x->host, &st), 0);
	assert_false(av_exists(x->host, "/var/lib/amdvirt/state.json"));

	/* the autoprobe record goes first: the bind record stays */
	assert_int_equal(av_state_put(&st, &probe), 0);
	assert_int_equal(av_state_put(&st, &bind), 0);
	av_state_drop(&st, &probe);
	assert_int_equal(av_state_save(x->host, &st), 0);
	av_state_clear(&st);
	assert_int_equal(av_state_load(x->host, &st, NULL), 0);
	assert_non_null(e = av_state_find(&st, "0000:05:00.0"));
	assert_true(e->f.binding);
	assert_string_equal(e->f.driver, "amdgpu");
	assert_int_equal(e->f.iommu_group, 11);
	assert_int_equal(e->f.autoprobe, -1);
	av_state_drop(&st, &bind);
	assert_int_equal(st.n, 0);
	av_state_clear(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bind_pf_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_group_refuses_other_endpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_vf_of_nvme, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_all_selects_mode_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_already_bound_is_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(unbind_exact_and_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(state_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(state_records_independent, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
