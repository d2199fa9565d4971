/* The device plugin's allocation policy on hand-built device lists: the
 * hive rule, Allocate validation, GetPreferredAllocation and the grants. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/model.h"
#include "plugin/alloc.h"
#include "host/resources.h"

/* n devices, one function each (VF "0000:XX:02.0" of group 100+i), NUMA
 * node i / per_node, hive i / hive_size (-1: no hives). */
struct fixture {
	struct av_model m;
	struct av_resources r;
};

static void build(struct fixture *fx, int n, int hive_size, int per_node)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->r.resource, sizeof(fx->r.resource), "amd.com/gpu");
	fx->m.funcs = calloc((size_t)n, sizeof(*fx->m.funcs));
	fx->m.n_funcs = n;
	fx->r.devices = calloc((size_t)n, sizeof(*fx->r.devices));
	fx->r.n_devices = n;
	if (hive_size > 0) {
		fx->m.n_hives = n / hive_size;
		fx->m.hives = calloc((size_t)fx->m.n_hives, sizeof(*fx->m.hives));
		for (int h = 0; h < fx->m.n_hives; h++)
			snprintf(fx->m.hives[h].id, sizeof(fx->m.hives[h].id), "h%d", h);
	}
	for (int i = 0; i < n; i++) {
		struct av_func *f = &fx->m.funcs[i];
		struct av_plugin_device *d = &fx->r.devices[i];

		snprintf(f->bdf, sizeof(f->bdf), "0000:%02x:02.0", (0x10 + i) & 0xff);
		snprintf(f->driver, sizeof(f->driver), "vfio-pci");
		f->iommu_group = 100 + i;
		f->numa_node = per_node > 0 ? i / per_node : -1;
		f->hive = hive_size > 0 ? i / hive_size : -1;
		snprintf(d->id, sizeof(d->id), "%d", 100 + i);
		d->group = 100 + i;
		d->funcs = malloc(sizeof(int));
		d->funcs[0] = i;
		d->n_funcs = 1;
		d->numa_node = f->numa_node;
		d->hive = f->hive;
		d->healthy = true;
	}
	fx->r.n_healthy = n;
}

static void destroy(struct fixture *fx)
{
	for (int i = 0; i < fx->r.n_devices; i++)
		free(fx->r.devices[i].funcs);
	free(fx->r.devices);
	free(fx->m.funcs);
	free(fx->m.hives);
}

static bool ok_set(struct fixture *fx, int n, ...)
{
	int devs[16];
	char why[512];
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		devs[i] = va_arg(ap, int);
	va_end(ap);
	return av_alloc_hive_ok(&fx->r, &fx->m, devs, n, why, sizeof(why));
}

static void test_hive_rule(void **state)
{
	struct fixture fx;

	build(&fx, 8, 4, 4);
	assert_true(ok_set(&fx, 1, 0));
	assert_true(ok_set(&fx, 2, 1, 3));
	assert_true(ok_set(&fx, 4, 0, 1, 2, 3));
	assert_true(ok_set(&fx, 4, 7, 6, 5, 4));
	assert_true(ok_set(&fx, 8, 0, 1, 2, 3, 4, 5, 6, 7));
	assert_false(ok_set(&fx, 2, 0, 4));
	assert_false(ok_set(&fx, 3, 0, 1, 2));
	assert_false(ok_set(&fx, 5, 0, 1, 2, 3, 4));
	assert_false(ok_set(&fx, 4, 0, 1, 4, 5));
	destroy(&fx);
}

static void test_hive_message(void **state)
{
	struct fixture fx;
	int devs[] = { 0, 4 };
	char why[512];

	build(&fx, 8, 4, 4);
	assert_false(av_alloc_hive_ok(&fx.r, &fx.m, devs, 2, why, sizeof(why)));
	assert_non_null(strstr(why, "hive rule"));
	assert_non_null(strstr(why, "1, 2 or 4"));
	assert_non_null(strstr(why, "1 of h0 (100 101 102 103)"));
	assert_non_null(strstr(why, "1 of h1 (104 105 106 107)"));
	/* A tiny buffer is still terminated. */
	assert_false(av_alloc_hive_ok(&fx.r, &fx.m, devs, 2, why, 8));
	assert_int_equal(strlen(why), 7);
	destroy(&fx);
}

static void test_no_hives_unconstrained(void **state)
{
	struct fixture fx;

	build(&fx, 8, 0, 4);
	assert_true(ok_set(&fx, 3, 0, 4, 7));
	assert_true(ok_set(&fx, 5, 0, 1, 2, 3, 4));
	destroy(&fx);
}

