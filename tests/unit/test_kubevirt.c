/* The KubeVirt CR merge of kubevirt-config --apply (labels/kubevirt_merge.c):
 * every shape a CR's lists can have, judged against lists written here. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels/kubevirt.h"
#include "model_fixture.h"

static char one[1][10] = { "1002:74b5" };
static char two[2][10] = { "1002:74b5", "1002:74a1" };

/* Merges text (a CR as JSON) and checks the lists after against the JSON
 * texts gates and pci. */
static void merged(const char *text, char sel[][10], int n, const char *resource, const char *gates,
                   const char *pci, struct av_kubevirt_merge *mg)
{
	cJSON *cr = cJSON_Parse(text);
	char *cause = NULL;
	assert_non_null(cr);
	assert_int_equal(av_kubevirt_merge(cr, sel, n, resource, mg, &cause), 0);
	assert_null(cause);
	cJSON_Delete(cr);
	cJSON *want_g = cJSON_Parse(gates), *want_p = cJSON_Parse(pci);
	assert_non_null(want_g);
	assert_non_null(want_p);
	if (!cJSON_Compare(mg->gates_after, want_g, 1) || !cJSON_Compare(mg->pci_after, want_p, 1)) {
		char *g = cJSON_PrintUnformatted(mg->gates_after), *p = cJSON_PrintUnformatted(mg->pci_after);
		fail_msg("got gates %s pci %s", g, p);
	}
	cJSON_Delete(want_g);
	cJSON_Delete(want_p);
}

static void test_empty_cr(void **state)
{
	struct av_kubevirt_merge mg;
	merged("{\"metadata\": {\"name\": \"kubevirt\"}}", two, 2, "amd.com/gpu", "[\"HostDevices\"]",
	       "[{\"pciVendorSelector\": \"1002:74b5\", \"resourceName\": \"amd.com/gpu\", \"externalResourceProvider\": true},"
	       " {\"pciVendorSelector\": \"1002:74a1\", \"resourceName\": \"amd.com/gpu\", \"externalResourceProvider\": true}]",
	       &mg);
	assert_true(mg.gates_changed);
	assert_true(mg.pci_changed);
	assert_int_equal(cJSON_GetArraySize(mg.gates_before), 0);
	assert_int_equal(cJSON_GetArraySize(mg.pci_before), 0);
	assert_int_equal(mg.n_changes, 3);
	assert_string_equal(mg.changes[0], "feature gate HostDevices added");
	assert_string_equal(mg.changes[1], "pciHostDevices 1002:74b5 added as amd.com/gpu");
	assert_string_equal(mg.changes[2], "pciHostDevices 1002:74a1 added as amd.com/gpu");
	assert_int_equal(mg.n_notes, 0);
	av_kubevirt_merge_clear(&mg);
}

/* Foreign gates and entries stay, in place and field for field; ours is
 * corrected with its other fields kept. */
static void test_foreign_kept_ours_corrected(void **state)
{
	struct av_kubevirt_merge mg;
	const char *cr =
		"{\"spec\": {\"configuration\": {"
		" \"developerConfiguration\": {\"featureGates\": [\"Snapshot\", \"LiveMigration\"]},"
		" \"permittedHostDevices\": {\"pciHostDevices\": ["
		"  {\"pciVendorSelector\": \"10de:1db6\", \"resourceName\": \"nvidia.com/V100\", \"externalResourceProvider\": false},"
		"  {\"pciVendorSelector\": \"1002:74B5\", \"resourceName\": \"amd.com/old\", \"futureField\": {\"x\": 1}},"
		"  \"not an object\"]}}}}";
	merged(cr, one, 1, "amd.com/gpu", "[\"Snapshot\", \"LiveMigration\", \"HostDevices\"]",
	       "[{\"pciVendorSelector\": \"10de:1db6\", \"resourceName\": \"nvidia.com/V100\", \"externalResourceProvider\": false},"
	       " {\"pciVendorSelector\": \"1002:74B5\", \"resourceName\": \"amd.com/gpu\", \"futureField\": {\"x\": 1},"
	       "  \"externalResourceProvider\": true},"
	       " \"not an object\"]", &mg);
	assert_int_equal(mg.n_changes, 3);
	assert_string_equal(mg.changes[1], "pciHostDevices 1002:74b5: resourceName amd.com/old -> amd.com/gpu");
	assert_string_equal(mg.changes[2], "pciHostDevices 1002:74b5: externalResourceProvider (none) -> true");
	/* before is the CR as read */
	assert_int_equal(cJSON_GetArraySize(mg.gates_before), 2);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(mg.pci_before, 1), "resourceName")),
	                    "amd.com/old");
	av_kubevirt_merge_clear(&mg);
}

