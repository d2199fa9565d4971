/* The console's row builders on a hand-built model: what each screen
 * shows, and that every row points back at the right function/group. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "host/draclaims.h"

#include "build.h"
#include "hwcache.h"
#include "journal.h"
#include "labels/kubevirt.h"
#include "yaml.h"
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

/* A driver named with a terminal escape and a byte that is not UTF-8
 * reaches the screen escaped: curses would otherwise pass it on. */
static void test_hostile_driver(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources res;
	struct ui_rows r;
	fx_build(&m);
	snprintf(m.funcs[2].driver, sizeof(m.funcs[2].driver), "%s", "\xff\x1b[31mevil");
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &res), 0);
	ui_rows_init(&r);
	ui_build_devices(&m, &res, &r);
	assert_true(find_text(&r, "\\xff\\x1b[31mevil") >= 0);
	for (int i = 0; i < r.n; i++)
		assert_null(strchr(r.v[i].text, '\x1b'));
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
	ui_build_device_detail(&m, &res, 5, NULL, &r);
	assert_true(find_text(&r, "1002:74b5") >= 0);
	assert_true(find_text(&r, "VF 0 of 0000:15:00.0") >= 0);
	/* Every member of the group, the blocker in red. */
	int audio = find_text(&r, "0000:15:02.1");
	assert_true(audio >= 0);
	assert_int_equal(r.v[audio].tone, UI_TONE_BAD);
	assert_true(find_text(&r, "NOT viable") >= 0);
	assert_true(find_text(&r, "bind it to vfio-pci") >= 0);
	ui_rows_clear(&r);

	ui_build_device_detail(&m, &res, 2, NULL, &r);
	assert_true(find_text(&r, "amd.com/gpu device \"11\", healthy") >= 0);
	ui_rows_clear(&r);
	ui_build_device_detail(&m, &res, 99, NULL, &r);
	assert_int_equal(r.n, 0);
	ui_rows_clear(&r);
	av_resources_clear(&res);
	av_model_free(&m);
}

/* VF b0 on vfio-pci while the audio function of its group stays on
 * snd_hda_intel: the row reads "group blocked", not "no vfio node" (the
 * node is there; the group is what keeps it from kubelet), and the detail
 * names the member to move, in red. */
static void test_group_blocked(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources res;
	struct ui_rows r;
	fx_build(&m);
	snprintf(m.funcs[5].driver, sizeof(m.funcs[5].driver), "vfio-pci");
	assert_true(m.funcs[5].selected);
	assert_false(av_model_group(&m, 21)->viable);
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &res), 0);
	ui_rows_init(&r);
	ui_build_devices(&m, &res, &r);
	int row = find_text(&r, "0000:15:02.0");
	assert_true(row >= 0);
	assert_int_equal(r.v[row].func, 5);
	assert_non_null(strstr(r.v[row].text, "group blocked"));
	assert_null(strstr(r.v[row].text, "no vfio node"));
	assert_int_equal(r.v[row].tone, UI_TONE_BAD);
	ui_rows_clear(&r);
	enum ui_tone tone;
	assert_string_equal(ui_func_state(&m, &res, &m.funcs[5], &tone), "group blocked");
	assert_int_equal(tone, UI_TONE_BAD);

	ui_build_device_detail(&m, &res, 5, NULL, &r);
	int audio = find_text(&r, "0000:15:02.1");
	assert_true(audio >= 0);
	assert_non_null(strstr(r.v[audio].text, "snd_hda_intel"));
	assert_int_equal(r.v[audio].tone, UI_TONE_BAD);
	assert_true(find_text(&r, "NOT viable") >= 0);
	ui_rows_clear(&r);
	av_resources_clear(&res);
	av_model_free(&m);
}

/* Canned details: PF b at 16 GT/s of 32, VF b0 with no link of its own,
 * an unassigned VF BAR on the PF, a garbled file for VF a1. */
static struct av_func_details hw_pf, hw_vf, hw_bad;
static int hw_calls;

static const struct av_func_details *hw_get(void *ctx, const char *bdf)
{
	(void)ctx;
	hw_calls++;
	if (strcmp(bdf, "0000:15:00.0") == 0)
		return &hw_pf;
	if (strcmp(bdf, "0000:15:02.0") == 0)
		return &hw_vf;
	if (strcmp(bdf, "0000:05:02.1") == 0)
		return &hw_bad;
	return NULL;
}

