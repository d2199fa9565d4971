/* The console's row builders on a hand-built model: what each screen
 * shows, and that every row points back at the right function/group. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "build.h"
#include "journal.h"
#include "ui_fixture.h"

static int find_text(const struct ui_rows *r, const char *needle)
{
	for (int i = 0; i < r->n; i++)
		if (strstr(r->v[i].text, needle))
			return i;
	return -1;
}

static void test_devices_tree(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources res;
	struct ui_rows r;
	fx_build(&m);
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &res), 0);
	ui_rows_init(&r);
	ui_build_devices(&m, &res, &r);

	assert_non_null(r.head);
	assert_non_null(strstr(r.head, "GROUP"));
	assert_int_equal(r.n, 5); /* two PFs, three VFs; no bridge, no audio */
	assert_int_equal(r.v[0].func, 1);
	assert_int_equal(r.v[0].depth, 0);
	assert_int_equal(r.v[1].func, 2);
	assert_int_equal(r.v[1].depth, 1);
	assert_false(r.v[1].last);
	assert_true(r.v[2].last);
	assert_non_null(strstr(r.v[1].text, "vfio-pci"));
	assert_non_null(strstr(r.v[1].text, "ready"));
	assert_int_equal(r.v[1].tone, UI_TONE_GOOD);
	assert_non_null(strstr(r.v[2].text, "(none)"));
	assert_int_equal(r.v[2].tone, UI_TONE_WARN);
	/* The amdgpu VF shares its group with an audio function on its driver. */
	assert_non_null(strstr(r.v[4].text, "not bound"));
	assert_non_null(strstr(r.v[0].text, " h0 "));
	assert_non_null(strstr(r.v[0].text, "2/4"));
	assert_non_null(strstr(r.v[1].text, "MI300X VF"));
	assert_int_equal(r.v[1].group, 11);
	ui_rows_clear(&r);
	av_resources_clear(&res);
	av_model_free(&m);
}

static void test_device_detail(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources res;
	struct ui_rows r;
	fx_build(&m);
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &res), 0);
	ui_rows_init(&r);
	ui_build_device_detail(&m, &res, 5, &r);
	assert_true(find_text(&r, "1002:74b5") >= 0);
	assert_true(find_text(&r, "VF 0 of 0000:15:00.0") >= 0);
	/* Every member of the group, the blocker in red. */
	int audio = find_text(&r, "0000:15:02.1");
	assert_true(audio >= 0);
	assert_int_equal(r.v[audio].tone, UI_TONE_BAD);
	assert_true(find_text(&r, "NOT viable") >= 0);
	assert_true(find_text(&r, "bind it to vfio-pci") >= 0);
	ui_rows_clear(&r);

	ui_build_device_detail(&m, &res, 2, &r);
	assert_true(find_text(&r, "amd.com/gpu device \"11\", healthy") >= 0);
	ui_rows_clear(&r);
	ui_build_device_detail(&m, &res, 99, &r);
	assert_int_equal(r.n, 0);
	ui_rows_clear(&r);
	av_resources_clear(&res);
	av_model_free(&m);
}

static void test_groups(void **state)
{
	(void)state;
	struct av_model m;
	struct ui_rows r;
	fx_build(&m);
	ui_rows_init(&r);
	ui_build_groups(&m, &r);
	assert_true(r.v[0].heading);
	int g21 = ui_rows_find_group(&r, 21);
	assert_true(g21 > 0);
	assert_non_null(strstr(r.v[g21].text, "NOT viable"));
	assert_int_equal(r.v[g21].tone, UI_TONE_BAD);
	/* The PF's group is not viable but not a target either: no alarm. */
	int g10 = ui_rows_find_group(&r, 10);
	assert_int_equal(r.v[g10].tone, UI_TONE_NORMAL);
	assert_int_equal(r.v[g21 + 2].func, 6);
	assert_true(r.v[g21 + 2].last);
	assert_true(find_text(&r, "Other groups (1)") > g21);
	assert_true(find_text(&r, "PCI bridge") > 0);
	ui_rows_clear(&r);

	m.iommu_enabled = false;
	ui_build_groups(&m, &r);
	assert_true(find_text(&r, "IOMMU is off") >= 0);
	ui_rows_clear(&r);
	av_model_free(&m);
}

static void test_hives(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources res;
	struct ui_rows r;
	fx_build(&m);
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &res), 0);
	ui_rows_init(&r);
	ui_build_hives(&m, &res, &r);
	assert_non_null(strstr(r.v[0].text, "hive h0"));
	assert_true(find_text(&r, "whole hive only") >= 0);
	assert_int_equal(ui_rows_find_func(&r, 4), 3);
	ui_rows_clear(&r);
	assert_non_null(strstr(ui_hive_shapes(4, 1), "1, 2 or 4"));
	assert_non_null(strstr(ui_hive_shapes(4, 2), "8 with another hive"));
	assert_non_null(strstr(ui_hive_shapes(8, 0), "8 GPUs"));

	m.n_hives = 0;
	ui_build_hives(&m, &res, &r);
	assert_true(find_text(&r, "No XGMI hives") >= 0);
	m.n_hives = 1;
	ui_rows_clear(&r);
	av_resources_clear(&res);
	av_model_free(&m);
}

