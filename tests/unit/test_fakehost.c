/* The fake host builder: what it writes must read like the kernel's. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fakehost/fakehost.h"
#include "fakehost/fh.h"
#include "fakehost/pciconfig.h"

#define GPU0 "sys/bus/pci/devices/0000:05:00.0"
#define VF0 "sys/bus/pci/devices/0000:05:02.0"

struct tree {
	char dir[PATH_MAX];
	char host[PATH_MAX];    /* dir/host: the fake root */
};

/* a + b + c into buf; the test fails rather than truncate a path. */
static void join(char *buf, size_t size, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);

	assert_true(la + lb + lc < size);
	memcpy(buf, a, la);
	memcpy(buf + la, b, lb);
	memcpy(buf + la + lb, c, lc + 1);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "%s/fakehost-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(t->dir));
	join(t->host, sizeof(t->host), t->dir, "/host", "");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;

	nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	return 0;
}

/* Builds a scenario given as JSON text; fails the test with the cause. */
static void build(struct tree *t, const char *json)
{
	cJSON *s = cJSON_Parse(json);
	char *cause = NULL;
	int r;

	assert_non_null(s);
	r = fakehost_build_json(s, t->host, &cause);
	if (r < 0)
		fail_msg("build failed: %s", cause ? cause : "?");
	cJSON_Delete(s);
	free(cause);
}

static int build_err(struct tree *t, const char *json, char **cause)
{
	cJSON *s = cJSON_Parse(json);
	int r;

	assert_non_null(s);
	r = fakehost_build_json(s, t->host, cause);
	cJSON_Delete(s);
	return r;
}

static void path_of(const struct tree *t, const char *rel, char *buf, size_t size)
{
	join(buf, size, t->host, "/", rel);
}