static void hw_setup(void)
{
	memset(&hw_pf, 0, sizeof(hw_pf));
	hw_pf.res[0] = (struct av_resource){ 0x84000000000ull, 0x87fffffffffull, 0x14220c };
	hw_pf.res[2] = (struct av_resource){ 0x8c000000000ull, 0x8c0001fffffull, 0x14220c };
	hw_pf.res[5] = (struct av_resource){ 0x80000000ull, 0x8007ffffull, 0x40200 };
	hw_pf.res[7] = (struct av_resource){ 0, 0x3fffffffffull, 0x2014220c };
	hw_pf.n_res = 13;
	hw_pf.link = (struct av_link){ "16.0 GT/s PCIe", "32.0 GT/s PCIe", 16.0, 32.0, 16, 16 };
	snprintf(hw_pf.reset_method, sizeof(hw_pf.reset_method), "flr bus");
	memset(&hw_vf, 0, sizeof(hw_vf));
	hw_vf.res[0] = (struct av_resource){ 0x88000000000ull, 0x887ffffffffull, 0x14220c };
	hw_vf.n_res = 13;
	hw_vf.link = (struct av_link){ "Unknown", "Unknown", 0, 0, 0, 0 };
	hw_vf.reset_err = -ENOENT;
	memset(&hw_bad, 0, sizeof(hw_bad));
	hw_bad.res_err = -EINVAL;
	hw_bad.res_bad_line = 3;
	hw_bad.link.width = hw_bad.link.max_width = -1;
	snprintf(hw_bad.reset_method, sizeof(hw_bad.reset_method), "flr");
}

static void test_device_hw(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources res;
	struct ui_rows r;
	const struct ui_hw_source hw = { hw_get, NULL };
	fx_build(&m);
	hw_setup();
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &res), 0);
	ui_rows_init(&r);

	ui_build_device_detail(&m, &res, 4, &hw, &r);
	int link = find_text(&r, "link      16.0 GT/s x16 of 32.0 GT/s x16");
	assert_true(link >= 0);
	assert_int_equal(r.v[link].tone, UI_TONE_WARN);
	assert_true(find_text(&r, "reset     flr bus") >= 0);
	int bar0 = find_text(&r, "BAR 0     256 GiB  64-bit prefetchable above 4 GiB");
	assert_true(bar0 > link);
	assert_true(find_text(&r, "BAR 2     2 MiB    64-bit prefetchable above 4 GiB") > bar0);
	assert_true(find_text(&r, "BAR 5     512 KiB  32-bit              below 4 GiB") > bar0);
	assert_int_equal(find_text(&r, "BAR 1 "), -1);   /* absent BARs are left out */
	int vfbar = find_text(&r, "VF BAR 0  256 GiB");
	assert_true(vfbar > bar0);
	assert_non_null(strstr(r.v[vfbar].text, "UNASSIGNED"));
	assert_non_null(strstr(r.v[vfbar].text, "(4 VFs x 64 GiB)"));
	assert_int_equal(r.v[vfbar].tone, UI_TONE_BAD);
	ui_rows_clear(&r);

	/* A VF shows its PF's link; no reset method is a warning on a GPU. */
	hw_calls = 0;
	ui_build_device_detail(&m, &res, 5, &hw, &r);
	assert_int_equal(hw_calls, 2);
	assert_true(find_text(&r, "link      16.0 GT/s x16 of 32.0 GT/s x16 via PF 0000:15:00.0") >= 0);
	int reset = find_text(&r, "reset     none: the kernel cannot reset it");
	assert_true(reset >= 0);
	assert_int_equal(r.v[reset].tone, UI_TONE_WARN);
	assert_true(find_text(&r, "BAR 0     32 GiB   64-bit prefetchable above 4 GiB") >= 0);
	ui_rows_clear(&r);

	ui_build_device_detail(&m, &res, 3, &hw, &r);
	assert_true(find_text(&r, "bars      resource line 3 is not") >= 0);
	assert_true(find_text(&r, "link      none reported") >= 0);
	ui_rows_clear(&r);
	/* Not readable at all (the function went away). */
	ui_build_device_detail(&m, &res, 2, &hw, &r);
	assert_true(find_text(&r, "bars      not read") >= 0);
	ui_rows_clear(&r);
	/* Without a source the pane has no hardware rows. */
	ui_build_device_detail(&m, &res, 4, NULL, &r);
	assert_int_equal(find_text(&r, "BAR 0"), -1);
	assert_int_equal(find_text(&r, "link "), -1);
	ui_rows_clear(&r);
	av_resources_clear(&res);
	av_model_free(&m);
}