static void test_nothing_to_change(void **state)
{
	struct av_kubevirt_merge mg;
	const char *cr =
		"{\"spec\": {\"configuration\": {"
		" \"developerConfiguration\": {\"featureGates\": [\"HostDevices\"]},"
		" \"permittedHostDevices\": {\"pciHostDevices\": ["
		"  {\"pciVendorSelector\": \" 1002:74B5 \", \"resourceName\": \"amd.com/gpu\", \"externalResourceProvider\": true}]}}}}";
	merged(cr, one, 1, "amd.com/gpu", "[\"HostDevices\"]",
	       "[{\"pciVendorSelector\": \" 1002:74B5 \", \"resourceName\": \"amd.com/gpu\", \"externalResourceProvider\": true}]",
	       &mg);
	assert_false(mg.gates_changed);
	assert_false(mg.pci_changed);
	assert_int_equal(mg.n_changes, 0);
	assert_null(av_kubevirt_merge_patch(&mg, "7"));
	av_kubevirt_merge_clear(&mg);
}

static void test_external_provider_false(void **state)
{
	struct av_kubevirt_merge mg;
	merged("{\"spec\": {\"configuration\": {\"developerConfiguration\": {\"featureGates\": [\"HostDevices\"]},"
	       " \"permittedHostDevices\": {\"pciHostDevices\": [{\"pciVendorSelector\": \"1002:74b5\","
	       " \"resourceName\": \"amd.com/gpu\", \"externalResourceProvider\": false}]}}}}",
	       one, 1, "amd.com/gpu", "[\"HostDevices\"]",
	       "[{\"pciVendorSelector\": \"1002:74b5\", \"resourceName\": \"amd.com/gpu\", \"externalResourceProvider\": true}]",
	       &mg);
	assert_false(mg.gates_changed);
	assert_true(mg.pci_changed);
	assert_int_equal(mg.n_changes, 1);
	assert_string_equal(mg.changes[0], "pciHostDevices 1002:74b5: externalResourceProvider false -> true");
	av_kubevirt_merge_clear(&mg);
}

/* A resourceName as long as a CR may hold is said whole, the new name
 * after it included. */
static void test_long_resource_name(void **state)
{
	struct av_kubevirt_merge mg;
	char old[700], cr[1024], want[800];
	memset(old, 'r', sizeof(old) - 1);
	old[sizeof(old) - 1] = '\0';
	memcpy(old, "example.com/", 12);
	snprintf(cr, sizeof(cr), "{\"spec\": {\"configuration\": {\"developerConfiguration\": {\"featureGates\": "
	         "[\"HostDevices\"]}, \"permittedHostDevices\": {\"pciHostDevices\": [{\"pciVendorSelector\": "
	         "\"1002:74b5\", \"resourceName\": \"%s\", \"externalResourceProvider\": true}]}}}}", old);
	merged(cr, one, 1, "amd.com/gpu", "[\"HostDevices\"]",
	       "[{\"pciVendorSelector\": \"1002:74b5\", \"resourceName\": \"amd.com/gpu\", \"externalResourceProvider\": true}]",
	       &mg);
	assert_int_equal(mg.n_changes, 1);
	snprintf(want, sizeof(want), "pciHostDevices 1002:74b5: resourceName %s -> amd.com/gpu", old);
	assert_string_equal(mg.changes[0], want);
	av_kubevirt_merge_clear(&mg);
}

/* Two entries for the ID: the one with our name is ours, the other (a
 * node in the other naming) is left and said. */
static void test_duplicates(void **state)
{
	struct av_kubevirt_merge mg;
	const char *list =
		"[{\"pciVendorSelector\": \"1002:74b5\", \"resourceName\": \"amd.com/gpu_vf\", \"externalResourceProvider\": true},"
		" {\"pciVendorSelector\": \"1002:74b5\", \"resourceName\": \"amd.com/gpu\", \"externalResourceProvider\": true}]";
	char cr[1024];
	snprintf(cr, sizeof(cr), "{\"spec\": {\"configuration\": {\"developerConfiguration\": {\"featureGates\": "
	         "[\"HostDevices\"]}, \"permittedHostDevices\": {\"pciHostDevices\": %s}}}}", list);
	merged(cr, one, 1, "amd.com/gpu", "[\"HostDevices\"]", list, &mg);
	assert_false(mg.pci_changed);
	assert_int_equal(mg.n_notes, 1);
	assert_string_equal(mg.notes[0], "pciHostDevices also permits 1002:74b5 as amd.com/gpu_vf; left as it is");
	av_kubevirt_merge_clear(&mg);
}

