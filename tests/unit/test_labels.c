/* The label set per mode (contract section 5), from hand-built models. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels/labels.h"

/* Functions must be added in BDF order (the model is sorted by BDF). */
static int add_func(struct av_model *m, const char *bdf, uint16_t device, enum av_role role,
                    const char *driver, bool selected)
{
	m->funcs = realloc(m->funcs, (size_t)(m->n_funcs + 1) * sizeof(*m->funcs));
	assert_non_null(m->funcs);
	struct av_func *f = &m->funcs[m->n_funcs];
	memset(f, 0, sizeof(*f));
	snprintf(f->bdf, sizeof(f->bdf), "%s", bdf);
	f->vendor = 0x1002;
	f->device = device;
	f->role = role;
	snprintf(f->driver, sizeof(f->driver), "%s", driver);
	f->selected = selected;
	f->iommu_group = m->n_funcs;
	f->numa_node = -1;
	f->parent = f->physfn = f->hive = -1;
	if (role == AV_ROLE_PF) {
		m->gpus = realloc(m->gpus, (size_t)(m->n_gpus + 1) * sizeof(*m->gpus));
		assert_non_null(m->gpus);
		m->gpus[m->n_gpus++] = m->n_funcs;
	}
	return m->n_funcs++;
}

static void model_clear(struct av_model *m)
{
	free(m->funcs);
	free(m->gpus);
	memset(m, 0, sizeof(*m));
}

/* One PF 74a1 on gim with n VFs 74b5 on vfio-pci. */
static void vf_host(struct av_model *m, int n)
{
	memset(m, 0, sizeof(*m));
	m->mode = AV_MODE_VF;
	add_func(m, "0000:85:00.0", 0x74a1, AV_ROLE_PF, "gim", false);
	for (int i = 0; i < n; i++) {
		char bdf[AV_BDF_LEN];
		snprintf(bdf, sizeof(bdf), "0000:85:%02x.%x", (unsigned)(2 + i / 8) & 0x1f, (unsigned)i % 8);
		add_func(m, bdf, 0x74b5, AV_ROLE_VF, "vfio-pci", true);
	}
}

/* expected: NULL-terminated key, value pairs in key order. */
static void expect_labels(const struct av_labels *l, const char *const *expected)
{
	int n = 0;
	for (; expected[2 * n]; n++) {
		if (n >= l->n)
			fail_msg("missing label %s=%s", expected[2 * n], expected[2 * n + 1]);
		assert_string_equal(l->items[n].key, expected[2 * n]);
		assert_string_equal(l->items[n].value, expected[2 * n + 1]);
	}
	if (l->n != n)
		fail_msg("unexpected label %s=%s", l->items[n].key, l->items[n].value);
}

static void test_none(void **state)
{
	struct av_model m = { 0 };
	struct av_labels l;
	add_func(&m, "0000:03:00.0", 0x74a1, AV_ROLE_PF, "", true);
	m.mode = AV_MODE_NONE;
	assert_int_equal(av_labels_compute(&m, NULL, &l), 0);
	assert_int_equal(l.n, 0);
	av_labels_clear(&l);
	model_clear(&m);
}

static void test_vf(void **state)
{
	struct av_model m;
	static char gim[] = "8.1.0.K+dirty", amdgpu[] = "6.8.5";
	struct av_label_facts facts = { .gim_version = gim, .amdgpu_version = amdgpu };
	struct av_labels l;
	vf_host(&m, 8);
	assert_int_equal(av_labels_compute(&m, &facts, &l), 0);
	static const char *const want[] = {
		"amd.com/gpu.device-id", "74b5",
		"amd.com/gpu.driver-version", "8.1.0.K",
		"amd.com/gpu.mode", "vf-passthrough",
		"beta.amd.com/gpu.device-id", "74b5",
		"beta.amd.com/gpu.device-id.74b5", "8",
		"beta.amd.com/gpu.mode", "vf-passthrough",
		NULL,
	};
	expect_labels(&l, want);
	assert_int_equal(l.n_notes, 0);
	av_labels_clear(&l);
	model_clear(&m);
}

static void test_vf_no_gim_version(void **state)
{
	struct av_model m;
	struct av_labels l;
	vf_host(&m, 1);
	assert_int_equal(av_labels_compute(&m, NULL, &l), 0);
	assert_null(av_labels_get(&l, "amd.com/gpu.driver-version"));
	assert_string_equal(av_labels_get(&l, "beta.amd.com/gpu.device-id.74b5"), "1");
	av_labels_clear(&l);
	model_clear(&m);
}

