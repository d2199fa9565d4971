/* The merge patch between a Node's labels and the desired ones. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "labels/patch.h"

static char k_mode[] = "amd.com/gpu.mode", v_mode[] = "vf-passthrough";
static char k_bmode[] = "beta.amd.com/gpu.mode";
static char k_id[] = "amd.com/gpu.device-id", v_id[] = "74b5";

static struct av_label items[] = {
	{ k_id, v_id },
	{ k_mode, v_mode },
	{ k_bmode, v_mode },
};
static const struct av_labels desired = { .items = items, .n = 3 };

static cJSON *patch_of(const char *current_json, const char *rv, int *set, int *removed)
{
	cJSON *cur = current_json ? cJSON_Parse(current_json) : NULL;
	cJSON *patch = NULL;
	assert_true(!current_json || cur);
	assert_int_equal(av_labels_patch(cur, &desired, NULL, rv, &patch, set, removed), 0);
	cJSON_Delete(cur);
	return patch;
}

static const cJSON *labels_of(const cJSON *patch)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(patch, "metadata");
	assert_non_null(meta);
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(meta, "labels");
	assert_non_null(l);
	return l;
}

static void test_empty_node(void **state)
{
	int set, removed;
	cJSON *p = patch_of(NULL, "42", &set, &removed);
	assert_non_null(p);
	assert_int_equal(set, 3);
	assert_int_equal(removed, 0);
	assert_int_equal(cJSON_GetArraySize(labels_of(p)), 3);
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "metadata"),
	                                                   "resourceVersion");
	assert_string_equal(rv->valuestring, "42");
	cJSON_Delete(p);
}

static void test_unchanged(void **state)
{
	int set = -1, removed = -1;
	cJSON *p = patch_of("{\"amd.com/gpu.mode\":\"vf-passthrough\",\"beta.amd.com/gpu.mode\":\"vf-passthrough\","
	                    "\"amd.com/gpu.device-id\":\"74b5\",\"amd.com/foo\":\"bar\",\"amd.com/gpu.family\":\"AI\","
	                    "\"kubernetes.io/hostname\":\"n1\"}", "1", &set, &removed);
	assert_null(p);
	assert_int_equal(set, 0);
	assert_int_equal(removed, 0);
}

static void test_changed_and_stale(void **state)
{
	int set, removed;
	cJSON *p = patch_of("{\"amd.com/gpu.mode\":\"pf-passthrough\",\"beta.amd.com/gpu.mode\":\"vf-passthrough\","
	                    "\"amd.com/gpu.device-id\":\"74b5\",\"beta.amd.com/gpu.device-id.74a1\":\"8\","
	                    "\"amd.com/gpu.driver-version\":\"8.0\",\"amd.com/foo\":\"bar\"}", NULL, &set, &removed);
	assert_non_null(p);
	const cJSON *l = labels_of(p);
	assert_int_equal(set, 1);
	assert_int_equal(removed, 2);
	assert_int_equal(cJSON_GetArraySize(l), 3);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(l, "amd.com/gpu.mode")->valuestring, "vf-passthrough");
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l, "beta.amd.com/gpu.device-id.74a1")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l, "amd.com/gpu.driver-version")));
	assert_null(cJSON_GetObjectItemCaseSensitive(l, "amd.com/foo"));
	assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "metadata"),
	                                             "resourceVersion"));
	cJSON_Delete(p);
}

/* Everything the labeller produces must be a key it owns, or a label it
 * sets could never be removed again. */
static void test_produced_keys_are_owned(void **state)
{
	static char name[] = "dc", ns[] = "gpu";
	struct av_config cfg = { .name = name, .namespace_ = ns, .present = true, .driver_enable = true };
	struct av_model m = { 0 };
	struct av_func funcs[3];
	memset(funcs, 0, sizeof(funcs));
	for (int i = 0; i < 3; i++) {
		snprintf(funcs[i].bdf, sizeof(funcs[i].bdf), "0000:0%d:00.0", i + 1);
		funcs[i].role = AV_ROLE_PF;
		funcs[i].selected = true;
		funcs[i].device = i ? 0x74a1 : 0x740f;
		snprintf(funcs[i].driver, sizeof(funcs[i].driver), "amdgpu");
	}
	m.funcs = funcs;
	m.n_funcs = 3;
	m.config = &cfg;
	static char product[] = "AMD Instinct MI300X";
	static char version[] = "6.8.0";
	struct av_gpu_facts g[3] = {
		{ .bdf = "0000:01:00.0", .product_name = product, .vram_bytes = 1LL << 36, .simd_count = 8, .simd_per_cu = 4 },
		{ .bdf = "0000:02:00.0", .product_name = product, .vram_bytes = 1LL << 37, .simd_count = 16, .simd_per_cu = 4 },
		{ .bdf = "0000:03:00.0", .product_name = version, .vram_bytes = 1LL << 37, .simd_count = 16, .simd_per_cu = 4 },
	};
	struct av_label_facts facts = { .amdgpu_version = version, .gpus = g, .n_gpus = 3 };
	enum av_mode modes[] = { AV_MODE_CONTAINER, AV_MODE_VF, AV_MODE_PF };
	for (size_t k = 0; k < 3; k++) {
		struct av_labels l;
		m.mode = modes[k];
		for (int i = 0; i < 3; i++)
			funcs[i].role = modes[k] == AV_MODE_VF ? AV_ROLE_VF : AV_ROLE_PF;
		assert_int_equal(av_labels_compute(&m, &facts, &l), 0);
		assert_true(l.n > 4);
		for (int i = 0; i < l.n; i++)
			if (!av_label_owned(l.items[i].key, &cfg))
				fail_msg("%s is produced but not owned", l.items[i].key);
		av_labels_clear(&l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_node),
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_changed_and_stale),
		cmocka_unit_test(test_produced_keys_are_owned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
