/* The DRA driver's pure parts: the names it makes and checks, and the
 * ResourceSlice devices built from a hand-built model, judged against the
 * API server's rules for resource.k8s.io/v1 (names, value lengths, the
 * attribute and device limits). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dra/names.h"
#include "dra/slice.h"
#include "model_fixture.h"

static void test_names(void **state)
{
	(void)state;
	assert_true(av_dra_dns_label_ok("vf-0000-c1-02-0"));
	assert_false(av_dra_dns_label_ok("vf-0000:c1:02.0"));
	assert_false(av_dra_dns_label_ok("-a"));
	assert_false(av_dra_dns_label_ok(""));
	assert_true(av_dra_dns_subdomain_ok(AV_DRA_DRIVER));
	assert_true(av_dra_attr_name_ok("hive"));
	assert_true(av_dra_attr_name_ok("resource.kubernetes.io/pciBusID"));
	assert_true(av_dra_attr_name_ok(AV_DRA_DRIVER "/xgmiHiveID"));
	assert_false(av_dra_attr_name_ok("pci-bus"));
	assert_false(av_dra_attr_name_ok("1abc"));
	assert_false(av_dra_attr_name_ok("a23456789012345678901234567890123"));   /* 33 */
	assert_false(av_dra_attr_name_ok("Resource.io/x"));
	assert_false(av_dra_attr_name_ok("/x"));
}

static void test_semver(void **state)
{
	char out[80];
	(void)state;
	assert_true(av_dra_semver_ok("1.2.3"));
	assert_true(av_dra_semver_ok("1.2.3-rc.1+build.5"));
	assert_false(av_dra_semver_ok("1.2"));
	assert_false(av_dra_semver_ok("01.2.3"));
	assert_false(av_dra_semver_ok("1.2.3-01"));
	assert_true(av_dra_semver_from("8.1.0.K", out, sizeof(out)));
	assert_string_equal(out, "8.1.0+K");
	assert_true(av_dra_semver_from("6.12.0", out, sizeof(out)));
	assert_string_equal(out, "6.12.0");
	assert_true(av_dra_semver_from("6.4.0-rc1 (ubuntu)", out, sizeof(out)));
	assert_string_equal(out, "6.4.0+rc1.ubuntu");
	assert_false(av_dra_semver_from("8.1", out, sizeof(out)));
	assert_false(av_dra_semver_from("K.1.0", out, sizeof(out)));
}

static void test_device_names(void **state)
{
	char name[64], bdf[13];
	(void)state;
	av_dra_device_name("vf", "0000:C1:02.0", name, sizeof(name));
	assert_string_equal(name, "vf-0000-c1-02-0");
	assert_true(av_dra_dns_label_ok(name));
	assert_true(av_dra_bdf_from_name(name, bdf));
	assert_string_equal(bdf, "0000:c1:02.0");
	assert_false(av_dra_bdf_from_name("gpu-0", bdf));
	assert_false(av_dra_bdf_from_name("vf-0000-c1-02-x", bdf));
	assert_false(av_dra_bdf_from_name("vf-0000-c1-02.0", bdf));
}

/* n MI210 PFs on gim, each with one VF on vfio-pci in its own group;
 * hives of hive_size (0: none); VFs of group 100+i. */
static void build(struct av_model *m, struct av_resources *r, int n, int hive_size)
{
	int *nodes = calloc((size_t)n, sizeof(int));
	char bdf[16];
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < n; i++) {
		snprintf(bdf, sizeof(bdf), "%04x:%02x:00.0", i / 200, (i % 200) + 1);
		int pf = fx_add(m, bdf, AV_VENDOR_AMD, 0x740f, 0x038000, "gim", -1, -1);
		snprintf(bdf, sizeof(bdf), "%04x:%02x:02.0", i / 200, (i % 200) + 1);
		int vf = fx_add(m, bdf, AV_VENDOR_AMD, 0x7410, 0x038000, "vfio-pci", 100 + i, i < n / 2 ? 0 : 1);
		fx_vf(m, pf, vf);
		m->funcs[vf].selected = true;
		m->funcs[vf].sysfs_dir = av_strdup_printf("/sys/devices/pci%04x:%02x/0000:00:01.1/%s",
		                                          i / 200, 0, bdf);
		nodes[i] = 100 + i;
	}
	fx_groups(m, nodes, n);
	free(nodes);
	if (hive_size > 0) {
		m->n_hives = n / hive_size;
		m->hives = calloc((size_t)m->n_hives, sizeof(*m->hives));
		for (int h = 0; h < m->n_hives; h++) {
			snprintf(m->hives[h].id, sizeof(m->hives[h].id), "h%d", h);
			m->hives[h].xgmi_id = av_strdup_printf("%d", 1000 + h);
		}
		for (int i = 0; i < m->n_funcs; i++)
			m->funcs[i].hive = (i / 2) / hive_size;
	}
	m->mode = AV_MODE_VF;
	assert_int_equal(av_resources_compute(m, AV_NAMING_SINGLE, r), 0);
}