static char *slurp(const struct tree *t, const char *rel, size_t *len)
{
	char p[PATH_MAX];
	static char buf[8192];
	int fd;
	ssize_t n;

	path_of(t, rel, p, sizeof(p));
	fd = open(p, O_RDONLY);
	if (fd < 0)
		fail_msg("cannot open %s", rel);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

static void assert_file(const struct tree *t, const char *rel, const char *want)
{
	assert_string_equal(slurp(t, rel, NULL), want);
}

static void assert_link(const struct tree *t, const char *rel, const char *want)
{
	char p[PATH_MAX], buf[PATH_MAX];
	ssize_t n;

	path_of(t, rel, p, sizeof(p));
	n = readlink(p, buf, sizeof(buf) - 1);
	if (n < 0)
		fail_msg("%s is not a link", rel);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* Where a path resolves, relative to the fake root.  Results rotate
 * through a few buffers so two can be compared. */
static const char *resolved(const struct tree *t, const char *rel)
{
	char p[PATH_MAX], root[PATH_MAX];
	static char bufs[4][PATH_MAX];
	static int next;
	char *real = bufs[next++ % 4];

	path_of(t, rel, p, sizeof(p));
	assert_non_null(realpath(t->host, root));
	if (!realpath(p, real))
		fail_msg("%s does not resolve", rel);
	assert_memory_equal(real, root, strlen(root));
	return real + strlen(root) + 1;
}

static bool exists(const struct tree *t, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	path_of(t, rel, p, sizeof(p));
	return lstat(p, &st) == 0;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static const char *one_gpu =
	"{\"gpus\": [{\"model\": \"MI300X\", \"driver\": \"gim\", \"vfs\": 2,"
	" \"vf_driver\": \"vfio-pci\"}], \"modules\": {\"gim\": {\"version\": \"8.1.0.K\"}}}";

static void test_relpath(void **state)
{
	char *p;

	(void)state;
	p = fh_relpath("sys/bus/pci/devices", "sys/devices/pci0000:00/0000:00:01.1/X");
	assert_string_equal(p, "../../../devices/pci0000:00/0000:00:01.1/X");
	free(p);
	/* A link to an ancestor climbs past it, as kernfs does. */
	p = fh_relpath("sys/devices/pci0000:00/A/B/drm/card0", "sys/devices/pci0000:00/A/B");
	assert_string_equal(p, "../../../B");
	free(p);
	p = fh_relpath("dev/dri/by-path", "dev/dri/card0");
	assert_string_equal(p, "../card0");
	free(p);
	p = fh_relpath("sys/devices/pci0000:00/A/B", "sys/devices/pci0000:00/A/C");
	assert_string_equal(p, "../C");
	free(p);
}

static void test_pciconfig(void **state)
{
	struct pcicfg_desc d;
	uint8_t cfg[PCICFG_SIZE_EXT];
	unsigned exp, sr, acs, rebar, vsec, ari;
	size_t n;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.vendor = 0x1002;
	d.device = 0x74a1;
	d.class_code = 0x120000;
	d.pm = d.msix = d.pcie = d.flr = d.ari = d.sriov = d.acs = d.vsec = true;
	d.port_type = PCICFG_PORT_ENDPOINT;
	d.link_speed = d.max_link_speed = 5;
	d.link_width = d.max_link_width = 16;
	d.bars[0] = (struct pcicfg_bar){ PCICFG_BAR_MEM64, true, 0x84000000000ull };
	d.sr.ctrl = PCICFG_SRIOV_CTRL_VFE | PCICFG_SRIOV_CTRL_ARI;
	d.sr.total_vfs = 8;
	d.sr.num_vfs = 1;
	d.sr.offset = 16;
	d.sr.stride = 1;
	d.sr.vf_device = 0x74b5;
	d.acs_cap = 0x5f;
	d.acs_ctrl = 0x1d;
	d.n_rebar = 1;
	d.rebar[0] = (struct pcicfg_rebar){ 0, 0x7ff00, 18 };
	d.vsec_id = 2;
	d.size = PCICFG_SIZE_EXT;
	n = pcicfg_build(&d, cfg, sizeof(cfg));
	assert_int_equal(n, 4096);
	assert_int_equal(pcicfg_get(cfg, n, 0, 16), 0x1002);
	assert_int_equal(pcicfg_get(cfg, n, 2, 16), 0x74a1);
	assert_int_equal(pcicfg_get(cfg, n, 0x09, 8) | pcicfg_get(cfg, n, 0x0a, 16) << 8, 0x120000);
	assert_int_equal(pcicfg_get(cfg, n, 0x10, 32), 0x0000000c);
	assert_int_equal(pcicfg_get(cfg, n, 0x14, 32), 0x840);
	exp = pcicfg_find_cap(cfg, n, PCICFG_CAP_EXP);
	assert_true(exp != 0);
	assert_true(pcicfg_find_cap(cfg, n, PCICFG_CAP_PM) != 0);
	assert_true(pcicfg_find_cap(cfg, n, PCICFG_CAP_MSIX) != 0);
	assert_int_equal((pcicfg_get(cfg, n, exp + 2, 16) >> 4) & 0xf, PCICFG_PORT_ENDPOINT);
	assert_int_equal(pcicfg_get(cfg, n, exp + 2, 16) & 0xf, 2);
	assert_true(pcicfg_get(cfg, n, exp + PCICFG_EXP_DEVCAP, 32) & PCICFG_EXP_DEVCAP_FLR);
	assert_int_equal(pcicfg_get(cfg, n, exp + PCICFG_EXP_LNKSTA, 16) & 0x3ff, 5 | 16 << 4);
	sr = pcicfg_find_ext_cap(cfg, n, PCICFG_ECAP_SRIOV);
	assert_true(sr >= 0x100);
	assert_int_equal(pcicfg_get(cfg, n, sr + PCICFG_SRIOV_TOTAL, 16), 8);
	assert_int_equal(pcicfg_get(cfg, n, sr + PCICFG_SRIOV_NUM, 16), 1);
	assert_int_equal(pcicfg_get(cfg, n, sr + PCICFG_SRIOV_OFFSET, 16), 16);
	assert_int_equal(pcicfg_get(cfg, n, sr + PCICFG_SRIOV_STRIDE, 16), 1);
	assert_int_equal(pcicfg_get(cfg, n, sr + PCICFG_SRIOV_VF_DID, 16), 0x74b5);
	assert_int_equal(pcicfg_get(cfg, n, sr + PCICFG_SRIOV_CTRL, 16), 0x11);
	acs = pcicfg_find_ext_cap(cfg, n, PCICFG_ECAP_ACS);
	assert_int_equal(pcicfg_get(cfg, n, acs + 6, 16), 0x1d);
	ari = pcicfg_find_ext_cap(cfg, n, PCICFG_ECAP_ARI);
	assert_true(ari >= 0x100);
	vsec = pcicfg_find_ext_cap(cfg, n, PCICFG_ECAP_VSEC);
	assert_int_equal(pcicfg_get(cfg, n, vsec + 4, 16), 2);
	rebar = pcicfg_find_ext_cap(cfg, n, PCICFG_ECAP_REBAR);
	assert_int_equal(pcicfg_get(cfg, n, rebar + 4, 32), 0x7ff00u << 4);
	assert_int_equal((pcicfg_get(cfg, n, rebar + 8, 32) >> 8) & 0x3f, 18);
	assert_int_equal((pcicfg_get(cfg, n, rebar + 8, 32) >> 5) & 7, 1);

	/* Conventional devices stop at 256 bytes; a short size truncates. */
	d.pcie = false;
	d.size = 32;
	assert_int_equal(pcicfg_build(&d, cfg, sizeof(cfg)), 32);
	assert_int_equal(pcicfg_find_ext_cap(cfg, 32, PCICFG_ECAP_SRIOV), 0);
}

static void test_layout_and_links(void **state)
{
	struct tree *t = *state;

	build(t, one_gpu);
	/* The GPU sits behind a root port and a switch, where the kernel puts it. */
	assert_string_equal(resolved(t, GPU0),
			    "sys/devices/pci0000:00/0000:00:01.1/0000:01:00.0/0000:02:02.0/0000:05:00.0");
	assert_link(t, GPU0, "../../../devices/pci0000:00/0000:00:01.1/0000:01:00.0/0000:02:02.0/0000:05:00.0");
	assert_link(t, GPU0 "/driver", "../../../../../../bus/pci/drivers/gim");
	assert_string_equal(resolved(t, GPU0 "/driver"), "sys/bus/pci/drivers/gim");
	assert_link(t, GPU0 "/subsystem", "../../../../../../bus/pci");
	assert_string_equal(resolved(t, GPU0 "/subsystem"), "sys/bus/pci");
	assert_link(t, GPU0 "/iommu", "../../../../0000:00:00.2/iommu/ivhd0");
	resolved(t, GPU0 "/iommu");
	assert_string_equal(resolved(t, "sys/class/iommu/ivhd0"),
			    "sys/devices/pci0000:00/0000:00:00.2/iommu/ivhd0");
	assert_string_equal(resolved(t, "sys/bus/pci/drivers/gim/0000:05:00.0"), resolved(t, GPU0));
	assert_string_equal(resolved(t, "sys/bus/pci/drivers/gim/module"), "sys/module/gim");
	assert_string_equal(resolved(t, "sys/module/gim/drivers/pci:gim"), "sys/bus/pci/drivers/gim");
	assert_file(t, "sys/module/gim/version", "8.1.0.K\n");
	assert_file(t, GPU0 "/vendor", "0x1002\n");
	assert_file(t, GPU0 "/device", "0x74a1\n");
	assert_file(t, GPU0 "/class", "0x120000\n");
	assert_file(t, GPU0 "/driver_override", "(null)\n");
	assert_file(t, GPU0 "/current_link_speed", "32.0 GT/s PCIe\n");
	assert_file(t, GPU0 "/modalias", "pci:v00001002d000074A1sv00001002sd000074A1bc12sc00i00\n");
	assert_non_null(strstr(slurp(t, GPU0 "/uevent", NULL), "DRIVER=gim\nPCI_CLASS=120000\n"));
	assert_int_equal(count_lines(slurp(t, GPU0 "/resource", NULL)), 13);
	assert_int_equal(count_lines(slurp(t, "sys/bus/pci/devices/0000:02:02.0/resource", NULL)), 17);
	/* 64-bit prefetchable BAR 0 above 4 GiB; VF BAR windows assigned. */
	{
		unsigned long long s, e, f;
		const char *r = slurp(t, GPU0 "/resource", NULL);

		assert_int_equal(sscanf(r, "%llx %llx %llx", &s, &e, &f), 3);
		assert_true(s >= 0x100000000ull);
		assert_int_equal(e - s + 1, 256ull << 30);
		assert_int_equal(f, 0x14220c);
		for (int i = 0; i < 7; i++)
			r = strchr(r, '\n') + 1;
		assert_int_equal(sscanf(r, "%llx %llx %llx", &s, &e, &f), 3);
		assert_true(s != 0);
		assert_int_equal(e - s + 1, 8 * (32ull << 30));
	}
	assert_true(exists(t, "proc/cmdline"));
	assert_true(exists(t, "dev/kvm"));
	assert_true(exists(t, "dev/vfio/vfio"));
	assert_true(exists(t, "sys/firmware/acpi/tables/IVRS"));
	assert_non_null(strstr(slurp(t, "proc/modules", NULL), "gim 4980736 0 - Live 0x0000000000000000 (OE)\n"));
	assert_non_null(strstr(slurp(t, "proc/cpuinfo", NULL), " svm "));
	assert_file(t, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N\n");
	assert_file(t, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
}

static void test_sriov(void **state)
{
	struct tree *t = *state;
	size_t n;
	const uint8_t *cfg;
	unsigned sr;

	build(t, one_gpu);
	assert_file(t, GPU0 "/sriov_totalvfs", "8\n");
	assert_file(t, GPU0 "/sriov_numvfs", "2\n");
	assert_file(t, GPU0 "/sriov_offset", "16\n");
	assert_file(t, GPU0 "/sriov_stride", "1\n");
	assert_file(t, GPU0 "/sriov_vf_device", "74b5\n");
	/* VF n at PF RID + offset + n * stride, beside the PF. */
	assert_link(t, GPU0 "/virtfn0", "../0000:05:02.0");
	assert_link(t, GPU0 "/virtfn1", "../0000:05:02.1");
	assert_false(exists(t, GPU0 "/virtfn2"));
	assert_link(t, VF0 "/physfn", "../0000:05:00.0");
	assert_string_equal(resolved(t, VF0 "/physfn"), resolved(t, GPU0));
	assert_file(t, VF0 "/device", "0x74b5\n");
	assert_file(t, VF0 "/vendor", "0x1002\n");
	assert_string_equal(resolved(t, VF0 "/driver"), "sys/bus/pci/drivers/vfio-pci");
	/* The VF's own ID registers read all ones, as on hardware. */
	cfg = (const uint8_t *)slurp(t, VF0 "/config", &n);
	assert_int_equal(n, 4096);
	assert_int_equal(pcicfg_get(cfg, n, 0, 32), 0xffffffffu);
	cfg = (const uint8_t *)slurp(t, GPU0 "/config", &n);
	assert_int_equal(pcicfg_get(cfg, n, 0, 16), 0x1002);
	sr = pcicfg_find_ext_cap(cfg, n, PCICFG_ECAP_SRIOV);
	assert_int_equal(pcicfg_get(cfg, n, sr + PCICFG_SRIOV_NUM, 16), 2);
	assert_true(pcicfg_find_ext_cap(cfg, n, PCICFG_ECAP_VSEC) != 0);
	/* ARI forwarding on the downstream port above the GPU. */
	cfg = (const uint8_t *)slurp(t, "sys/bus/pci/devices/0000:02:02.0/config", &n);
	sr = pcicfg_find_cap(cfg, n, PCICFG_CAP_EXP);
	assert_true(pcicfg_get(cfg, n, sr + PCICFG_EXP_DEVCTL2, 16) & PCICFG_EXP_DEVCTL2_ARI);
	assert_int_equal(pcicfg_get(cfg, n, 0x19, 8), 0x05);
	assert_int_equal(pcicfg_get(cfg, n, 0x1a, 8), 0x05);
}

/* Every member link of every group resolves to a device whose
 * iommu_group link comes back to the group. */
static void test_groups(void **state)
{
	struct tree *t = *state;
	char p[PATH_MAX], rel[PATH_MAX], back[PATH_MAX];
	DIR *groups, *members;
	struct dirent *g, *m;
	int n_groups = 0;

	build(t, "{\"gpus\": [{\"model\": \"V620\", \"driver\": \"vfio-pci\"},"
		 " {\"model\": \"MI300X\", \"count\": 2, \"driver\": \"gim\", \"vfs\": 1,"
		 " \"vf_driver\": \"vfio-pci\"}],"
		 " \"others\": [{\"kind\": \"audio\", \"gpu\": 0}, {\"kind\": \"nvme\"}]}");
	path_of(t, "sys/kernel/iommu_groups", p, sizeof(p));
	groups = opendir(p);
	assert_non_null(groups);
	while ((g = readdir(groups))) {
		if (g->d_name[0] == '.')
			continue;
		n_groups++;
		join(rel, sizeof(rel), "sys/kernel/iommu_groups/", g->d_name, "/devices");
		path_of(t, rel, p, sizeof(p));
		members = opendir(p);
		assert_non_null(members);
		while ((m = readdir(members))) {
			char member[PATH_MAX], dev[PATH_MAX];

			if (m->d_name[0] == '.')
				continue;
			join(member, sizeof(member), rel, "/", m->d_name);
			join(dev, sizeof(dev), resolved(t, member), "", "");
			join(back, sizeof(back), dev, "/iommu_group", "");
			join(p, sizeof(p), "sys/kernel/iommu_groups/", g->d_name, "");
			assert_string_equal(resolved(t, back), p);
		}
		closedir(members);
	}
	closedir(groups);
	assert_true(n_groups > 10);
	/* The audio function shares the V620's group: no ACS between functions. */
	assert_string_equal(resolved(t, "sys/bus/pci/devices/0000:05:00.1/iommu_group"),
			    resolved(t, "sys/bus/pci/devices/0000:05:00.0/iommu_group"));
	assert_true((pcicfg_get((const uint8_t *)slurp(t, "sys/bus/pci/devices/0000:05:00.0/config", NULL),
				64, 0x0e, 8) & 0x80) != 0);
	/* VFs each get a group, and a /dev/vfio node on vfio-pci. */
	assert_string_not_equal(resolved(t, "sys/bus/pci/devices/0000:25:02.0/iommu_group"),
				resolved(t, "sys/bus/pci/devices/0000:25:00.0/iommu_group"));
	join(rel, sizeof(rel), "dev/vfio/",
	     strrchr(resolved(t, "sys/bus/pci/devices/0000:25:02.0/iommu_group"), '/') + 1, "");
	assert_true(exists(t, rel));
	assert_file(t, "sys/kernel/iommu_groups/0/type", "DMA-FQ\n");
}

static void test_iommu_off(void **state)
{
	struct tree *t = *state;
	char p[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int n = 0;

	build(t, "{\"kernel\": {\"cmdline\": \"ro amd_iommu=off\"},"
		 " \"gpus\": [{\"model\": \"MI300X\", \"driver\": \"gim\", \"vfs\": 1}]}");
	assert_false(exists(t, GPU0 "/iommu_group"));
	assert_false(exists(t, GPU0 "/iommu"));
	assert_false(exists(t, VF0 "/iommu_group"));
	path_of(t, "sys/kernel/iommu_groups", p, sizeof(p));
	d = opendir(p);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	path_of(t, "sys/class/iommu", p, sizeof(p));
	d = opendir(p);
	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 0);
	assert_true(exists(t, "sys/firmware/acpi/tables/IVRS"));
}

static void test_amdgpu_hive(void **state)
{
	struct tree *t = *state;

	build(t, "{\"gpus\": [{\"model\": \"MI300X\", \"count\": 2, \"driver\": \"amdgpu\","
		 " \"hive\": \"5164837823749213954\"}], \"record_hives\": true,"
		 " \"modules\": {\"amdgpu\": {\"version\": \"6.10.5\"}}}");
	assert_file(t, GPU0 "/product_name", "AMD Instinct MI300X\n");
	assert_file(t, GPU0 "/xgmi_hive_info/xgmi_hive_id", "5164837823749213954\n");
	/* The second member links to the hive object under the first. */
	assert_file(t, "sys/bus/pci/devices/0000:25:00.0/xgmi_hive_info/xgmi_hive_id",
		    "5164837823749213954\n");
	assert_string_equal(resolved(t, "sys/bus/pci/devices/0000:25:00.0/xgmi_hive_info"),
			    resolved(t, GPU0 "/xgmi_hive_info"));
	assert_string_equal(resolved(t, "sys/class/drm/card0/device"), resolved(t, GPU0));
	assert_string_equal(resolved(t, "sys/class/drm/renderD129/device"),
			    resolved(t, "sys/bus/pci/devices/0000:25:00.0"));
	assert_link(t, "dev/dri/by-path/pci-0000:05:00.0-card", "../card0");
	assert_true(exists(t, "dev/dri/renderD128"));
	assert_true(exists(t, "dev/kfd"));
	assert_non_null(strstr(slurp(t, "sys/class/kfd/kfd/topology/nodes/2/properties", NULL),
			       "location_id 1280\ndomain 0\ndrm_render_minor 128\n"
			       "hive_id 5164837823749213954\n"));
	assert_non_null(strstr(slurp(t, "sys/class/kfd/kfd/topology/nodes/0/properties", NULL),
			       "simd_count 0\n"));
	assert_file(t, "sys/class/kfd/kfd/topology/nodes/2/mem_banks/0/properties",
		    "heap_type 1\nsize_in_bytes 206158430208\nflags 0\nwidth 8192\nmem_clk_max 1300\n");
	assert_file(t, "var/lib/amdvirt/hives.json",
		    "{\"hives\":[{\"xgmi_hive_id\":\"5164837823749213954\","
		    "\"gpus\":[\"0000:05:00.0\",\"0000:25:00.0\"]}]}\n");
}

static void test_escape_hatches(void **state)
{
	struct tree *t = *state;
	char p[PATH_MAX];
	struct stat st;

	build(t, "{\"gpus\": [{\"model\": \"MI300X\", \"driver\": \"gim\", \"vfs\": 1,"
		 " \"overrides\": {\"0\": {\"attrs\": {\"numa_node\": \"abc\\n\", \"class\": null},"
		 " \"config_size\": 32}}}],"
		 " \"files\": {\"/sys/bus/pci/devices/0000:05:00.0/vendor\": \"zz\","
		 " \"/etc/gim_config\": \"vf_num=1\\n\"},"
		 " \"remove\": [\"/sys/bus/pci/devices/0000:05:02.0/physfn\"],"
		 " \"symlinks\": {\"/sys/bus/pci/devices/0000:05:00.0/driver\": \"../nowhere\"},"
		 " \"dirs\": [\"/var/lib/kubelet/device-plugins\"],"
		 " \"age\": {\"/etc/default/grub\": 3600}}");
	assert_file(t, GPU0 "/numa_node", "abc\n");
	assert_file(t, GPU0 "/vendor", "zz");
	assert_false(exists(t, GPU0 "/class"));
	assert_file(t, "etc/gim_config", "vf_num=1\n");
	assert_false(exists(t, VF0 "/physfn"));
	assert_link(t, GPU0 "/driver", "../nowhere");
	assert_true(exists(t, "var/lib/kubelet/device-plugins"));
	path_of(t, GPU0 "/config", p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 32);
	{
		struct stat g, c;
		char q[PATH_MAX];

		path_of(t, "etc/default/grub", p, sizeof(p));
		path_of(t, "boot/grub/grub.cfg", q, sizeof(q));
		assert_int_equal(stat(p, &g), 0);
		assert_int_equal(stat(q, &c), 0);
		assert_true(c.st_mtime - g.st_mtime >= 3500);
	}
}

static void test_errors(void **state)
{
	struct tree *t = *state;
	char *cause = NULL;
	char p[PATH_MAX];

	assert_int_equal(build_err(t, "{\"gpus\": [{\"modle\": \"MI300X\"}]}", &cause), -EINVAL);
	assert_non_null(strstr(cause, "gpus[0].modle"));
	free(cause);
	assert_int_equal(build_err(t, "{\"gpus\": [{\"model\": \"MI999\"}]}", &cause), -EINVAL);
	assert_non_null(strstr(cause, "gpus[0].model"));
	free(cause);
	assert_int_equal(build_err(t, "{\"gpus\": [{\"model\": \"MI300X\", \"vfs\": 9}]}", &cause),
			 -EINVAL);
	assert_non_null(strstr(cause, "gpus[0][0].vfs"));
	free(cause);
	assert_int_equal(build_err(t, "{\"gpus\": [{\"model\": \"MI300X\", \"count\": 2,"
				   " \"overrides\": {\"2\": {}}}]}", &cause), -EINVAL);
	assert_non_null(strstr(cause, "gpus[0].overrides.2"));
	free(cause);
	/* A build never writes over an existing tree. */
	assert_int_equal(mkdir(t->host, 0755), 0);
	path_of(t, "stale", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(build_err(t, "{}", &cause), -ENOTEMPTY);
	assert_non_null(strstr(cause, "not empty"));
	free(cause);
	assert_int_equal(fakehost_build("/nonexistent/x.json", t->host, &cause), -ENOENT);
	assert_non_null(strstr(cause, "/nonexistent/x.json"));
	free(cause);
}

/* Every shipped scenario builds (when run from the build tree). */
static void test_scenarios(void **state)
{
	struct tree *t = *state;
	const char *src = getenv("top_srcdir");
	char dir[PATH_MAX], file[PATH_MAX], out[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (!src)
		skip();
	join(dir, sizeof(dir), src, "/tests/scenarios", "");
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		char *cause = NULL;
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		join(file, sizeof(file), dir, "/", e->d_name);
		join(out, sizeof(out), t->dir, "/", e->d_name);
		if (fakehost_build(file, out, &cause) < 0)
			fail_msg("%s", cause);
		n++;
	}
	closedir(d);
	assert_true(n >= 10);
	join(file, sizeof(file), src, "/data/demo.json", "");
	join(out, sizeof(out), t->dir, "/demo", "");
	{
		char *cause = NULL;

		if (fakehost_build(file, out, &cause) < 0)
			fail_msg("%s", cause);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relpath),
		cmocka_unit_test(test_pciconfig),
		cmocka_unit_test_setup_teardown(test_layout_and_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sriov, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iommu_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amdgpu_hive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape_hatches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scenarios, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