static void test_node(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources res;
	struct ui_rows r;
	fx_build(&m);
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &res), 0);
	ui_rows_init(&r);
	struct av_label items[] = { { (char *)"amd.com/gpu.mode", (char *)"vf-passthrough" } };
	struct av_labels labels = { .items = items, .n = 1 };
	ui_build_node(&m, &res, &labels, &r);
	assert_true(find_text(&r, "vf-passthrough (auto)") >= 0);
	assert_true(find_text(&r, "amd.com/gpu: 1 (1 device") >= 0);
	assert_true(find_text(&r, "amd.com/gpu.mode=vf-passthrough") >= 0);
	assert_true(find_text(&r, "- HostDevices") >= 0);
	/* One selector for the three VFs of one ID. */
	int sel = find_text(&r, "pciVendorSelector: 1002:74b5");
	assert_true(sel >= 0);
	assert_int_equal(find_text(&r, "pciVendorSelector") , sel);
	assert_true(find_text(&r, "resourceName: amd.com/gpu") > sel);
	ui_rows_clear(&r);

	m.mode = AV_MODE_CONTAINER;
	ui_build_kubevirt_snippet(&m, &res, &r);
	assert_true(find_text(&r, "needs vf-passthrough or pf-passthrough") >= 0);
	ui_rows_clear(&r);
	av_resources_clear(&res);
	av_model_free(&m);
}

static void test_checks(void **state)
{
	(void)state;
	struct av_check_result results[] = {
		{ .id = "iommu.kernel", .status = AV_CHECK_PASS, .subject = "host", .message = (char *)"IOMMU on" },
		{ .id = "vfio.module", .status = AV_CHECK_FAIL, .subject = "host", .message = (char *)"vfio-pci missing",
		  .hint = (char *)"modprobe vfio-pci\nand add it to /etc/modules-load.d",
		  .evidence_path = (char *)"/proc/modules", .evidence_value = (char *)"(no vfio_pci)" },
		{ .id = "bios.sriov", .status = AV_CHECK_WARN, .subject = "0000:05:00.0", .message = (char *)"ARI off" },
	};
	struct av_check_report rep = { .results = results, .n_results = 3 };
	struct ui_rows r;
	ui_rows_init(&r);
	ui_build_checks(&rep, NULL, &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.v[0].item, 1); /* worst first */
	assert_int_equal(r.v[0].tone, UI_TONE_BAD);
	assert_int_equal(r.v[1].item, 2);
	assert_int_equal(r.v[2].item, 0);
	assert_non_null(strstr(r.v[0].text, "FAIL"));
	ui_rows_clear(&r);
	ui_build_check_detail(&rep, 1, &r);
	assert_true(find_text(&r, "How to fix") >= 0);
	assert_true(find_text(&r, "and add it to") >= 0);
	assert_true(find_text(&r, "read  /proc/modules") >= 0);
	ui_rows_clear(&r);
	ui_build_checks(NULL, "not yet", &r);
	assert_string_equal(r.v[0].text, "not yet");
	ui_rows_clear(&r);
}

static void test_wrap(void **state)
{
	(void)state;
	struct ui_rows r;
	ui_rows_init(&r);
	ui_rows_add_wrapped(&r, UI_TONE_NORMAL, "aaa bbb ccc ddd\nshort\nxxxxxxxxxxxxxxxxxxxx", 8);
	assert_int_equal(r.n, 6);
	assert_string_equal(r.v[0].text, "aaa bbb");
	assert_string_equal(r.v[1].text, "ccc ddd");
	assert_string_equal(r.v[2].text, "short");
	assert_string_equal(r.v[3].text, "xxxxxxxx");
	assert_string_equal(r.v[5].text, "xxxx");
	ui_rows_clear(&r);
}

static void test_journal(void **state)
{
	(void)state;
	struct ui_rows log;
	ui_rows_init(&log);
	ui_journal_add(&log, 0, UI_TONE_NORMAL, "bind group 11\nstep 1\nstep 2\n");
	assert_int_equal(log.n, 3);
	assert_non_null(strstr(log.v[0].text, " bind group 11"));
	assert_string_equal(log.v[1].text, "         step 1");
	for (int i = 0; i < UI_JOURNAL_MAX + 10; i++)
		ui_journal_addf(&log, 0, UI_TONE_DIM, "line %d", i);
	assert_int_equal(log.n, UI_JOURNAL_MAX);
	assert_non_null(strstr(log.v[log.n - 1].text, "line 5009"));
	ui_rows_clear(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices_tree),
		cmocka_unit_test(test_device_detail),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_hives),
		cmocka_unit_test(test_node),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_journal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
