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

#include "host/devconfig.h"
#include "host/ids.h"
#include "base/log.h"
#include "base/textsafe.h"
#include "base/util.h"

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
	assert_int_equal(cfg.n_vendor_ids, 1);
	assert_int_equal(cfg.vendor_ids[0], 0x1b36);
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

/* load_text TEXT LEN: av_config_load on a file holding exactly those bytes. */
static int load_text(const char *text, size_t len, struct av_config *cfg, char **cause)
{
	char path[] = "/tmp/amdvirt-cfg-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	int r = av_config_load(cfg, path, cause);
	unlink(path);
	return r;
}

/* A NUL in a string would make the field read as its prefix. */
static void test_config_nul(void **state)
{
	(void)state;
	struct av_config cfg;
	char *cause = NULL;
	const char *nul = "{\"spec\": {\"driver\": {\n\"driverType\": \"vf-passthrough\\u0000xyz\"}}}";
	assert_int_equal(load_text(nul, strlen(nul), &cfg, &cause), -EINVAL);
	assert_non_null(strstr(cause, ":2: \\u0000 (NUL) in a string"));
	free(cause);
	cause = NULL;
	static const char raw[] = "{\"spec\": {\"driver\": {\"driverType\": \"vf-passthrough\0xyz\"}}}";
	assert_int_equal(load_text(raw, sizeof(raw) - 1, &cfg, &cause), -EINVAL);
	assert_non_null(strstr(cause, "a NUL byte"));
	free(cause);
	cause = NULL;
	/* After the document counts too: the parser would stop at it. */
	static const char after[] = "{}\0{\"spec\": 1}";
	assert_int_equal(load_text(after, sizeof(after) - 1, &cfg, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	/* An escaped backslash before "u0000" is text, not a NUL. */
	const char *text = "{\"metadata\": {\"name\": \"a\\\\u0000\"}, \"spec\": {\"driver\": {\"driverType\": \"vf-passthrough\"}}}";
	assert_int_equal(load_text(text, strlen(text), &cfg, &cause), 0);
	assert_string_equal(cfg.name, "a\\u0000");
	assert_string_equal(cfg.driver_type, "vf-passthrough");
	av_config_clear(&cfg);
}

static void test_utf8_seq(void **state)
{
	(void)state;
	uint32_t cp;
	assert_int_equal(av_utf8_seq("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(av_utf8_seq("\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(av_utf8_seq("\xe2\x82\xac", 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(av_utf8_seq("\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	/* Not UTF-8: a lone continuation, 0xff, overlong forms, a surrogate,
	 * above U+10FFFF, a sequence cut short by the end or by another byte. */
	assert_int_equal(av_utf8_seq("\x80", 1, &cp), 0);
	assert_int_equal(av_utf8_seq("\xff", 1, &cp), 0);
	assert_int_equal(av_utf8_seq("\xc0\xaf", 2, &cp), 0);
	assert_int_equal(av_utf8_seq("\xe0\x80\xaf", 3, &cp), 0);
	assert_int_equal(av_utf8_seq("\xed\xa0\x80", 3, &cp), 0);
	assert_int_equal(av_utf8_seq("\xf4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(av_utf8_seq("\xe2\x82", 2, &cp), 0);
	assert_int_equal(av_utf8_seq("\xe2\x82" "A", 3, &cp), 0);
}

static void test_text_escape(void **state)
{
	(void)state;
	char out[64];
	assert_string_equal(av_text_escape(out, sizeof(out), "\xff\x1b[31mevil"), "\\xff\\x1b[31mevil");
	assert_string_equal(av_text_escape(out, sizeof(out), "a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
	/* C1 controls (CSI is one in UTF-8 terminals) and a bidi override. */
	assert_string_equal(av_text_escape(out, sizeof(out), "x\xc2\x9b" "1m\xe2\x80\xaey"), "x\\u009b1m\\u202ey");
	assert_string_equal(av_text_escape(out, sizeof(out), "caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
	assert_string_equal(av_text_escape(out, sizeof(out), NULL), "");
	assert_string_equal(AV_SAFE("ok\x1b"), "ok\\x1b");
	/* Too long: cut between characters, marked. */
	char small[10];
	assert_string_equal(av_text_escape(small, sizeof(small), "abcdefghijkl"), "abcdef...");
	assert_string_equal(av_text_escape(small, sizeof(small), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
	                    "\xc3\xa9\xc3\xa9\xc3\xa9...");
	assert_string_equal(av_text_escape(small, sizeof(small), "ab\x1b\x1b"), "ab\\x1b...");
	assert_string_equal(av_text_escape(small, sizeof(small), "abcdefghi"), "abcdefghi");
	/* Bytes after a NUL are text too when the length is given. */
	assert_int_equal(av_text_escape_n(out, sizeof(out), "vf\0xyz", 6), 9);
	assert_string_equal(out, "vf\\x00xyz");
}

static void test_json_print_utf8(void **state)
{
	(void)state;
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "driver", "\xff\x1b[31mevil\xe2\x82");
	cJSON_AddStringToObject(doc, "\xfekey", "caf\xc3\xa9");
	char *text = av_json_print(doc, false);
	cJSON_Delete(doc);
	assert_string_equal(text, "{\"driver\":\"\xef\xbf\xbd\\u001b[31mevil\xef\xbf\xbd\xef\xbf\xbd\","
	                          "\"\xef\xbf\xbdkey\":\"caf\xc3\xa9\"}");
	free(text);
}

/* The log sink escapes every message, so no argument can start a line of
 * its own or reach the terminal as a control sequence. */
static void test_log_escapes(void **state)
{
	(void)state;
	char path[] = "/tmp/amdvirt-log.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	av_log("Allocate for device %s", "7\namdvirt: forged line\x1b[2K\xff");
	av_log("plain %d", 1);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	char buf[512] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	assert_string_equal(buf, "amdvirt: Allocate for device 7\\x0aamdvirt: forged line\\x1b[2K\\xff\n"
	                         "amdvirt: plain 1\n");
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
		cmocka_unit_test(test_config_nul),
		cmocka_unit_test(test_utf8_seq),
		cmocka_unit_test(test_text_escape),
		cmocka_unit_test(test_json_print_utf8),
		cmocka_unit_test(test_log_escapes),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