static void test_pf_several_ids(void **state)
{
	struct av_model m = { 0 };
	static char gim[] = "8.1.0.K";
	struct av_label_facts facts = { .gim_version = gim };
	struct av_labels l;
	m.mode = AV_MODE_PF;
	add_func(&m, "0000:05:00.0", 0x740f, AV_ROLE_PF, "vfio-pci", true);
	add_func(&m, "0000:06:00.0", 0x740f, AV_ROLE_PF, "vfio-pci", true);
	add_func(&m, "0000:85:00.0", 0x74a1, AV_ROLE_PF, "vfio-pci", true);
	/* a display adapter the selection leaves out */
	add_func(&m, "0000:c1:00.0", 0x7480, AV_ROLE_PF, "amdgpu", false);
	assert_int_equal(av_labels_compute(&m, &facts, &l), 0);
	static const char *const want[] = {
		"amd.com/gpu.device-id.740f", "2",
		"amd.com/gpu.device-id.74a1", "1",
		"amd.com/gpu.mode", "pf-passthrough",
		"beta.amd.com/gpu.device-id.740f", "2",
		"beta.amd.com/gpu.device-id.74a1", "1",
		"beta.amd.com/gpu.mode", "pf-passthrough",
		NULL,
	};
	expect_labels(&l, want);
	av_labels_clear(&l);
	model_clear(&m);
}

static void test_pf_single(void **state)
{
	struct av_model m = { 0 };
	struct av_labels l;
	m.mode = AV_MODE_PF;
	add_func(&m, "0000:05:00.0", 0x74a1, AV_ROLE_PF, "vfio-pci", true);
	add_func(&m, "0000:06:00.0", 0x74a1, AV_ROLE_PF, "", true);
	assert_int_equal(av_labels_compute(&m, NULL, &l), 0);
	static const char *const want[] = {
		"amd.com/gpu.device-id", "74a1",
		"amd.com/gpu.mode", "pf-passthrough",
		"beta.amd.com/gpu.device-id", "74a1",
		"beta.amd.com/gpu.device-id.74a1", "2",
		"beta.amd.com/gpu.mode", "pf-passthrough",
		NULL,
	};
	expect_labels(&l, want);
	av_labels_clear(&l);
	model_clear(&m);
}

static struct av_gpu_facts gpu_fact(const char *bdf, const char *product, long long vram,
                                    long simd, long per_cu)
{
	struct av_gpu_facts g = { .product_name = (char *)product, .vram_bytes = vram,
	                          .simd_count = simd, .simd_per_cu = per_cu };
	snprintf(g.bdf, sizeof(g.bdf), "%s", bdf);
	return g;
}

static void test_container(void **state)
{
	struct av_model m = { 0 };
	struct av_labels l;
	m.mode = AV_MODE_CONTAINER;
	add_func(&m, "0000:05:00.0", 0x74a1, AV_ROLE_PF, "amdgpu", true);
	add_func(&m, "0000:06:00.0", 0x74a1, AV_ROLE_PF, "amdgpu", true);
	struct av_gpu_facts gpus[] = {
		gpu_fact("0000:05:00.0", "AMD Instinct MI300X (OAM)", 206158430208LL, 1216, 4),
		gpu_fact("0000:06:00.0", "AMD Instinct MI300X (OAM)", 206158430208LL - 4096, 1216, 4),
	};
	static char gim[] = "8.1.0.K", amdgpu[] = "6.10.5+x";
	struct av_label_facts facts = { .gim_version = gim, .amdgpu_version = amdgpu,
	                                .gpus = gpus, .n_gpus = 2 };
	assert_int_equal(av_labels_compute(&m, &facts, &l), 0);
	static const char *const want[] = {
		"amd.com/gpu.cu-count", "304",
		"amd.com/gpu.device-id", "74a1",
		"amd.com/gpu.driver-version", "6.10.5",
		"amd.com/gpu.mode", "container",
		"amd.com/gpu.product-name", "AMD_Instinct_MI300X_OAM",
		"amd.com/gpu.simd-count", "1216",
		"amd.com/gpu.vram", "192G",
		"beta.amd.com/gpu.device-id", "74a1",
		"beta.amd.com/gpu.device-id.74a1", "2",
		"beta.amd.com/gpu.mode", "container",
		NULL,
	};
	expect_labels(&l, want);
	av_labels_clear(&l);
	model_clear(&m);
}

