/* Parsers: numbers, IDs, BDFs, the DeviceConfig. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "devconfig.h"
#include "ids.h"
#include "util.h"

static void test_parse_long(void **state)
{
	(void)state;
	long v;
	assert_int_equal(av_parse_long("0x1002", 16, &v), 0);
	assert_int_equal(v, 0x1002);
	assert_int_equal(av_parse_long(" -1 ", 10, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(av_parse_long("", 10, &v), -EINVAL);
	assert_int_equal(av_parse_long("abc", 10, &v), -EINVAL);
	assert_int_equal(av_parse_long("12abc", 10, &v), -EINVAL);
	assert_int_equal(av_parse_long("99999999999999999999999", 10, &v), -ERANGE);
}

static void test_parse_hex16(void **state)
{
	(void)state;
	uint16_t v;
	assert_int_equal(av_parse_hex16("74b5", &v), 0);
	assert_int_equal(v, 0x74b5);
	assert_int_equal(av_parse_hex16("0x74B5", &v), 0);
	assert_int_equal(v, 0x74b5);
	assert_int_equal(av_parse_hex16("74b5a", &v), -EINVAL);
	assert_int_equal(av_parse_hex16("", &v), -EINVAL);
	assert_int_equal(av_parse_hex16("xyz", &v), -EINVAL);
}

static void test_bdf(void **state)
{
	(void)state;
	char out[13];
	assert_true(av_bdf_valid("0000:85:00.0"));
	assert_false(av_bdf_valid("0000:85:00.8"));
	assert_false(av_bdf_valid("0000:85:20.0")); /* device numbers stop at 0x1f */
	assert_false(av_bdf_valid("0000:85:00"));
	assert_int_equal(av_bdf_normalise("85:02.0", out), 0);
	assert_string_equal(out, "0000:85:02.0");
	assert_int_equal(av_bdf_normalise("0000:C5:00.0", out), 0);
	assert_string_equal(out, "0000:c5:00.0");
	assert_int_equal(av_bdf_normalise("../../etc", out), -EINVAL);
}

static void test_ids(void **state)
{
	(void)state;
	const struct av_known_id *id = av_ids_lookup(0x74a1);
	assert_non_null(id);
	assert_false(id->is_vf);
	assert_int_equal(id->partner, 0x74b5);
	id = av_ids_lookup(0x74b5);
	assert_true(id->is_vf);
	assert_string_equal(id->model, "MI300X");
	assert_null(av_ids_lookup(0x1234));
	/* Every VF's partner names it back. */
	int n;
	const struct av_known_id *t = av_ids_table(&n);
	assert_true(n >= 25);
	for (int i = 0; i < n; i++) {
		if (!t[i].partner)
			continue;
		const struct av_known_id *p = av_ids_lookup(t[i].partner);
		assert_non_null(p);
		assert_int_equal(p->partner, t[i].device);
		assert_true(p->is_vf != t[i].is_vf);
	}
	assert_true(av_class_is_gpu(0x120000));
	assert_true(av_class_is_gpu(0x038000));
	assert_false(av_class_is_gpu(0x040300));
}

static int config_from(const char *text, struct av_config *cfg, char **cause)
{
	cJSON *j = cJSON_Parse(text);
	assert_non_null(j);
	int r = av_config_from_json(cfg, j, "test.json", cause);
	cJSON_Delete(j);
	return r;
}

static void test_config_full(void **state)
{
	(void)state;
	struct av_config cfg;
	char *cause = NULL;
	assert_int_equal(config_from("{\"apiVersion\":\"amd.com/v1alpha1\",\"kind\":\"DeviceConfig\","
	                             "\"metadata\":{\"name\":\"gpu\",\"namespace\":\"kube-amd-gpu\"},"
	                             "\"spec\":{\"driver\":{\"enable\":true,\"driverType\":\"vf-passthrough\","
	                             "\"version\":\"8.1.0.K\",\"blacklist\":true,"
	                             "\"vfioConfig\":{\"deviceIDs\":[\"74b5\",\"7410\"]},"
	                             "\"kernelModuleConfig\":{\"parameters\":[\"vf_num=1\"]},\"image\":\"x\"},"
	                             "\"amdvirt\":{\"resourceNaming\":\"mixed\",\"vendorID\":\"1b36\","
	                             "\"hives\":[[\"05:00.0\",\"0000:15:00.0\"]]},\"selector\":{}}}",
	                             &cfg, &cause), 0);
	assert_null(cause);
	assert_true(cfg.present);
	assert_string_equal(cfg.name, "gpu");
	assert_string_equal(cfg.namespace_, "kube-amd-gpu");
	assert_true(cfg.driver_enable);
	assert_string_equal(cfg.driver_type, "vf-passthrough");
	assert_string_equal(cfg.version, "8.1.0.K");
	assert_true(cfg.blacklist);
	assert_int_equal(cfg.n_device_ids, 2);
	assert_int_equal(cfg.device_ids[1], 0x7410);
	assert_int_equal(cfg.n_module_params, 1);
	assert_string_equal(cfg.module_params[0], "vf_num=1");
	assert_string_equal(cfg.resource_naming, "mixed");
	assert_int_equal(cfg.n_hives, 1);
	assert_int_equal(cfg.hive_sizes[0], 2);
	assert_string_equal(cfg.hives[0][0], "0000:05:00.0");
	assert_int_equal(cfg.vendor_id, 0x1b36);
	assert_true(av_config_lab_device(&cfg, 0x1b36, 0x7410));
	assert_false(av_config_lab_device(&cfg, 0x1b36, 0x0010));
	assert_false(av_config_lab_device(&cfg, 0x1002, 0x7410));
	av_config_clear(&cfg);
}

