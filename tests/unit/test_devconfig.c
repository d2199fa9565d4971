/* The DeviceConfig as amdvirt reads it: YAML typed as kubectl types it
 * into the tree the API server's JSON gives, one object whatever the
 * wrapping, the CRD's defaults, the settings annotations carry, and the
 * mode, the verdict and the options that follow from it. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "actions/actions.h"
#include "cli/optuse.h"
#include "host/devconfig.h"
#include "host/mode.h"
#include "model_fixture.h"

static cJSON *yaml(const char *text, char **cause)
{
	return av_config_yaml_parse(text, strlen(text), "dc.yaml", cause);
}

static const cJSON *at(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v)
		fail_msg("no key '%s'", key);
	return v;
}

static void test_yaml_scalars(void **state)
{
	(void)state;
	char *cause = NULL;
	cJSON *d = yaml("a: ~\nb:\nc: null\nd: yes\ne: Off\nf: y\ng: true\n"
	                "h: 7410\ni: 0x10\nj: 010\nk: 0b11\nl: 1_000\nm: -3\nn: 1.5\no: 74e5\np: .inf\n"
	                "q: 740f\nr: \"7410\"\ns: '74b5'\nt: !!str 7410\nu: |\n  text\nv: 0o17\nw: 8.1.0.K\n"
	                "x: 09\n", &cause);
	assert_non_null(d);
	assert_null(cause);
	assert_true(cJSON_IsNull(at(d, "a")) && cJSON_IsNull(at(d, "b")) && cJSON_IsNull(at(d, "c")));
	assert_true(cJSON_IsTrue(at(d, "d")) && cJSON_IsFalse(at(d, "e")) && cJSON_IsTrue(at(d, "f")));
	assert_true(cJSON_IsTrue(at(d, "g")));
	assert_true(cJSON_IsNumber(at(d, "h")) && at(d, "h")->valuedouble == 7410);
	assert_true(at(d, "i")->valuedouble == 16 && at(d, "j")->valuedouble == 8);
	assert_true(at(d, "k")->valuedouble == 3 && at(d, "l")->valuedouble == 1000);
	assert_true(at(d, "m")->valuedouble == -3 && at(d, "n")->valuedouble == 1.5);
	assert_true(cJSON_IsNumber(at(d, "o")) && at(d, "o")->valuedouble == 7400000);
	assert_true(cJSON_IsNumber(at(d, "p")) && isinf(at(d, "p")->valuedouble));
	assert_string_equal(at(d, "q")->valuestring, "740f");
	assert_string_equal(at(d, "r")->valuestring, "7410");
	assert_string_equal(at(d, "s")->valuestring, "74b5");
	assert_string_equal(at(d, "t")->valuestring, "7410");
	assert_string_equal(at(d, "u")->valuestring, "text\n");
	assert_true(at(d, "v")->valuedouble == 15);
	assert_string_equal(at(d, "w")->valuestring, "8.1.0.K");
	/* not octal, but go-yaml's float pattern takes it */
	assert_true(cJSON_IsNumber(at(d, "x")) && at(d, "x")->valuedouble == 9);
	cJSON_Delete(d);
}