static void test_container_without_facts(void **state)
{
	struct av_model m = { 0 };
	struct av_labels l;
	m.mode = AV_MODE_CONTAINER;
	add_func(&m, "0000:05:00.0", 0x74a1, AV_ROLE_PF, "amdgpu", true);
	struct av_gpu_facts gpus[] = { gpu_fact("0000:05:00.0", NULL, -1, -1, -1) };
	struct av_label_facts facts = { .gpus = gpus, .n_gpus = 1 };
	assert_int_equal(av_labels_compute(&m, &facts, &l), 0);
	static const char *const want[] = {
		"amd.com/gpu.device-id", "74a1",
		"amd.com/gpu.mode", "container",
		"beta.amd.com/gpu.device-id", "74a1",
		"beta.amd.com/gpu.device-id.74a1", "1",
		"beta.amd.com/gpu.mode", "container",
		NULL,
	};
	expect_labels(&l, want);
	av_labels_clear(&l);
	model_clear(&m);
}

/* Partitions of different sizes: per-value counters, as for device IDs. */
static void test_container_mixed_values(void **state)
{
	struct av_model m = { 0 };
	struct av_labels l;
	m.mode = AV_MODE_CONTAINER;
	add_func(&m, "0000:05:00.0", 0x74a1, AV_ROLE_PF, "amdgpu", true);
	add_func(&m, "0000:06:00.0", 0x74a1, AV_ROLE_PF, "amdgpu", true);
	struct av_gpu_facts gpus[] = {
		gpu_fact("0000:05:00.0", NULL, 1LL << 37, 304, 4),
		gpu_fact("0000:06:00.0", NULL, 1LL << 36, 304, 4),
	};
	struct av_label_facts facts = { .gpus = gpus, .n_gpus = 2 };
	assert_int_equal(av_labels_compute(&m, &facts, &l), 0);
	assert_string_equal(av_labels_get(&l, "amd.com/gpu.vram.128G"), "1");
	assert_string_equal(av_labels_get(&l, "amd.com/gpu.vram.64G"), "1");
	assert_null(av_labels_get(&l, "amd.com/gpu.vram"));
	assert_string_equal(av_labels_get(&l, "amd.com/gpu.cu-count"), "76");
	av_labels_clear(&l);
	model_clear(&m);
}

static struct av_config vf_config(void)
{
	static char name[] = "test-deviceconfig", ns[] = "kube-amd-gpu", type[] = "vf-passthrough";
	struct av_config c = { .name = name, .namespace_ = ns, .present = true,
	                       .driver_enable = true, .driver_enable_set = true, .driver_type = type };
	return c;
}

static void test_deviceconfig_ready(void **state)
{
	struct av_model m;
	struct av_config c = vf_config();
	struct av_labels l;
	vf_host(&m, 2);
	m.config = &c;
	assert_int_equal(av_labels_compute(&m, NULL, &l), 0);
	assert_string_equal(av_labels_get(&l, "gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.driver"),
	                    "vf-passthrough");
	assert_string_equal(av_labels_get(&l, "gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.vfio.ready"),
	                    "");
	assert_int_equal(l.n, 7);
	av_labels_clear(&l);
	model_clear(&m);
}

static void test_deviceconfig_not_ready(void **state)
{
	struct av_model m;
	struct av_config c = vf_config();
	struct av_labels l;
	vf_host(&m, 2);
	m.config = &c;
	m.funcs[2].driver[0] = '\0';
	assert_int_equal(av_labels_compute(&m, NULL, &l), 0);
	assert_non_null(av_labels_get(&l, "gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.driver"));
	assert_null(av_labels_get(&l, "gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.vfio.ready"));
	av_labels_clear(&l);
	model_clear(&m);
}

static void test_deviceconfig_disabled_or_unnamed(void **state)
{
	struct av_model m;
	struct av_config c = vf_config();
	struct av_labels l;
	vf_host(&m, 1);
	m.config = &c;
	c.driver_enable = false;
	assert_int_equal(av_labels_compute(&m, NULL, &l), 0);
	assert_int_equal(l.n, 5);
	av_labels_clear(&l);

	c.driver_enable = true;
	c.driver_type = NULL;
	c.namespace_ = NULL;
	assert_int_equal(av_labels_compute(&m, NULL, &l), 0);
	assert_string_equal(av_labels_get(&l, "gpu.operator.amd.com/default.test-deviceconfig.driver"),
	                    "vf-passthrough");
	av_labels_clear(&l);

	c.name = NULL;
	assert_int_equal(av_labels_compute(&m, NULL, &l), 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.n_notes, 1);
	av_labels_clear(&l);
	model_clear(&m);
}

