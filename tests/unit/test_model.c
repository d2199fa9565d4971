/* Mode detection, target selection and resource accounting on hand-built
 * models: pure functions, no host needed. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/mode.h"
#include "host/model.h"
#include "host/resources.h"
#include "base/util.h"

#include "model_fixture.h"

/* A VF of PF pf (its partner device ID) in group; returns nothing, as the
 * tests name VFs by BDF. */
static void add_vf(struct av_model *m, int pf, const char *bdf, const char *driver, int group)
{
	uint16_t vf_id = m->funcs[pf].known->partner;
	fx_vf(m, pf, fx_add(m, bdf, AV_VENDOR_AMD, vf_id, 0x120000, driver, group, -1));
}

static void detect(struct av_model *m)
{
	av_mode_detect(m, false, AV_MODE_NONE);
	av_select(m);
}

static void test_vf_mode(void **state)
{
	(void)state;
	struct av_model m = { 0 };
	int pf0 = fx_add(&m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 10, -1);
	add_vf(&m, pf0, "0000:05:02.0", "vfio-pci", 11);
	int pf1 = fx_add(&m, "0000:15:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 20, -1);
	add_vf(&m, pf1, "0000:15:02.0", "vfio-pci", 21);
	m.funcs[pf1 + 1].numa_node = 1;
	int nodes[] = { 11, 21 };
	fx_groups(&m, nodes, 2);
	detect(&m);

	assert_int_equal(m.mode, AV_MODE_VF);
	assert_int_equal(m.mode_source, AV_SOURCE_AUTO);
	assert_string_equal(m.mode_evidence, "0000:05:00.0 is bound to gim and has 1 VF");
	assert_null(m.mode_warning);
	assert_false(m.funcs[pf0].selected);
	assert_true(m.funcs[pf0 + 1].selected);

	struct av_resources r;
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &r), 0);
	assert_string_equal(r.resource, "amd.com/gpu");
	assert_int_equal(r.n_devices, 2);
	assert_int_equal(r.n_healthy, 2);
	assert_string_equal(r.devices[0].id, "11");
	assert_int_equal(r.devices[0].n_funcs, 1);
	assert_int_equal(r.devices[1].numa_node, 1);
	av_resources_clear(&r);

	assert_int_equal(av_resources_compute(&m, AV_NAMING_MIXED, &r), 0);
	assert_string_equal(r.resource, "amd.com/gpu_vf");
	av_resources_clear(&r);
	av_model_free(&m);
}

static void test_vf_health(void **state)
{
	(void)state;
	struct av_model m = { 0 };
	int pf0 = fx_add(&m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 10, -1);
	add_vf(&m, pf0, "0000:05:02.0", "vfio-pci", 11);
	int pf1 = fx_add(&m, "0000:15:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 20, -1);
	add_vf(&m, pf1, "0000:15:02.0", "amdgpu", 21);
	int pf2 = fx_add(&m, "0000:25:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 30, -1);
	add_vf(&m, pf2, "0000:25:02.0", "vfio-pci", 31);
	int nodes[] = { 11 }; /* group 31's node is missing */
	fx_groups(&m, nodes, 1);
	detect(&m);

	struct av_resources r;
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &r), 0);
	/* The VF on amdgpu is no device at all; group 31 is advertised unhealthy. */
	assert_int_equal(r.n_devices, 2);
	assert_string_equal(r.devices[0].id, "11");
	assert_true(r.devices[0].healthy);
	assert_string_equal(r.devices[1].id, "31");
	assert_false(r.devices[1].healthy);
	assert_int_equal(r.n_healthy, 1);
	av_resources_clear(&r);
	av_model_free(&m);
}

static void test_pf_mode_and_unknown_ids(void **state)
{
	(void)state;
	struct av_model m = { 0 };
	fx_add(&m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "vfio-pci", 10, -1);
	fx_add(&m, "0000:05:00.1", AV_VENDOR_AMD, 0xab38, 0x040300, "vfio-pci", 10, -1); /* audio: not a GPU */
	fx_add(&m, "0000:15:00.0", AV_VENDOR_AMD, 0x1234, 0x030000, "vfio-pci", 20, -1); /* unknown GPU */
	int nodes[] = { 10, 20 };
	fx_groups(&m, nodes, 2);
	detect(&m);

	assert_int_equal(m.mode, AV_MODE_PF);
	assert_true(m.funcs[0].selected);
	assert_false(m.funcs[1].selected);
	assert_false(m.funcs[2].selected);
	struct av_resources r;
	assert_int_equal(av_resources_compute(&m, AV_NAMING_MIXED, &r), 0);
	assert_string_equal(r.resource, "amd.com/gpu_pf");
	assert_int_equal(r.n_devices, 1);
	assert_int_equal(r.devices[0].n_funcs, 1);
	av_resources_clear(&r);

	/* vfioConfig.deviceIDs selects the unknown one instead. */
	struct av_config cfg = { .present = true, .driver_enable = true };
	uint16_t ids[] = { 0x1234 };
	cfg.device_ids = ids;
	cfg.n_device_ids = 1;
	m.config = &cfg;
	av_select(&m);
	assert_false(m.funcs[0].selected);
	assert_true(m.funcs[2].selected);
	av_model_free(&m);
}