/* The YAML of an object and its JSON give the same tree. */
static void test_yaml_is_json(void **state)
{
	(void)state;
	const char *y = "apiVersion: amd.com/v1alpha1\nkind: DeviceConfig\nmetadata:\n  name: dc\n"
	                "  annotations:\n    amdvirt/hives: '[[\"05:00.0\"]]'\nspec:\n  driver:\n"
	                "    enable: false\n    vfioConfig:\n      deviceIDs: [\"74b5\", 740f]\n"
	                "    kernelModuleConfig:\n      parameters:\n      - vf_num=1\n";
	const char *j = "{\"apiVersion\":\"amd.com/v1alpha1\",\"kind\":\"DeviceConfig\",\"metadata\":{\"name\":\"dc\","
	                "\"annotations\":{\"amdvirt/hives\":\"[[\\\"05:00.0\\\"]]\"}},\"spec\":{\"driver\":{\"enable\":false,"
	                "\"vfioConfig\":{\"deviceIDs\":[\"74b5\",\"740f\"]},\"kernelModuleConfig\":{\"parameters\":[\"vf_num=1\"]}}}}";
	char *cause = NULL;
	cJSON *a = av_config_parse_text(y, strlen(y), "dc.yaml", &cause);
	cJSON *b = av_config_parse_text(j, strlen(j), "dc.json", &cause);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(cJSON_Compare(a, b, true));
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void expect_refused(const char *text, const char *needle)
{
	char *cause = NULL;
	cJSON *d = av_config_parse_text(text, strlen(text), "dc.yaml", &cause);
	if (d)
		fail_msg("'%s' was accepted", text);
	assert_non_null(cause);
	if (!strstr(cause, needle))
		fail_msg("'%s' does not say '%s'", cause, needle);
	free(cause);
}

static void test_yaml_refusals(void **state)
{
	(void)state;
	expect_refused("a: 1\nb: [\n", "dc.yaml:3: not valid YAML");
	expect_refused("a: 1\na: 2\n", "dc.yaml:2: duplicate key 'a'");
	expect_refused("a: &x 1\nb: *x\n", "dc.yaml:2: YAML aliases are not supported 'x'");
	expect_refused("kind: DeviceConfig\n---\nkind: DeviceConfig\n", "dc.yaml:2: a second YAML document");
	expect_refused("? [a]\n: 1\n", "dc.yaml:1: a mapping key must be");
	expect_refused("a: \"x\\0y\"\n", "dc.yaml:1: a NUL character");
	expect_refused("", "dc.yaml: empty");
	char deep[400] = "a: ";
	for (int i = 0; i < 70; i++)
		strcat(deep, "[");
	expect_refused(deep, "nested more than 64 levels");
	/* JSON keeps its own checks */
	expect_refused("{\"a\":\n \"\\u0000\"}", "dc.yaml:2: \\u0000 (NUL) in a string");
	expect_refused("{\"a\": 1} x", "dc.yaml:1: not valid JSON");
	/* a List of more than one */
	expect_refused("kind: List\nitems: [{kind: DeviceConfig}, {kind: DeviceConfig}]\n",
	               "a List of 2 items; amdvirt reads one DeviceConfig");
	expect_refused("{\"kind\": \"DeviceConfigList\", \"items\": []}", "a DeviceConfigList of 0 items");
}

static void test_list_of_one(void **state)
{
	(void)state;
	const char *t = "apiVersion: v1\nkind: List\nmetadata: {resourceVersion: \"\"}\nitems:\n"
	                "- apiVersion: amd.com/v1alpha1\n  kind: DeviceConfig\n  metadata: {name: one}\n";
	char *cause = NULL;
	cJSON *d = av_config_parse_text(t, strlen(t), "dc.yaml", &cause);
	assert_non_null(d);
	assert_string_equal(at(at(d, "metadata"), "name")->valuestring, "one");
	cJSON_Delete(d);
}

static int load(const char *y, struct av_config *cfg, char **cause)
{
	cJSON *d = av_config_parse_text(y, strlen(y), "dc.yaml", cause);
	if (!d)
		return -EINVAL;
	int r = av_config_from_json(cfg, d, "dc.yaml", cause);
	cJSON_Delete(d);
	return r;
}

static void expect_error(const char *y, const char *needle)
{
	struct av_config cfg;
	char *cause = NULL;
	assert_int_equal(load(y, &cfg, &cause), -EINVAL);
	assert_non_null(cause);
	if (!strstr(cause, needle))
		fail_msg("'%s' does not say '%s'", cause, needle);
	free(cause);
}

static void test_defaults(void **state)
{
	(void)state;
	struct av_config cfg;
	/* spec.driver present: AMD's CRD defaults, as a cluster stores them */
	assert_int_equal(load("spec:\n  driver:\n    version: 8.1.0.K\n", &cfg, NULL), 0);
	assert_true(cfg.driver_enable);
	assert_string_equal(cfg.driver_type, "container");
	av_config_clear(&cfg);
	assert_int_equal(load("spec:\n  driver: {enable: false}\n", &cfg, NULL), 0);
	assert_false(cfg.driver_enable);
	assert_string_equal(cfg.driver_type, "container");
	av_config_clear(&cfg);
	/* no spec.driver: nothing to default, as on a cluster */
	assert_int_equal(load("spec: {selector: {a: b}}\n", &cfg, NULL), 0);
	assert_null(cfg.driver_type);
	av_config_clear(&cfg);
	/* a stored object reads the same as the file it came from */
	struct av_config stored;
	assert_int_equal(load("spec:\n  driver: {enable: false, driverType: container}\n", &stored, NULL), 0);
	assert_int_equal(load("spec:\n  driver: {enable: false}\n", &cfg, NULL), 0);
	assert_string_equal(stored.driver_type, cfg.driver_type);
	assert_int_equal(stored.driver_enable, cfg.driver_enable);
	av_config_clear(&stored);
	av_config_clear(&cfg);
	expect_error("kind: Config\n", "dc.yaml: kind Config is not a DeviceConfig");
}

static void test_device_plugin_arguments(void **state)
{
	(void)state;
	struct av_config cfg;
	assert_int_equal(load("spec:\n  devicePlugin:\n    devicePluginArguments:\n      resource_naming_strategy: mixed\n"
	                      "      driver_type: vf-passthrough\n", &cfg, NULL), 0);
	assert_string_equal(cfg.resource_naming, "mixed");
	av_config_clear(&cfg);
	/* the file-only key still counts, and may agree */
	assert_int_equal(load("spec:\n  devicePlugin: {devicePluginArguments: {resource_naming_strategy: mixed}}\n"
	                      "  amdvirt: {resourceNaming: mixed}\n", &cfg, NULL), 0);
	assert_string_equal(cfg.resource_naming, "mixed");
	av_config_clear(&cfg);
	assert_int_equal(load("spec:\n  amdvirt: {resourceNaming: mixed}\n", &cfg, NULL), 0);
	assert_string_equal(cfg.resource_naming, "mixed");
	av_config_clear(&cfg);
	expect_error("spec:\n  devicePlugin: {devicePluginArguments: {resource_naming_strategy: both}}\n",
	             "spec.devicePlugin.devicePluginArguments.resource_naming_strategy 'both' is not single or mixed");
	expect_error("spec:\n  devicePlugin: {devicePluginArguments: {pulse: 30}}\n",
	             "spec.devicePlugin.devicePluginArguments.pulse must be a string");
	expect_error("spec:\n  devicePlugin: {devicePluginArguments: {resource_naming_strategy: single}}\n"
	             "  amdvirt: {resourceNaming: mixed}\n", "contradicts");
	expect_error("spec:\n  devicePlugin: {devicePluginArguments: [a]}\n",
	             "spec.devicePlugin.devicePluginArguments must be an object");
}

static void test_annotations(void **state)
{
	(void)state;
	struct av_config cfg;
	assert_int_equal(load("metadata:\n  name: dc\n  namespace: kube-amd-gpu\n  annotations:\n"
	                      "    amdvirt/hives: '[[\"05:00.0\", \"0000:25:00.0\"], [\"0000:45:00.0\"]]'\n"
	                      "    amdvirt/vendor-ids: \"1b36, 0x1AF4,1b36\"\n"
	                      "spec:\n  amdvirt: {vendorID: \"8086\"}\n"
	                      "  driver: {vfioConfig: {deviceIDs: [\"0010\"]}}\n", &cfg, NULL), 0);
	assert_int_equal(cfg.n_hives, 2);
	assert_int_equal(cfg.hive_sizes[0], 2);
	assert_string_equal(cfg.hives[0][0], "0000:05:00.0");
	assert_string_equal(cfg.hives[1][0], "0000:45:00.0");
	assert_int_equal(cfg.n_vendor_ids, 3);
	assert_int_equal(cfg.vendor_ids[0], 0x1b36);
	assert_int_equal(cfg.vendor_ids[1], 0x1af4);
	assert_int_equal(cfg.vendor_ids[2], 0x8086);
	assert_true(av_config_lab_device(&cfg, 0x1af4, 0x0010));
	assert_true(av_config_lab_device(&cfg, 0x8086, 0x0010));
	assert_false(av_config_lab_device(&cfg, 0x1af4, 0x0011));
	assert_false(av_config_lab_device(&cfg, 0x10de, 0x0010));
	av_config_clear(&cfg);

	const char *obj = "DeviceConfig kube-amd-gpu/dc";
	char y[512];
	static const struct { const char *value; const char *says; } bad[] = {
		{ "'nope'", "annotation amdvirt/hives of DeviceConfig kube-amd-gpu/dc: not JSON" },
		{ "'{\"a\": 1}'", "annotation amdvirt/hives of DeviceConfig kube-amd-gpu/dc must be a list of lists" },
		{ "'[[\"05:00.0\", \"gpu\"]]'", "annotation amdvirt/hives of DeviceConfig kube-amd-gpu/dc[0][1] 'gpu' is not a PCI address" },
		{ "'[\"05:00.0\"]'", "annotation amdvirt/hives of DeviceConfig kube-amd-gpu/dc[0] must be a list" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(y, sizeof(y), "metadata:\n  name: dc\n  namespace: kube-amd-gpu\n  annotations:\n"
		         "    amdvirt/hives: %s\n", bad[i].value);
		expect_error(y, bad[i].says);
	}
	static const struct { const char *value; const char *says; } badv[] = {
		{ "\"1b36,\"", "item 1 is empty" },
		{ "\"redhat\"", "'redhat' is not a 4-digit hex vendor ID" },
		{ "\"1b36 1af4\"", "expected ',' before '1af4'" },
	};
	for (size_t i = 0; i < sizeof(badv) / sizeof(*badv); i++) {
		snprintf(y, sizeof(y), "metadata:\n  name: dc\n  namespace: kube-amd-gpu\n  annotations:\n"
		         "    amdvirt/vendor-ids: %s\n", badv[i].value);
		expect_error(y, "annotation amdvirt/vendor-ids of DeviceConfig kube-amd-gpu/dc");
		expect_error(y, badv[i].says);
	}
	expect_error("metadata: {name: dc, annotations: {amdvirt/hives: 3}}\n", "metadata.annotations.amdvirt/hives must be a string");
	expect_error("metadata:\n  name: dc\n  annotations:\n    amdvirt/hives: '[[\"05:00.0\"]]'\n"
	             "spec: {amdvirt: {hives: [[\"05:00.0\"]]}}\n", "hives given both");
	(void)obj;
}

/* Which of the device plugin and the DRA driver the daemon serves: the
 * annotation (a cluster keeps it), spec.amdvirt.allocation in a file. */
static void test_allocation(void **state)
{
	(void)state;
	struct av_config cfg;
	assert_int_equal(load("metadata:\n  name: dc\n  annotations: {amdvirt/allocation: dra}\n", &cfg, NULL), 0);
	assert_string_equal(cfg.allocation, "dra");
	assert_true(av_config_wants_dra(&cfg));
	av_config_clear(&cfg);
	assert_false(av_config_wants_dra(&cfg));
	assert_int_equal(load("metadata: {name: dc}\nspec: {amdvirt: {allocation: dra}}\n", &cfg, NULL), 0);
	assert_true(av_config_wants_dra(&cfg));
	av_config_clear(&cfg);
	assert_int_equal(load("metadata: {name: dc}\nspec: {amdvirt: {allocation: device-plugin}}\n", &cfg, NULL), 0);
	assert_false(av_config_wants_dra(&cfg));
	av_config_clear(&cfg);
	assert_int_equal(load("metadata: {name: dc}\nspec: {driver: {enable: true}}\n", &cfg, NULL), 0);
	assert_null(cfg.allocation);
	assert_false(av_config_wants_dra(&cfg));
	av_config_clear(&cfg);
	/* Both given and agreeing is one meaning. */
	assert_int_equal(load("metadata:\n  name: dc\n  annotations: {amdvirt/allocation: dra}\n"
	                      "spec: {amdvirt: {allocation: dra}}\n", &cfg, NULL), 0);
	assert_true(av_config_wants_dra(&cfg));
	av_config_clear(&cfg);

	expect_error("metadata:\n  name: dc\n  namespace: ns\n  annotations: {amdvirt/allocation: DRA}\n",
	             "annotation amdvirt/allocation of DeviceConfig ns/dc 'DRA': use device-plugin or dra");
	expect_error("metadata: {name: dc}\nspec: {amdvirt: {allocation: both}}\n",
	             "spec.amdvirt.allocation 'both': use device-plugin or dra");
	expect_error("metadata: {name: dc}\nspec: {amdvirt: {allocation: true}}\n",
	             "spec.amdvirt.allocation must be a string");
	expect_error("metadata:\n  name: dc\n  annotations: {amdvirt/allocation: dra}\n"
	             "spec: {amdvirt: {allocation: device-plugin}}\n",
	             "spec.amdvirt.allocation 'device-plugin' contradicts the annotation amdvirt/allocation 'dra'");
}

/* A watch event's object replaces the configuration only when it loads. */
static void test_replace(void **state)
{
	(void)state;
	struct av_config cfg = { 0 };
	cJSON *good = cJSON_Parse("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"driver\":{\"driverType\":\"vf-passthrough\"}}}");
	cJSON *bad = cJSON_Parse("{\"metadata\":{\"name\":\"b\"},\"spec\":{\"driver\":{\"driverType\":\"vm\"}}}");
	char *cause = NULL;
	assert_int_equal(av_config_replace(&cfg, good, "w", &cause), 0);
	assert_string_equal(cfg.name, "a");
	assert_int_equal(av_config_replace(&cfg, bad, "w", &cause), -EINVAL);
	assert_non_null(cause);
	assert_string_equal(cfg.name, "a");
	assert_string_equal(cfg.driver_type, "vf-passthrough");
	free(cause);
	av_config_clear(&cfg);
	cJSON_Delete(good);
	cJSON_Delete(bad);
}

/* Two PFs on gim with a VF each, or on vfio-pci, or on amdgpu with kfd. */
static void host(struct av_model *m, const char *driver)
{
	memset(m, 0, sizeof(*m));
	int a = fx_add(m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, driver, 10, 0);
	int b = fx_add(m, "0000:15:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, driver, 20, 0);
	if (strcmp(driver, "gim") == 0) {
		fx_vf(m, a, fx_add(m, "0000:05:02.0", AV_VENDOR_AMD, 0x74b5, 0x120000, "vfio-pci", 11, 0));
		fx_vf(m, b, fx_add(m, "0000:15:02.0", AV_VENDOR_AMD, 0x74b5, 0x120000, "vfio-pci", 21, 0));
	}
	m->have_kfd = strcmp(driver, "amdgpu") == 0;
	fx_groups(m, NULL, 0);
}

static void judge(struct av_model *m, struct av_config *cfg, const char *type, bool enable)
{
	free(cfg->driver_type);
	cfg->driver_type = type ? strdup(type) : NULL;
	cfg->driver_enable = enable;
	cfg->present = true;
	m->config = cfg;
	av_mode_detect(m, false, AV_MODE_NONE);
}

static void expect_conflict(struct av_model *m, const char *needle)
{
	char *c = av_mode_config_conflict(m);
	if (!needle) {
		if (c)
			fail_msg("unexpected conflict: %s", c);
		return;
	}
	if (!c || !strstr(c, needle))
		fail_msg("conflict '%s' does not say '%s'", c ? c : "(none)", needle);
	free(c);
}

static void test_mode_and_verdict(void **state)
{
	(void)state;
	struct av_model m;
	struct av_config cfg = { 0 };

	/* container, given or defaulted, never forces the mode */
	host(&m, "gim");
	judge(&m, &cfg, "container", true);
	assert_int_equal(m.mode, AV_MODE_VF);
	assert_int_equal(m.mode_source, AV_SOURCE_AUTO);
	expect_conflict(&m, NULL);
	assert_string_equal(av_manage_off_reason(&m), "spec.driver.driverType is container (AMD's default when not given): amdgpu is not amdvirt's to manage");
	/* a passthrough type decides, and the host agrees */
	judge(&m, &cfg, "vf-passthrough", false);
	assert_int_equal(m.mode, AV_MODE_VF);
	assert_int_equal(m.mode_source, AV_SOURCE_CONFIG);
	expect_conflict(&m, NULL);
	/* pf-passthrough while PFs are on gim */
	judge(&m, &cfg, "pf-passthrough", true);
	assert_int_equal(m.mode, AV_MODE_PF);
	expect_conflict(&m, "spec.driver.driverType is pf-passthrough, but 2 GPUs are on gim (vf-passthrough), "
	                    "0000:05:00.0 first");
	/* driver management stays off rather than tear the VFs down */
	assert_string_equal(av_manage_off_reason(&m), "spec.driver.driverType contradicts the host (see check config.driver-type)");
	/* --driver-type decides over the DeviceConfig: no verdict on it */
	m.config = &cfg;
	av_mode_detect(&m, true, AV_MODE_PF);
	expect_conflict(&m, NULL);
	av_model_free(&m);

	/* vf-passthrough on a host with no PF on gim and no VFs */
	host(&m, "vfio-pci");
	judge(&m, &cfg, "vf-passthrough", false);
	expect_conflict(&m, "spec.driver.driverType is vf-passthrough, but no GPU is on gim and there are no VFs: "
	                    "0000:05:00.0 is on vfio-pci (pf-passthrough)");
	judge(&m, &cfg, "vf-passthrough", true);
	expect_conflict(&m, "0000:05:00.0 is on vfio-pci");
	judge(&m, &cfg, "pf-passthrough", false);
	expect_conflict(&m, NULL);
	judge(&m, &cfg, NULL, true);
	assert_int_equal(m.mode, AV_MODE_PF);
	assert_int_equal(m.mode_source, AV_SOURCE_AUTO);
	av_model_free(&m);

	/* amdgpu with kfd: managed, a host not yet in the mode is not a
	 * contradiction (the daemon is about to change it); unmanaged, it is */
	host(&m, "amdgpu");
	judge(&m, &cfg, "vf-passthrough", true);
	expect_conflict(&m, NULL);
	judge(&m, &cfg, "vf-passthrough", false);
	expect_conflict(&m, "spec.driver.driverType is vf-passthrough and spec.driver.enable is false, but no GPU is on gim");
	judge(&m, &cfg, "pf-passthrough", true);
	expect_conflict(&m, NULL);
	judge(&m, &cfg, "pf-passthrough", false);
	expect_conflict(&m, "spec.driver.driverType is pf-passthrough and spec.driver.enable is false, but no GPU is on vfio-pci");
	judge(&m, &cfg, "container", false);
	assert_int_equal(m.mode, AV_MODE_CONTAINER);
	expect_conflict(&m, NULL);
	av_model_free(&m);
	av_config_clear(&cfg);
}

static void test_options(void **state)
{
	(void)state;
	static const char *const commands[] = { "list", "check", "console", "daemon", "labels", "kubevirt-config",
	                                        "bind", "unbind", "gim" };
	static const char *const everyone[] = { "root", "demo", "driver-type", "driver_type", "config",
	                                        "deviceconfig", "kubeconfig" };
	for (size_t c = 0; c < sizeof(commands) / sizeof(*commands); c++)
		for (size_t o = 0; o < sizeof(everyone) / sizeof(*everyone); o++)
			if (!av_optuse_accepts(commands[c], everyone[o]))
				fail_msg("%s refuses --%s", commands[c], everyone[o]);
	assert_false(av_optuse_accepts("list", "apply"));
	assert_false(av_optuse_accepts("list", "quiet"));
	assert_true(av_optuse_accepts("check", "q"));
	assert_true(av_optuse_accepts("check", "resource-naming"));
	assert_false(av_optuse_accepts("check", "apply"));
	assert_true(av_optuse_accepts("daemon", "dra"));
	assert_false(av_optuse_accepts("list", "dra"));
	assert_true(av_optuse_accepts("kubevirt-config", "apply"));
	assert_true(av_optuse_accepts("kubevirt-config", "kubevirt"));
	assert_true(av_optuse_accepts("kubevirt-config", "dry-run"));
	assert_false(av_optuse_accepts("kubevirt-config", "all"));
	assert_true(av_optuse_accepts("labels", "node-name"));
	assert_false(av_optuse_accepts("labels", "resource-naming"));
	assert_true(av_optuse_accepts("daemon", "resync"));
	assert_false(av_optuse_accepts("bind", "resync"));
	assert_true(av_optuse_accepts("gim", "bind"));
	assert_false(av_optuse_accepts("gim", "all"));
	assert_false(av_optuse_accepts("console", "json"));
	assert_false(av_optuse_accepts("list", "no-such-option"));
	/* a prefix of an accepted name is not accepted */
	assert_false(av_optuse_accepts("check", "al"));

	struct av_optuse u = { 0 };
	av_optuse_note(&u, "root");
	av_optuse_note(&u, "json");
	assert_int_equal(av_optuse_check(&u, "list"), 0);
	av_optuse_note(&u, "apply");
	assert_int_equal(av_optuse_check(&u, "list"), -1);
	assert_int_equal(av_optuse_check(&u, "labels"), 0);

	/* An option main.c knows and the table does not is refused, not let
	 * through; the command spellings and --help pass. */
	struct av_optuse v = { 0 };
	av_optuse_note(&v, "check");
	av_optuse_note(&v, "daemon");
	av_optuse_note(&v, "help");
	av_optuse_note(&v, NULL);
	assert_int_equal(av_optuse_check(&v, "list"), 0);
	av_optuse_note(&v, "new-option");
	assert_int_equal(av_optuse_check(&v, "list"), -1);
	assert_int_equal(av_optuse_check(&v, "daemon"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_scalars),
		cmocka_unit_test(test_yaml_is_json),
		cmocka_unit_test(test_yaml_refusals),
		cmocka_unit_test(test_list_of_one),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_device_plugin_arguments),
		cmocka_unit_test(test_annotations),
		cmocka_unit_test(test_allocation),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_mode_and_verdict),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