/* A name that would make the key too long is left out, not sent. */
static void test_invalid_key_left_out(void **state)
{
	struct av_model m;
	struct av_config c = vf_config();
	struct av_labels l;
	vf_host(&m, 1);
	static char name[] = "a-very-long-deviceconfig-name-that-does-not-fit-into-a-label-key";
	c.name = name;
	m.config = &c;
	assert_int_equal(av_labels_compute(&m, NULL, &l), 0);
	assert_int_equal(l.n, 5);
	assert_true(l.n_notes >= 1);
	av_labels_clear(&l);
	model_clear(&m);
}

static void test_owned(void **state)
{
	struct av_config c = vf_config();
	static const char *const mine[] = {
		"amd.com/gpu.mode", "beta.amd.com/gpu.mode", "amd.com/gpu.device-id",
		"amd.com/gpu.device-id.74b5", "beta.amd.com/gpu.device-id",
		"beta.amd.com/gpu.device-id.74b5", "amd.com/gpu.driver-version",
		"amd.com/gpu.product-name", "amd.com/gpu.vram", "amd.com/gpu.vram.192G",
		"amd.com/gpu.cu-count", "amd.com/gpu.cu-count.304", "amd.com/gpu.simd-count.1216",
		"gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.driver",
		"gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.vfio.ready",
	};
	static const char *const theirs[] = {
		"amd.com/foo", "amd.com/gpu.family", "amd.com/gpu.device-id.0x74b5",
		"amd.com/gpu.device-idx", "beta.amd.com/gpu.vram", "beta.amd.com/gpu.family.AI",
		"amd.com/gpu.vram.big", "amd.com/gpu.modes", "kubernetes.io/hostname",
		"gpu.operator.amd.com/other.dc.driver",
		"gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.other",
		"amd.com/gpu_vf",
	};
	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		if (!av_label_owned(mine[i], &c))
			fail_msg("%s should be owned", mine[i]);
	for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++)
		if (av_label_owned(theirs[i], &c))
			fail_msg("%s should not be owned", theirs[i]);
	assert_false(av_label_owned("gpu.operator.amd.com/kube-amd-gpu.test-deviceconfig.driver", NULL));
}

static void test_value_clean(void **state)
{
	char buf[80];
	assert_string_equal(av_label_value_clean("8.1.0.K+abc", true, buf, sizeof(buf)), "8.1.0.K");
	assert_string_equal(av_label_value_clean("a+b", false, buf, sizeof(buf)), "ab");
	assert_string_equal(av_label_value_clean(" AMD Instinct MI300X (OAM) ", false, buf, sizeof(buf)),
	                    "AMD_Instinct_MI300X_OAM");
	assert_string_equal(av_label_value_clean("+", true, buf, sizeof(buf)), "");
	assert_string_equal(av_label_value_clean("--", false, buf, sizeof(buf)), "");
	char longer[100];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(strlen(av_label_value_clean(longer, false, buf, sizeof(buf))), 63);
	assert_true(av_label_value_valid(buf));
}

static void test_key_valid(void **state)
{
	assert_true(av_label_key_valid("amd.com/gpu.device-id.74b5"));
	assert_true(av_label_key_valid("plain"));
	assert_false(av_label_key_valid("Amd.com/gpu"));
	assert_false(av_label_key_valid("amd..com/gpu"));
	assert_false(av_label_key_valid("amd.com/"));
	assert_false(av_label_key_valid("amd.com/-x"));
	assert_false(av_label_key_valid("amd.com/a b"));
	assert_true(av_label_value_valid(""));
	assert_false(av_label_value_valid("a+b"));
	assert_false(av_label_value_valid("_a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_vf),
		cmocka_unit_test(test_vf_no_gim_version),
		cmocka_unit_test(test_pf_several_ids),
		cmocka_unit_test(test_pf_single),
		cmocka_unit_test(test_container),
		cmocka_unit_test(test_container_without_facts),
		cmocka_unit_test(test_container_mixed_values),
		cmocka_unit_test(test_deviceconfig_ready),
		cmocka_unit_test(test_deviceconfig_not_ready),
		cmocka_unit_test(test_deviceconfig_disabled_or_unnamed),
		cmocka_unit_test(test_invalid_key_left_out),
		cmocka_unit_test(test_owned),
		cmocka_unit_test(test_value_clean),
		cmocka_unit_test(test_key_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
