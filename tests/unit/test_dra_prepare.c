/* Prepare on the fake kernel: a device allocated while off vfio-pci is
 * refused with driver management off, and bound (the `bind` plan, under
 * the lock) and prepared with it on; Unprepare removes what Prepare wrote.
 * (Prepare against kubelet and the API server: tests/integration/dra.sh.) */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "actions_fixture.h"
#include "dra/names.h"
#include "dra/prepare.h"

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	fx_setup(x);
	av_actions_set_settle_ms(0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx_teardown(*state);
	free(*state);
	return 0;
}

/* The daemon's reading of the host, in pf-passthrough. */
static int read_host(void *user, struct av_model *m, struct av_resources *r)
{
	struct fx *x = user;
	struct av_discover_opts o = { .forced_mode_set = true, .forced_mode = AV_MODE_PF };
	int rc = av_discover(x->host, &o, m);
	if (rc == 0)
		rc = av_resources_compute(m, AV_NAMING_SINGLE, r);
	return rc;
}

static cJSON *claim(const char *device)
{
	char text[1024];
	snprintf(text, sizeof(text),
	         "{\"metadata\": {\"name\": \"c1\", \"namespace\": \"vms\", \"uid\": \"u-1\", \"generation\": 1},"
	         " \"status\": {\"allocation\": {\"devices\": {\"results\": ["
	         "{\"request\": \"gpu\", \"driver\": \"%s\", \"pool\": \"node1\", \"device\": \"%s\"}]}}}}",
	         AV_DRA_DRIVER, device);
	cJSON *c = cJSON_Parse(text);
	assert_non_null(c);
	return c;
}

static bool exists(struct fx *x, const char *path)
{
	char full[600];
	struct stat st;
	snprintf(full, sizeof(full), "%s%s", x->root, path);
	return stat(full, &st) == 0;
}

static void off_vfio_refused_without_management(void **state)
{
	struct fx *x = *state;
	struct av_dra_env env = { .host = x->host, .node = "node1", .read_host = read_host, .user = x };
	struct av_dra_claim out;
	cJSON *c = claim("pf-0000-06-00-0");
	char *before = fx_snapshot(x);
	assert_int_equal(av_dra_prepare(&env, "vms", "c1", "u-1", c, &out), 0);
	assert_non_null(out.error);
	assert_non_null(strstr(out.error, "0000:06:00.0 is on no driver, not vfio-pci"));
	assert_non_null(strstr(out.error, "driver management is off"));
	assert_int_equal(out.n_files, 0);
	char *after = fx_snapshot(x);
	assert_string_equal(before, after);      /* nothing touched */
	free(before);
	free(after);
	av_dra_claim_clear(&out);
	cJSON_Delete(c);
}

static void bound_and_prepared_with_management(void **state)
{
	struct fx *x = *state;
	struct av_action_opts bind = { .host = x->host };
	struct av_dra_env env = { .host = x->host, .node = "node1", .read_host = read_host, .user = x,
	                          .bind_opts = &bind };
	struct av_dra_claim out;
	cJSON *c = claim("pf-0000-06-00-0");
	assert_string_equal(fx_driver(x, "0000:06:00.0"), "");
	assert_int_equal(av_dra_prepare(&env, "vms", "c1", "u-1", c, &out), 0);
	assert_null(out.error);
	assert_string_equal(fx_driver(x, "0000:06:00.0"), "vfio-pci");
	assert_int_equal(out.n_devs, 1);
	assert_string_equal(out.devs[0].bdf, "0000:06:00.0");
	assert_string_equal(out.devs[0].cdi[0], AV_DRA_DRIVER "/vfio=u-1-pf-0000-06-00-0");
	assert_string_equal(out.devs[0].cdi[1], AV_DRA_DRIVER "/metadata=u-1_gpu");
	assert_true(exists(x, "/var/run/cdi/" AV_DRA_DRIVER "-vfio_u-1.json"));
	assert_true(exists(x, AV_DRA_METADATA_DIR "/vms_c1/gpu/metadata.json"));
	/* The bind is recorded as `amdvirt bind` records it: unbind restores. */
	char buf[4096];
	assert_non_null(strstr(fx_read(x, "/var/lib/amdvirt/state.json", buf, sizeof(buf)), "0000:06:00.0"));
	char *cause = NULL;
	assert_int_equal(av_dra_unprepare(x->host, &out, &cause), 0);
	assert_false(exists(x, "/var/run/cdi/" AV_DRA_DRIVER "-vfio_u-1.json"));
	assert_false(exists(x, AV_DRA_METADATA_DIR "/vms_c1"));
	assert_true(exists(x, AV_DRA_METADATA_DIR));
	av_dra_claim_clear(&out);
	cJSON_Delete(c);
}

/* A bind the plan refuses (a group shared with a host driver) is not run. */
static void refused_bind_changes_nothing(void **state)
{
	struct fx *x = *state;
	struct av_action_opts bind = { .host = x->host };
	struct av_dra_env env = { .host = x->host, .node = "node1", .read_host = read_host, .user = x,
	                          .bind_opts = &bind };
	struct av_dra_claim out;
	cJSON *c = claim("pf-0000-07-00-0");
	char *before = fx_snapshot(x);
	assert_int_equal(av_dra_prepare(&env, "vms", "c1", "u-1", c, &out), 0);
	assert_non_null(out.error);
	assert_non_null(strstr(out.error, "cannot bind 0000:07:00.0 to vfio-pci"));
	char *after = fx_snapshot(x);
	assert_string_equal(before, after);
	free(before);
	free(after);
	av_dra_claim_clear(&out);
	cJSON_Delete(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(off_vfio_refused_without_management, setup, teardown),
		cmocka_unit_test_setup_teardown(bound_and_prepared_with_management, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_bind_changes_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