static void expect_error(const char *text, const char *field)
{
	struct av_config cfg;
	char *cause = NULL;
	assert_int_equal(config_from(text, &cfg, &cause), -EINVAL);
	assert_non_null(cause);
	if (!strstr(cause, field))
		fail_msg("'%s' does not name '%s'", cause, field);
	assert_non_null(strstr(cause, "test.json"));
	free(cause);
	av_config_clear(&cfg);
}

static void test_config_errors(void **state)
{
	(void)state;
	expect_error("[]", "object");
	expect_error("{\"spec\":{\"driver\":{\"enable\":\"yes\"}}}", "spec.driver.enable");
	expect_error("{\"spec\":{\"driver\":{\"driverType\":\"vm\"}}}", "spec.driver.driverType");
	expect_error("{\"spec\":{\"driver\":{\"vfioConfig\":{\"deviceIDs\":\"74b5\"}}}}",
	             "spec.driver.vfioConfig.deviceIDs");
	expect_error("{\"spec\":{\"driver\":{\"vfioConfig\":{\"deviceIDs\":[\"0x74b5x\"]}}}}",
	             "spec.driver.vfioConfig.deviceIDs[0]");
	expect_error("{\"spec\":{\"driver\":{\"vfioConfig\":{\"deviceIDs\":[7]}}}}",
	             "spec.driver.vfioConfig.deviceIDs[0]");
	expect_error("{\"spec\":{\"driver\":{\"kernelModuleConfig\":{\"parameters\":{}}}}}",
	             "spec.driver.kernelModuleConfig.parameters");
	expect_error("{\"metadata\":{\"name\":3}}", "metadata.name");
	expect_error("{\"spec\":{\"amdvirt\":{\"hives\":[\"0000:05:00.0\"]}}}", "spec.amdvirt.hives[0]");
	expect_error("{\"spec\":{\"amdvirt\":{\"hives\":[[\"nope\"]]}}}", "spec.amdvirt.hives[0][0]");
	expect_error("{\"spec\":{\"amdvirt\":{\"resourceNaming\":\"both\"}}}", "spec.amdvirt.resourceNaming");
	expect_error("{\"spec\":{\"amdvirt\":{\"vendorID\":\"redhat\"}}}", "spec.amdvirt.vendorID");
}

static void test_config_defaults_and_unknown(void **state)
{
	(void)state;
	struct av_config cfg;
	assert_int_equal(config_from("{\"spec\":{\"devicePlugin\":{\"x\":1},\"driver\":null}}", &cfg, NULL), 0);
	assert_true(cfg.driver_enable);
	assert_null(cfg.driver_type);
	assert_int_equal(cfg.n_device_ids, 0);
	av_config_clear(&cfg);
}

static void test_config_file(void **state)
{
	(void)state;
	char path[] = "/tmp/amdvirt-cfg-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *bad = "{\n  \"spec\": {\n    \"driver\": { ,\n}";
	assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	struct av_config cfg;
	char *cause = NULL;
	assert_int_equal(av_config_load(&cfg, path, &cause), -EINVAL);
	assert_non_null(strstr(cause, path));
	assert_non_null(strstr(cause, ":3:"));
	free(cause);
	cause = NULL;
	unlink(path);
	assert_int_equal(av_config_load(&cfg, path, &cause), -ENOENT);
	assert_non_null(strstr(cause, path));
	free(cause);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_parse_hex16),
		cmocka_unit_test(test_bdf),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_config_full),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_defaults_and_unknown),
		cmocka_unit_test(test_config_file),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