static void test_check(void **state)
{
	struct fixture fx;
	int devs[4];
	char why[512];
	const char *unknown[] = { "100", "42" };
	const char *twice[] = { "101", "101" };
	const char *sick[] = { "102" };
	const char *good[] = { "103", "102" };

	build(&fx, 8, 4, 4);
	assert_int_equal(av_alloc_check(&fx.r, &fx.m, unknown, 2, devs, why, sizeof(why)), 5);
	assert_non_null(strstr(why, "\"42\""));
	assert_int_equal(av_alloc_check(&fx.r, &fx.m, twice, 2, devs, why, sizeof(why)), 3);
	assert_int_equal(av_alloc_check(&fx.r, &fx.m, good, 0, devs, why, sizeof(why)), 3);
	fx.r.devices[2].healthy = false;
	assert_int_equal(av_alloc_check(&fx.r, &fx.m, sick, 1, devs, why, sizeof(why)), 9);
	assert_non_null(strstr(why, "unhealthy"));
	fx.r.devices[2].healthy = true;
	assert_int_equal(av_alloc_check(&fx.r, &fx.m, good, 2, devs, why, sizeof(why)), 0);
	assert_int_equal(devs[0], 3);
	assert_int_equal(devs[1], 2);
	destroy(&fx);
}

static int prefer(struct fixture *fx, const int *avail, int n_avail, const int *must, int n_must,
                  int size, int *out)
{
	return av_alloc_prefer(&fx->r, avail, n_avail, must, n_must, size, out);
}

static bool one_hive(struct fixture *fx, const int *set, int n)
{
	for (int i = 1; i < n; i++)
		if (fx->r.devices[set[i]].hive != fx->r.devices[set[0]].hive)
			return false;
	return true;
}

static void test_prefer_hive_sizes(void **state)
{
	struct fixture fx;
	int all[16], out[16];

	build(&fx, 16, 4, 8);
	for (int i = 0; i < 16; i++)
		all[i] = i;
	for (int size = 1; size <= 4; size *= 2) {
		assert_int_equal(prefer(&fx, all, 16, NULL, 0, size, out), size);
		assert_true(one_hive(&fx, out, size));
	}
	/* 8: two whole hives, on one NUMA node when possible. */
	assert_int_equal(prefer(&fx, all, 16, NULL, 0, 8, out), 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(fx.r.devices[out[i]].numa_node, fx.r.devices[out[0]].numa_node);
	{
		char why[256];

		assert_true(av_alloc_hive_ok(&fx.r, &fx.m, out, 8, why, sizeof(why)));
	}
	/* 12: three whole hives. */
	assert_int_equal(prefer(&fx, all, 16, NULL, 0, 12, out), 12);
	{
		char why[256];

		assert_true(av_alloc_hive_ok(&fx.r, &fx.m, out, 12, why, sizeof(why)));
	}
	destroy(&fx);
}

static void test_prefer_best_fit(void **state)
{
	struct fixture fx;
	int avail[] = { 1, 2, 3, 4, 5, 6, 7 }, out[8];

	/* Hive 0 is partly used: a pair comes from it, hive 1 stays whole. */
	build(&fx, 8, 4, 0);
	assert_int_equal(prefer(&fx, avail, 7, NULL, 0, 2, out), 2);
	assert_int_equal(fx.r.devices[out[0]].hive, 0);
	assert_int_equal(fx.r.devices[out[1]].hive, 0);
	/* Four can only come from hive 1. */
	assert_int_equal(prefer(&fx, avail, 7, NULL, 0, 4, out), 4);
	assert_true(one_hive(&fx, out, 4));
	assert_int_equal(fx.r.devices[out[0]].hive, 1);
	destroy(&fx);
}

static void test_prefer_must_include(void **state)
{
	struct fixture fx;
	int all[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, must[] = { 6 }, must2[] = { 1, 5 }, out[8];

	build(&fx, 8, 4, 4);
	assert_int_equal(prefer(&fx, all, 8, must, 1, 2, out), 2);
	assert_int_equal(out[0], 6);
	assert_int_equal(fx.r.devices[out[1]].hive, 1);
	/* must spans two hives: whole hives are the only valid shape. */
	assert_int_equal(prefer(&fx, all, 8, must2, 2, 8, out), 8);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 5);
	/* More must than size: the first size of them. */
	assert_int_equal(prefer(&fx, all, 8, must2, 2, 1, out), 1);
	assert_int_equal(out[0], 1);
	destroy(&fx);
}

static void test_prefer_numa(void **state)
{
	struct fixture fx;
	int avail[] = { 0, 4, 5, 1, 6 }, must[] = { 5 }, out[8];

	/* No hives: nodes 0 (0..3) and 1 (4..7). */
	build(&fx, 8, 0, 4);
	assert_int_equal(prefer(&fx, avail, 5, NULL, 0, 2, out), 2);
	assert_int_equal(fx.r.devices[out[0]].numa_node, fx.r.devices[out[1]].numa_node);
	/* Node 0 has exactly two free: best fit keeps node 1's three. */
	assert_int_equal(fx.r.devices[out[0]].numa_node, 0);
	assert_int_equal(prefer(&fx, avail, 5, must, 1, 3, out), 3);
	assert_int_equal(out[0], 5);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx.r.devices[out[i]].numa_node, 1);
	/* Not enough on one node: fills from the rest in kubelet's order. */
	assert_int_equal(prefer(&fx, avail, 5, NULL, 0, 5, out), 5);
	/* Too few available. */
	assert_int_equal(prefer(&fx, avail, 5, NULL, 0, 9, out), 5);
	destroy(&fx);
}