/* The cache reads each function once per rescan, remembers failures
 * too, and starts over after a clear. */
static void test_hwcache(void **state)
{
	(void)state;
	char root[] = "/tmp/test_ui_hw.XXXXXX", path[128];
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:05:00.0", root);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && printf '0x1000 0x1fff 0x200\\n' >'%s/resource'", path, path);
	assert_int_equal(system(cmd), 0);
	struct av_host *host = av_host_open(root, NULL);
	assert_non_null(host);
	struct ui_hwcache c;
	ui_hwcache_init(&c);
	const struct av_func_details *d = ui_hwcache_get(&c, host, "0000:05:00.0");
	assert_non_null(d);
	assert_int_equal(d->n_res, 1);
	assert_ptr_equal(ui_hwcache_get(&c, host, "0000:05:00.0"), d);
	assert_null(ui_hwcache_get(&c, host, "0000:06:00.0"));
	assert_null(ui_hwcache_get(&c, host, "0000:06:00.0"));
	assert_int_equal(c.reads, 2);
	for (int i = 0; i < 20; i++) {
		char bdf[16];
		snprintf(bdf, sizeof(bdf), "0000:07:%02x.0", i);
		assert_null(ui_hwcache_get(&c, host, bdf));
	}
	assert_int_equal(c.reads, 22);
	/* Entries outlive the growth of the cache (a VF's pane holds its
	 * PF's details while reading its own). */
	assert_int_equal(d->n_res, 1);
	assert_ptr_equal(ui_hwcache_get(&c, host, "0000:05:00.0"), d);
	assert_int_equal(c.reads, 22);
	ui_hwcache_clear(&c);
	assert_non_null(ui_hwcache_get(&c, host, "0000:05:00.0"));
	assert_int_equal(c.reads, 1);
	assert_null(ui_hwcache_get(&c, NULL, "0000:05:00.0"));
	ui_hwcache_clear(&c);
	av_host_free(host);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static void test_yaml(void **state)
{
	(void)state;
	cJSON *v = cJSON_Parse("{\"a\":{\"b\":[\"x\",\"1:2\",{\"c\":1.5,\"d\":true},[1,2]],\"e\":{},\"f\":[],"
	                       "\"g\":\"yes\",\"h\":null,\"i\":\"amd.com/gpu\",\"j\":\"two words\"}}");
	assert_non_null(v);
	char *y = ui_yaml(v);
	assert_string_equal(y, "a:\n"
	                       "  b:\n"
	                       "  - x\n"
	                       "  - \"1:2\"\n"
	                       "  - c: 1.5\n"
	                       "    d: true\n"
	                       "  - [1,2]\n"
	                       "  e: {}\n"
	                       "  f: []\n"
	                       "  g: \"yes\"\n"
	                       "  h: null\n"
	                       "  i: amd.com/gpu\n"
	                       "  j: \"two words\"\n");
	free(y);
	cJSON_Delete(v);
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
	char buf[256];
	fx_build(&m);
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &res), 0);
	ui_rows_init(&r);
	ui_build_hives(&m, &res, &r);
	assert_non_null(strstr(r.v[0].text, "hive h0"));
	assert_non_null(strstr(r.v[0].text, "1 VF advertised"));
	/* One VF of the hive is advertised: it is the whole hive for now. */
	assert_true(find_text(&r, "allocation: the whole hive only (1 VF together)") >= 0);
	/* VF mode: each PF with the VFs VMs get below it. */
	int pf_a = ui_rows_find_func(&r, 1);
	assert_int_equal(pf_a, 2);
	assert_int_equal(ui_rows_find_func(&r, 2), 3);
	assert_non_null(strstr(r.v[3].text, "VF 0000:05:02.0 vfio-pci   group 11"));
	assert_non_null(strstr(r.v[3].text, "healthy"));
	assert_non_null(strstr(r.v[3].text, "device \"11\""));
	assert_int_equal(r.v[3].tone, UI_TONE_GOOD);
	assert_int_equal(r.v[3].group, 11);
	assert_non_null(strstr(r.v[4].text, "not advertised"));
	assert_int_equal(r.v[4].tone, UI_TONE_WARN);
	assert_int_equal(ui_rows_find_func(&r, 4), 5);
	assert_false(r.v[5].last);                /* the PF has a VF below */
	assert_int_equal(ui_rows_find_func(&r, 5), 6);
	assert_true(r.v[6].last);
	assert_int_equal(r.n, 7);
	ui_rows_clear(&r);

	/* Four VFs of one hive on vfio-pci: 1, 2 or 4, as Allocate decides. */
	for (int i = 0; i < m.n_funcs; i++)
		if (m.funcs[i].role == AV_ROLE_VF) {
			snprintf(m.funcs[i].driver, sizeof(m.funcs[i].driver), "vfio-pci");
			m.funcs[i].iommu_group = 30 + i;
		}
	fx_vf(&m, 4, fx_add(&m, "0000:15:02.2", AV_VENDOR_AMD, 0x74b5, 0x120000, "vfio-pci", 40, 1));
	for (int i = 0; i < m.n_funcs; i++)
		m.funcs[i].hive = m.funcs[i].role != AV_ROLE_OTHER ? 0 : -1;
	for (int i = 0; i < m.n_groups; i++)
		free(m.groups[i].members);
	free(m.groups);
	m.groups = NULL;
	m.n_groups = 0;
	int nodes[] = { 32, 33, 35, 40 };
	fx_groups(&m, nodes, 4);
	av_select(&m);
	av_resources_clear(&res);
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &res), 0);
	assert_int_equal(res.n_devices, 4);
	ui_hive_shapes(&m, &res, 0, buf, sizeof(buf));
	assert_string_equal(buf, "1, 2 or 4 of its 4 VFs (4: the whole hive)");
	/* A second hive of two (the VFs of PF b) next to the first. */
	m.hives = realloc(m.hives, 2 * sizeof(*m.hives));
	memset(&m.hives[1], 0, sizeof(m.hives[1]));
	snprintf(m.hives[1].id, sizeof(m.hives[1].id), "h1");
	m.n_hives = 2;
	for (int i = 0; i < m.n_funcs; i++)
		if (m.funcs[i].role != AV_ROLE_OTHER && strncmp(m.funcs[i].bdf, "0000:15", 7) == 0)
			m.funcs[i].hive = 1;
	av_int_push(&m.hives[1].members, &m.hives[1].n_members, 4);
	m.hives[0].n_members = 1;
	av_resources_clear(&res);
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &res), 0);
	ui_hive_shapes(&m, &res, 1, buf, sizeof(buf));
	assert_string_equal(buf, "1 or 2 of its 2 VFs (2: the whole hive); with other hives: whole hives only");

	/* PF mode counts GPUs; nothing on vfio-pci is said so. */
	m.mode = AV_MODE_PF;
	av_resources_clear(&res);
	memset(&res, 0, sizeof(res));
	ui_hive_shapes(&m, &res, 0, buf, sizeof(buf));
	assert_string_equal(buf, "nothing advertised for this hive yet (no GPUs of it on vfio-pci)");

	m.n_hives = 0;
	ui_build_hives(&m, &res, &r);
	assert_true(find_text(&r, "No XGMI hives") >= 0);
	m.n_hives = 2;
	ui_rows_clear(&r);
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
	assert_true(find_text(&r, "off: no DeviceConfig (--config or --deviceconfig)") >= 0);
	assert_true(find_text(&r, "amd.com/gpu: 1 (1 device") >= 0);
	assert_true(find_text(&r, "amd.com/gpu.mode=vf-passthrough") >= 0);
	assert_true(find_text(&r, "- HostDevices") >= 0);
	/* One selector for the three VFs of one ID. */
	int sel = find_text(&r, "- pciVendorSelector: \"1002:74b5\"");
	assert_true(sel >= 0);
	assert_int_equal(find_text(&r, "pciVendorSelector") , sel);
	assert_true(find_text(&r, "resourceName: amd.com/gpu") > sel);
	assert_true(find_text(&r, "externalResourceProvider: true") > sel);
	/* The rows are the core's patch, line for line. */
	cJSON *patch = av_kubevirt_patch(&m, "amd.com/gpu");
	char *yaml = ui_yaml(patch);
	int first = find_text(&r, "spec:");
	assert_true(first >= 0);
	int line = 0;
	for (char *p = yaml, *nl; (nl = strchr(p, '\n')); p = nl + 1, line++)
		assert_int_equal(strncmp(r.v[first + line].text, p, (size_t)(nl - p)), 0);
	assert_int_equal(first + line, r.n);
	free(yaml);
	cJSON_Delete(patch);
	ui_rows_clear(&r);

	/* the daemon's stance follows the DeviceConfig */
	struct av_config cfg = { .present = true, .driver_enable = true };
	m.config = &cfg;
	m.mode_source = AV_SOURCE_CONFIG;
	ui_build_node(&m, &res, &labels, &r);
	assert_true(find_text(&r, "on: the daemon keeps gim loaded and every selected VF on vfio-pci") >= 0);
	ui_rows_clear(&r);
	cfg.driver_enable = false;
	ui_build_node(&m, &res, &labels, &r);
	assert_true(find_text(&r, "off: spec.driver.enable is false") >= 0);
	assert_int_equal(find_text(&r, "problem:"), -1);
	ui_rows_clear(&r);
	/* a passthrough type the host contradicts: one problem line, named */
	char pf[] = "pf-passthrough";
	cfg.driver_type = pf;
	m.mode = AV_MODE_PF;
	ui_build_node(&m, &res, &labels, &r);
	assert_true(find_text(&r, "problem: spec.driver.driverType is pf-passthrough, but 2 GPUs are on gim") >= 0);
	ui_rows_clear(&r);
	m.mode = AV_MODE_VF;
	m.config = NULL;

	m.mode = AV_MODE_CONTAINER;
	ui_build_kubevirt_snippet(&m, &res, &r);
	assert_true(find_text(&r, "needs vf-passthrough or pf-passthrough") >= 0);
	ui_rows_clear(&r);
	av_resources_clear(&res);
	av_model_free(&m);
}