static void test_nulls_are_absent(void **state)
{
	struct av_kubevirt_merge mg;
	merged("{\"spec\": {\"configuration\": {\"developerConfiguration\": null,"
	       " \"permittedHostDevices\": {\"pciHostDevices\": null}}}}", one, 1, "amd.com/gpu_pf",
	       "[\"HostDevices\"]",
	       "[{\"pciVendorSelector\": \"1002:74b5\", \"resourceName\": \"amd.com/gpu_pf\", \"externalResourceProvider\": true}]",
	       &mg);
	av_kubevirt_merge_clear(&mg);
}

static void expect_shape_refused(const char *text, const char *words)
{
	struct av_kubevirt_merge mg;
	cJSON *cr = cJSON_Parse(text);
	char *cause = NULL;
	assert_int_equal(av_kubevirt_merge(cr, one, 1, "amd.com/gpu", &mg, &cause), -EINVAL);
	cJSON_Delete(cr);
	assert_non_null(cause);
	if (!strstr(cause, words))
		fail_msg("cause \"%s\" lacks \"%s\"", cause, words);
	free(cause);
	assert_null(mg.gates_after);
	assert_null(mg.pci_after);
}

static void test_shapes_refused(void **state)
{
	expect_shape_refused("{\"spec\": {\"configuration\": {\"permittedHostDevices\": {\"pciHostDevices\": {}}}}}",
	                     "spec.configuration.permittedHostDevices.pciHostDevices is not a list");
	expect_shape_refused("{\"spec\": {\"configuration\": {\"developerConfiguration\": {\"featureGates\": \"HostDevices\"}}}}",
	                     "spec.configuration.developerConfiguration.featureGates is not a list");
	expect_shape_refused("{\"spec\": {\"configuration\": []}}", "spec.configuration is not an object");
	expect_shape_refused("{\"spec\": 3}", "spec is not an object");
	expect_shape_refused("[]", "not a KubeVirt object");
}

/* The patch: only the lists that changed, whole, with the precondition. */
static void test_patch(void **state)
{
	struct av_kubevirt_merge mg;
	merged("{\"spec\": {\"configuration\": {\"developerConfiguration\": {\"featureGates\": [\"A\"]},"
	       " \"permittedHostDevices\": {\"pciHostDevices\": [{\"pciVendorSelector\": \"1002:74b5\","
	       " \"resourceName\": \"amd.com/gpu\", \"externalResourceProvider\": true}]}}}}",
	       one, 1, "amd.com/gpu", "[\"A\", \"HostDevices\"]",
	       "[{\"pciVendorSelector\": \"1002:74b5\", \"resourceName\": \"amd.com/gpu\", \"externalResourceProvider\": true}]",
	       &mg);
	cJSON *p = av_kubevirt_merge_patch(&mg, "42");
	cJSON *want = cJSON_Parse("{\"metadata\": {\"resourceVersion\": \"42\"}, \"spec\": {\"configuration\":"
	                          " {\"developerConfiguration\": {\"featureGates\": [\"A\", \"HostDevices\"]}}}}");
	assert_true(cJSON_Compare(p, want, 1));
	cJSON_Delete(p);
	cJSON_Delete(want);
	p = av_kubevirt_merge_patch(&mg, NULL);
	assert_null(cJSON_GetObjectItem(p, "metadata"));
	cJSON_Delete(p);
	av_kubevirt_merge_clear(&mg);
}

/* The selectors come from the selected GPU functions, once each. */
static void test_selectors(void **state)
{
	struct av_model m;
	memset(&m, 0, sizeof(m));
	int pf = fx_add(&m, "0000:05:00.0", 0x1002, 0x74a1, 0x120000, "gim", 10, 0);
	int vf1 = fx_add(&m, "0000:05:02.0", 0x1002, 0x74b5, 0x120000, "vfio-pci", 11, 0);
	int vf2 = fx_add(&m, "0000:06:02.0", 0x1002, 0x74b5, 0x120000, "vfio-pci", 12, 0);
	fx_add(&m, "0000:07:00.0", 0x15b3, 0x1021, 0x020000, "mlx5_core", 13, 0);
	fx_vf(&m, pf, vf1);
	fx_groups(&m, NULL, 0);
	m.funcs[vf1].selected = m.funcs[vf2].selected = true;
	char sel[4][10];
	assert_int_equal(av_kubevirt_selectors(&m, sel, 4), 1);
	assert_string_equal(sel[0], "1002:74b5");
	m.funcs[pf].selected = true;
	assert_int_equal(av_kubevirt_selectors(&m, sel, 4), 2);
	assert_string_equal(sel[0], "1002:74a1");
	av_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_cr),
		cmocka_unit_test(test_foreign_kept_ours_corrected),
		cmocka_unit_test(test_nothing_to_change),
		cmocka_unit_test(test_external_provider_false),
		cmocka_unit_test(test_long_resource_name),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_nulls_are_absent),
		cmocka_unit_test(test_shapes_refused),
		cmocka_unit_test(test_patch),
		cmocka_unit_test(test_selectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