static void test_grant_passthrough(void **state)
{
	struct fixture fx;
	struct av_alloc_grant g;
	int devs[] = { 3, 1 };

	build(&fx, 4, 0, 0);
	/* Device 1 holds two functions, the second with an iommufd node. */
	fx.r.devices[1].funcs = realloc(fx.r.devices[1].funcs, 2 * sizeof(int));
	fx.r.devices[1].funcs[1] = 2;
	fx.r.devices[1].n_funcs = 2;
	fx.m.funcs[2].vfio_cdev = strdup("/dev/vfio/devices/vfio7");
	fx.m.have_iommufd = true;
	assert_int_equal(av_alloc_grant(&fx.r, &fx.m, devs, 2, &g), 0);
	assert_string_equal(g.env_name, "PCI_RESOURCE_AMD_COM_GPU");
	assert_string_equal(g.env_value, "0000:13:02.0,0000:11:02.0,0000:12:02.0");
	assert_string_equal(g.permissions, "mrw");
	assert_int_equal(g.n_specs, 5);
	assert_string_equal(g.specs[0].path, "/dev/vfio/vfio");
	assert_string_equal(g.specs[1].path, "/dev/vfio/103");
	assert_string_equal(g.specs[2].path, "/dev/vfio/101");
	assert_string_equal(g.specs[3].path, "/dev/vfio/devices/vfio7");
	assert_string_equal(g.specs[4].path, "/dev/iommu");
	av_alloc_grant_clear(&g);
	free(fx.m.funcs[2].vfio_cdev);
	destroy(&fx);
}

static void test_grant_container(void **state)
{
	struct fixture fx;
	struct av_alloc_grant g;
	int devs[] = { 0, 1 };
	char n0[] = "/dev/dri/card0", n1[] = "/dev/dri/renderD128";
	char n2[] = "/dev/dri/card1", n3[] = "/dev/dri/renderD129";
	char *nodes0[] = { n0, n1 }, *nodes1[] = { n2, n3 };

	build(&fx, 2, 0, 0);
	for (int i = 0; i < 2; i++) {
		fx.r.devices[i].group = -1;
		snprintf(fx.r.devices[i].id, sizeof(fx.r.devices[i].id), "%s", fx.m.funcs[i].bdf);
	}
	fx.m.funcs[0].drm_nodes = nodes0;
	fx.m.funcs[0].n_drm_nodes = 2;
	fx.m.funcs[1].drm_nodes = nodes1;
	fx.m.funcs[1].n_drm_nodes = 2;
	assert_int_equal(av_alloc_grant(&fx.r, &fx.m, devs, 2, &g), 0);
	assert_string_equal(g.env_name, "");
	assert_null(g.env_value);
	assert_string_equal(g.permissions, "rw");
	assert_int_equal(g.n_specs, 5);
	assert_string_equal(g.specs[0].path, "/dev/kfd");
	assert_string_equal(g.specs[4].path, "/dev/dri/renderD129");
	av_alloc_grant_clear(&g);
	destroy(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hive_rule),
		cmocka_unit_test(test_hive_message),
		cmocka_unit_test(test_no_hives_unconstrained),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_prefer_hive_sizes),
		cmocka_unit_test(test_prefer_best_fit),
		cmocka_unit_test(test_prefer_must_include),
		cmocka_unit_test(test_prefer_numa),
		cmocka_unit_test(test_grant_passthrough),
		cmocka_unit_test(test_grant_container),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