/* Every rule of the API server's validation this slice can meet. */
static void assert_valid_devices(const cJSON *devs)
{
	const cJSON *d;
	assert_true(cJSON_IsArray(devs));
	assert_true(cJSON_GetArraySize(devs) <= AV_DRA_MAX_DEVICES);
	cJSON_ArrayForEach(d, devs) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(d, "name");
		const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(d, "attributes"), *a;
		assert_true(cJSON_IsString(name));
		assert_true(av_dra_dns_label_ok(name->valuestring));
		assert_true(cJSON_GetArraySize(attrs) <= AV_DRA_MAX_ATTRS);
		cJSON_ArrayForEach(a, attrs) {
			assert_true(av_dra_attr_name_ok(a->string));
			/* Exactly one of the value kinds. */
			assert_int_equal(cJSON_GetArraySize(a), 1);
			const cJSON *v = a->child;
			if (strcmp(v->string, "string") == 0) {
				assert_true(cJSON_IsString(v) && strlen(v->valuestring) <= AV_DRA_MAX_STRING);
			} else if (strcmp(v->string, "version") == 0) {
				assert_true(cJSON_IsString(v) && av_dra_semver_ok(v->valuestring));
			} else if (strcmp(v->string, "int") == 0) {
				assert_true(cJSON_IsNumber(v));
			} else {
				assert_string_equal(v->string, "bool");
				assert_true(cJSON_IsBool(v));
			}
		}
	}
}

static const cJSON *attr(const cJSON *dev, const char *name, const char *kind)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(dev, "attributes"), name);
	return cJSON_GetObjectItemCaseSensitive(a, kind);
}

static void test_slice_devices(void **state)
{
	struct av_model m;
	struct av_resources r;
	struct av_dra_facts facts = { .gim_version = "8.1.0.K" };
	int left = -1;
	(void)state;
	build(&m, &r, 8, 4);
	cJSON *devs = av_dra_slice_devices(&m, &r, &facts, &left);
	assert_non_null(devs);
	assert_int_equal(left, 0);
	assert_int_equal(cJSON_GetArraySize(devs), 8);
	assert_valid_devices(devs);
	const cJSON *d = cJSON_GetArrayItem(devs, 5);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring, "vf-0000-06-02-0");
	assert_string_equal(attr(d, "type", "string")->valuestring, "vfio");
	assert_string_equal(attr(d, "resource.kubernetes.io/pciBusID", "string")->valuestring, "0000:06:02.0");
	assert_string_equal(attr(d, "pciAddr", "string")->valuestring, "0000:06:02.0");
	assert_string_equal(attr(d, "resource.kubernetes.io/pcieRoot", "string")->valuestring, "pci0000:00");
	assert_string_equal(attr(d, "vendorID", "string")->valuestring, "0x1002");
	assert_string_equal(attr(d, "deviceID", "string")->valuestring, "0x7410");
	assert_string_equal(attr(d, "productName", "string")->valuestring, "AMD Instinct MI210 VF");
	assert_string_equal(attr(d, "iommuGroup", "string")->valuestring, "105");
	assert_int_equal(attr(d, "numaNode", "int")->valueint, 1);
	assert_true(cJSON_IsTrue(attr(d, "isVF", "bool")));
	assert_string_equal(attr(d, "parentPF", "string")->valuestring, "0000:06:00.0");
	assert_string_equal(attr(d, "hive", "string")->valuestring, "h1");
	assert_string_equal(attr(d, "xgmiHiveID", "string")->valuestring, "1001");
	assert_string_equal(attr(d, "mode", "string")->valuestring, "vf-passthrough");
	assert_string_equal(attr(d, "driverVersion", "version")->valuestring, "8.1.0+K");
	cJSON_Delete(devs);

	/* An unhealthy device leaves the slice; the metadata copy of the
	 * attributes is fully qualified. */
	r.devices[2].healthy = false;
	devs = av_dra_slice_devices(&m, &r, &facts, &left);
	assert_int_equal(cJSON_GetArraySize(devs), 7);
	assert_int_equal(av_dra_slice_find(&m, &r, "vf-0000-03-02-0"), -1);
	assert_int_equal(av_dra_slice_find(&m, &r, "vf-0000-04-02-0"), 3);
	cJSON_Delete(devs);
	cJSON *q = av_dra_slice_attributes(&m, &r, 0, NULL, true);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(q, AV_DRA_DRIVER "/hive"));
	assert_non_null(cJSON_GetObjectItemCaseSensitive(q, "resource.kubernetes.io/pciBusID"));
	assert_null(cJSON_GetObjectItemCaseSensitive(q, AV_DRA_DRIVER "/driverVersion"));
	cJSON_Delete(q);
	av_resources_clear(&r);
	av_model_free(&m);
}

/* More devices than one slice holds: the first 128, and a count. */
static void test_slice_limit(void **state)
{
	struct av_model m;
	struct av_resources r;
	int left = 0;
	(void)state;
	build(&m, &r, 130, 0);
	cJSON *devs = av_dra_slice_devices(&m, &r, NULL, &left);
	assert_int_equal(cJSON_GetArraySize(devs), AV_DRA_MAX_DEVICES);
	assert_int_equal(left, 2);
	assert_valid_devices(devs);
	cJSON *obj = av_dra_slice_object("node-1", "uid-1", NULL, NULL, 3, devs);
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	const cJSON *pool = cJSON_GetObjectItemCaseSensitive(spec, "pool");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(spec, "driver")->valuestring, AV_DRA_DRIVER);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(spec, "nodeName")->valuestring, "node-1");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(pool, "name")->valuestring, "node-1");
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(pool, "generation")->valueint, 3);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(pool, "resourceSliceCount")->valueint, 1);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const char *gen = cJSON_GetObjectItemCaseSensitive(meta, "generateName")->valuestring;
	assert_string_equal(gen, "node-1-" AV_DRA_DRIVER "-");
	/* generateName plus the server's 5 characters is a DNS subdomain. */
	char full[300];
	snprintf(full, sizeof(full), "%sabcde", gen);
	assert_true(av_dra_dns_subdomain_ok(full));
	cJSON_Delete(obj);
	av_resources_clear(&r);
	av_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_semver),
		cmocka_unit_test(test_device_names),
		cmocka_unit_test(test_slice_devices),
		cmocka_unit_test(test_slice_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