static void test_container_mode(void **state)
{
	(void)state;
	struct av_model m = { 0 };
	fx_add(&m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "amdgpu", 10, -1);
	detect(&m);
	assert_int_equal(m.mode, AV_MODE_NONE); /* amdgpu without /dev/kfd is no container node */
	m.have_kfd = true;
	m.funcs[0].drm_nodes = calloc(1, sizeof(char *));
	m.funcs[0].drm_nodes[0] = strdup("/dev/dri/renderD128");
	m.funcs[0].n_drm_nodes = 1;
	detect(&m);
	assert_int_equal(m.mode, AV_MODE_CONTAINER);
	struct av_resources r;
	assert_int_equal(av_resources_compute(&m, AV_NAMING_MIXED, &r), 0);
	assert_string_equal(r.resource, "amd.com/gpu");
	assert_int_equal(r.n_healthy, 1);
	assert_string_equal(r.devices[0].id, "0000:05:00.0");
	av_resources_clear(&r);
	av_model_free(&m);
}

static void test_mixed_majority(void **state)
{
	(void)state;
	struct av_model m = { 0 };
	fx_add(&m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "vfio-pci", 1, -1);
	fx_add(&m, "0000:15:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "vfio-pci", 2, -1);
	fx_add(&m, "0000:25:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "vfio-pci", 3, -1);
	fx_add(&m, "0000:35:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 4, -1);
	detect(&m);
	assert_int_equal(m.mode, AV_MODE_PF);
	assert_true(m.mixed);
	assert_non_null(m.mode_warning);
	assert_non_null(strstr(m.mode_warning, "1 GPU on gim, 3 on vfio-pci"));

	/* A tie goes to the contract's order: vf before pf. */
	snprintf(m.funcs[1].driver, sizeof(m.funcs[1].driver), "gim");
	detect(&m);
	assert_int_equal(m.mode, AV_MODE_VF);
	av_model_free(&m);
}

static void test_forced_and_config(void **state)
{
	(void)state;
	struct av_model m = { 0 };
	fx_add(&m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 1, -1);
	struct av_config cfg = { .present = true, .driver_type = (char *)"pf-passthrough" };
	m.config = &cfg;
	av_mode_detect(&m, false, AV_MODE_NONE);
	assert_int_equal(m.mode, AV_MODE_PF);
	assert_int_equal(m.mode_source, AV_SOURCE_CONFIG);
	assert_non_null(strstr(m.mode_evidence, "spec.driver.driverType"));
	av_mode_detect(&m, true, AV_MODE_CONTAINER);
	assert_int_equal(m.mode, AV_MODE_CONTAINER);
	assert_int_equal(m.mode_source, AV_SOURCE_FLAG);
	assert_non_null(strstr(m.mode_evidence, "detected: vf-passthrough"));
	m.config = NULL;
	av_model_free(&m);
}

static void test_non_viable_group_unhealthy(void **state)
{
	(void)state;
	struct av_model m = { 0 };
	fx_add(&m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "vfio-pci", 7, -1);
	fx_add(&m, "0000:05:00.1", 0x8086, 0x1234, 0x040300, "snd_hda_intel", 7, -1);
	fx_add(&m, "0000:05:01.0", 0x1022, 0x1483, 0x060400, "pcieport", 7, -1);
	int nodes[] = { 7 };
	fx_groups(&m, nodes, 1);
	detect(&m);
	assert_false(m.groups[0].viable);
	struct av_resources r;
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &r), 0);
	assert_int_equal(r.n_devices, 1);
	assert_false(r.devices[0].healthy);
	av_resources_clear(&r);

	/* The bridge alone never spoils a group. */
	snprintf(m.funcs[1].driver, sizeof(m.funcs[1].driver), "vfio-pci");
	for (int i = 0; i < m.n_groups; i++)
		free(m.groups[i].members);
	free(m.groups);
	m.groups = NULL;
	m.n_groups = 0;
	fx_groups(&m, nodes, 1);
	assert_true(m.groups[0].viable);
	av_model_free(&m);
}

static void test_env_name(void **state)
{
	(void)state;
	char buf[64];
	av_resource_env_name("amd.com/gpu", buf, sizeof(buf));
	assert_string_equal(buf, "PCI_RESOURCE_AMD_COM_GPU");
	av_resource_env_name("amd.com/gpu_vf", buf, sizeof(buf));
	assert_string_equal(buf, "PCI_RESOURCE_AMD_COM_GPU_VF");
}

static void test_lookup(void **state)
{
	(void)state;
	struct av_model m = { 0 };
	fx_add(&m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 3, -1);
	fx_add(&m, "0000:15:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 9, -1);
	fx_add(&m, "0000:25:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 12, -1);
	fx_groups(&m, NULL, 0);
	assert_int_equal(av_model_find(&m, "0000:15:00.0"), 1);
	assert_int_equal(av_model_find(&m, "0000:25:00.0"), 2);
	assert_int_equal(av_model_find(&m, "0000:35:00.0"), -1);
	assert_non_null(av_model_group(&m, 9));
	assert_null(av_model_group(&m, 10));
	av_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vf_mode),
		cmocka_unit_test(test_vf_health),
		cmocka_unit_test(test_pf_mode_and_unknown_ids),
		cmocka_unit_test(test_container_mode),
		cmocka_unit_test(test_mixed_majority),
		cmocka_unit_test(test_forced_and_config),
		cmocka_unit_test(test_non_viable_group_unhealthy),
		cmocka_unit_test(test_env_name),
		cmocka_unit_test(test_lookup),
	};
	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
