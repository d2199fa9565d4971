/* Executing bind/unbind plans against the fake kernel: post-conditions,
 * the state file, and rollback at every injected failure. */
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
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx_teardown(*state);
	free(*state);
	return 0;
}

/* Plans on a fresh model and runs it; returns av_plan_execute's result. */
static int run(struct fx *x, bool bind, const char *const *bdfs, int n, bool force, char **cause)
{
	struct av_action_opts o = { .host = x->host, .force = force };
	struct av_plan p;
	fx_discover(x, AV_MODE_PF);
	int r = bind ? av_plan_bind(&x->m, bdfs, n, &o, &p) : av_plan_unbind(&x->m, x->host, bdfs, n, &o, &p);
	assert_int_equal(r, 0);
	assert_int_equal(p.n_refusals, 0);
	r = av_plan_execute(x->host, &p, NULL, cause);
	av_plan_clear(&p);
	return r;
}

static void bind_and_unbind_restore(void **state)
{
	struct fx *x = *state;
	const char *pf[] = { "0000:05:00.0" };
	char buf[4096];
	char *before = fx_snapshot(x);
	assert_int_equal(run(x, true, pf, 1, false, NULL), 0);
	assert_string_equal(fx_driver(x, "0000:05:00.0"), "vfio-pci");
	assert_string_equal(fx_read(x, "/sys/bus/pci/devices/0000:05:00.0/driver_override", buf, sizeof(buf)), "vfio-pci");
	assert_true(av_exists(x->host, "/dev/vfio/11"));
	assert_true(av_exists(x->host, "/sys/module/vfio_pci"));
	fx_read(x, "/var/lib/amdvirt/state.json", buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"bdf\":\t\"0000:05:00.0\""));
	assert_non_null(strstr(buf, "\"driver\":\t\"amdgpu\""));
	assert_int_equal(run(x, false, pf, 1, false, NULL), 0);
	char *after = fx_snapshot(x);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void group_with_force_moves_all_endpoints(void **state)
{
	struct fx *x = *state;
	const char *pf[] = { "0000:07:00.0" };
	char *before = fx_snapshot(x);
	assert_int_equal(run(x, true, pf, 1, true, NULL), 0);
	assert_string_equal(fx_driver(x, "0000:07:00.0"), "vfio-pci");
	assert_string_equal(fx_driver(x, "0000:07:00.1"), "vfio-pci");
	assert_string_equal(fx_driver(x, "0000:00:03.0"), "pcieport");
	assert_int_equal(run(x, false, pf, 1, false, NULL), 0);
	char *after = fx_snapshot(x);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* Counts the operations a successful run takes, then fails each one in
 * turn on a fresh host: every run must fail and leave the host as it was. */
static void rollback_everywhere(struct fx *x, bool bind, const char *const *bdfs, int n, bool force)
{
	const char *pf0[] = { bdfs[0] };
	if (!bind)
		assert_int_equal(run(x, true, pf0, 1, force, NULL), 0);
	char *before = fx_snapshot(x);
	int start = fk_ops(x->k);
	assert_int_equal(run(x, bind, bdfs, n, force, NULL), 0);
	int total = fk_ops(x->k) - start;
	assert_true(total > 3);
	/* put the host back for the injected runs */
	assert_int_equal(run(x, !bind, bdfs, n, force, NULL), 0);
	char *check = fx_snapshot(x);
	assert_string_equal(before, check);
	free(check);
	for (int i = 1; i <= total; i++) {
		char *cause = NULL;
		fk_fail_nth(x->k, i, EIO);
		int r = run(x, bind, bdfs, n, force, &cause);
		fk_fail_nth(x->k, 0, 0);
		if (r == 0) {
			/* the failed operation was the module load of a module that
			 * cannot be injected twice: nothing else may pass silently */
			fail_msg("injected failure %d/%d was not noticed", i, total);
		}
		assert_non_null(cause);
		assert_true(strstr(cause, "rolled back") || strstr(cause, "nothing was changed"));
		char *after = fx_snapshot(x);
		if (strcmp(before, after) != 0)
			fail_msg("after failure %d/%d (%s):\n%s\n!=\n%s", i, total, cause, after, before);
		free(after);
		free(cause);
	}
	free(before);
}

static void bind_rollback_every_step(void **state)
{
	const char *pf[] = { "0000:05:00.0" };
	rollback_everywhere(*state, true, pf, 1, false);
}

static void bind_group_rollback_every_step(void **state)
{
	const char *pf[] = { "0000:07:00.0" };
	rollback_everywhere(*state, true, pf, 1, true);
}

static void unbind_rollback_every_step(void **state)
{
	const char *pf[] = { "0000:05:00.0" };
	rollback_everywhere(*state, false, pf, 1, false);
}

static void kernel_refuses_pf_with_vfs(void **state)
{
	struct fx *x = *state;
	const char *pf[] = { "0000:08:00.0" };
	struct av_action_opts o = { .host = x->host };
	struct av_plan p;
	char *cause = NULL;
	char *before = fx_snapshot(x);
	fx_discover(x, AV_MODE_PF);
	assert_int_equal(av_plan_bind(&x->m, pf, 1, &o, &p), 0);
	/* VFs appear after planning: the precondition catches it, nothing changes */
	assert_int_equal(av_write(x->host, "/sys/bus/pci/devices/0000:08:00.0/sriov_numvfs", "2"), 0);
	char *with_vfs = fx_snapshot(x);
	assert_int_not_equal(av_plan_execute(x->host, &p, NULL, &cause), 0);
	assert_non_null(strstr(cause, "sriov_numvfs reads \"2\", expected \"0\""));
	char *after = fx_snapshot(x);
	assert_string_equal(with_vfs, after);
	free(after);
	free(cause);
	cause = NULL;
	/* without that check, the kernel's own refusal (PF left driverless)
	 * fails verification and the PF goes back to nvme */
	for (int i = 0; i < p.n_steps; i++)
		if (p.steps[i].pre && strstr(p.steps[i].path, "sriov_numvfs"))
			p.steps[i].check = AV_CHECK_EXISTS;
	assert_int_not_equal(av_plan_execute(x->host, &p, NULL, &cause), 0);
	assert_non_null(strstr(cause, "is on (none), not vfio-pci"));
	assert_non_null(strstr(cause, "rolled back"));
	after = fx_snapshot(x);
	assert_string_equal(with_vfs, after);
	assert_string_equal(fx_driver(x, "0000:08:00.0"), "nvme");
	free(after);
	free(with_vfs);
	free(before);
	free(cause);
	av_plan_clear(&p);
}

static void stale_plan_changes_nothing(void **state)
{
	struct fx *x = *state;
	const char *pf[] = { "0000:05:00.0" };
	struct av_action_opts o = { .host = x->host };
	struct av_plan p;
	char *cause = NULL;
	fx_discover(x, AV_MODE_PF);
	assert_int_equal(av_plan_bind(&x->m, pf, 1, &o, &p), 0);
	assert_int_equal(av_write(x->host, "/sys/bus/pci/drivers/amdgpu/unbind", "0000:05:00.0"), 0);
	char *before = fx_snapshot(x);
	assert_int_not_equal(av_plan_execute(x->host, &p, NULL, &cause), 0);
	assert_non_null(strstr(cause, "is on (none), not amdgpu"));
	char *after = fx_snapshot(x);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(cause);
	av_plan_clear(&p);
}

static void log_says_what_happened(void **state)
{
	struct fx *x = *state;
	const char *pf[] = { "0000:05:00.0" };
	struct av_action_opts o = { .host = x->host };
	struct av_plan p;
	char *cause = NULL, *text = NULL;
	size_t len = 0;
	fx_discover(x, AV_MODE_PF);
	assert_int_equal(av_plan_bind(&x->m, pf, 1, &o, &p), 0);
	fk_fail_path(x->k, "/drivers_probe", EINVAL);
	FILE *log = open_memstream(&text, &len);
	assert_int_equal(av_plan_execute(x->host, &p, log, &cause), -EINVAL);
	fclose(log);
	fk_fail_path(x->k, NULL, 0);
	assert_non_null(strstr(text, "  FAILED  write   /sys/bus/pci/drivers_probe <- \"0000:05:00.0\"\n"));
	assert_non_null(strstr(text, "rolling back group 11\n"));
	assert_non_null(strstr(text, "  rollback: write /sys/bus/pci/drivers/amdgpu/bind <- \"0000:05:00.0\"\n"));
	assert_non_null(strstr(text, "  rollback: 0000:05:00.0 is on amdgpu\n"));
	assert_string_equal(cause, "write /sys/bus/pci/drivers_probe <- \"0000:05:00.0\": Invalid argument; "
	                           "group 11 was rolled back to its recorded state");
	free(text);
	free(cause);
	av_plan_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bind_and_unbind_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(group_with_force_moves_all_endpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_rollback_every_step, setup, teardown),
		cmocka_unit_test_setup_teardown(bind_group_rollback_every_step, setup, teardown),
		cmocka_unit_test_setup_teardown(unbind_rollback_every_step, setup, teardown),
		cmocka_unit_test_setup_teardown(kernel_refuses_pf_with_vfs, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_plan_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(log_says_what_happened, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