/* The DRA driver's record on the Node screen: the slice as published, and
 * each prepared device with its state now. */
static void test_node_dra(void **state)
{
	(void)state;
	struct av_model m;
	struct ui_rows r;
	struct av_dra_claims rec = { 0 };
	fx_build(&m);
	ui_rows_init(&r);
	ui_build_node_dra(&m, &rec, &r);
	assert_int_equal(r.n, 0);         /* no record: nothing said */
	rec.present = true;
	char *devs[] = { (char *)"vf-0000-05-02-0" };
	assert_int_equal(av_dra_claims_set_slice(&rec, "node1-gpu.amdvirt.io-x1y2z", "node1", 3, devs, 1), 0);
	struct av_dra_claim c = { 0 };
	c.uid = strdup("u1");
	c.namespace_ = strdup("vms");
	c.name = strdup("vm1-gpus");
	assert_int_equal(av_dra_claim_dev_add(&c, "gpu0", "node1", "vf-0000-05-02-0", "0000:05:02.0"), 0);
	assert_int_equal(av_dra_claim_dev_add(&c, "gpu1", "node1", "vf-0000-15-02-0", "0000:15:02.0"), 0);
	assert_int_equal(av_dra_claims_put(&rec, &c), 0);
	ui_build_node_dra(&m, &rec, &r);
	assert_true(find_text(&r, "ResourceSlice node1-gpu.amdvirt.io-x1y2z: pool node1, generation 3, 1 device") >= 0);
	assert_true(find_text(&r, "1 prepared claim") >= 0);
	int ok = find_text(&r, "vms/vm1-gpus gpu0: vf-0000-05-02-0 0000:05:02.0");
	assert_true(ok >= 0);
	assert_int_equal(r.v[ok].tone, UI_TONE_NORMAL);
	/* 0000:15:02.0 is on amdgpu in the fixture. */
	int bad = find_text(&r, "vms/vm1-gpus gpu1: vf-0000-15-02-0 0000:15:02.0 (NOT ON VFIO-PCI)");
	assert_true(bad >= 0);
	assert_int_equal(r.v[bad].tone, UI_TONE_BAD);
	assert_true(r.v[bad].last);
	ui_rows_clear(&r);
	av_dra_claims_clear(&rec);
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
		cmocka_unit_test(test_hostile_driver),
		cmocka_unit_test(test_device_detail),
		cmocka_unit_test(test_group_blocked),
		cmocka_unit_test(test_device_hw),
		cmocka_unit_test(test_hwcache),
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_hives),
		cmocka_unit_test(test_node),
		cmocka_unit_test(test_node_dra),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_journal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
