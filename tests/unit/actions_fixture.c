#include "config.h"

/* Paths in a test tree are short; a truncated one would fail the test. */
#if defined(__GNUC__) && !defined(__clang__) /* clang has no such warning */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions_fixture.h"
#include "host/mode.h"

void fx_setup(struct fx *x)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->root, sizeof(x->root), "%s/amdvirt-act-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(x->root));
	x->k = sim_new(x->root);
	assert_non_null(x->k);
	struct sim_dev devs[] = {
		{ .bdf = "0000:00:01.0", .vendor = 0x1022, .device = 0x14ab, .class_code = 0x060400, .driver = "pcieport",
		  .native = "pcieport", .group = 10 },
		{ .bdf = "0000:05:00.0", .vendor = 0x1002, .device = 0x74a1, .class_code = 0x120000, .parent = "0000:00:01.0",
		  .driver = "amdgpu", .native = "amdgpu", .group = 11, .sriov_total = 16, .vf_device = 0x74b5,
		  .vf_native = "amdgpu", .gim = true, .enable = 1 },
		{ .bdf = "0000:00:02.0", .vendor = 0x1022, .device = 0x14ab, .class_code = 0x060400, .driver = "pcieport",
		  .native = "pcieport", .group = 20 },
		{ .bdf = "0000:06:00.0", .vendor = 0x1002, .device = 0x74a1, .class_code = 0x120000, .parent = "0000:00:02.0",
		  .native = "amdgpu", .group = 21, .sriov_total = 16, .vf_device = 0x74b5, .vf_native = "amdgpu", .gim = true },
		{ .bdf = "0000:00:03.0", .vendor = 0x1022, .device = 0x14ab, .class_code = 0x060400, .driver = "pcieport",
		  .native = "pcieport", .group = 30 },
		{ .bdf = "0000:07:00.0", .vendor = 0x1002, .device = 0x740f, .class_code = 0x038000, .parent = "0000:00:03.0",
		  .driver = "amdgpu", .native = "amdgpu", .group = 30 },
		{ .bdf = "0000:07:00.1", .vendor = 0x1002, .device = 0xab38, .class_code = 0x040300, .parent = "0000:00:03.0",
		  .driver = "snd_hda_intel", .native = "snd_hda_intel", .group = 30 },
		{ .bdf = "0000:00:04.0", .vendor = 0x1b36, .device = 0x000c, .class_code = 0x060400, .driver = "pcieport",
		  .native = "pcieport", .group = 40 },
		{ .bdf = "0000:08:00.0", .vendor = 0x1b36, .device = 0x0010, .class_code = 0x010802, .parent = "0000:00:04.0",
		  .driver = "nvme", .native = "nvme", .group = 41, .sriov_total = 2, .vf_device = 0x0010, .vf_native = "nvme" },
	};
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++)
		assert_int_equal(sim_add_device(x->k, &devs[i]), 0);
	sim_add_driver(x->k, "pci-stub");
	x->host = av_host_open(x->root, NULL);
	assert_non_null(x->host);
	fk_attach(x->k, x->host);
	av_actions_set_settle_ms(0);
	av_config_clear(&x->cfg);
}

static void free_model(struct fx *x)
{
	if (x->have_model)
		av_model_free(&x->m);
	x->have_model = false;
}

void fx_discover(struct fx *x, enum av_mode mode)
{
	free_model(x);
	struct av_discover_opts o = { .config = x->cfg.present ? &x->cfg : NULL, .forced_mode_set = mode != AV_MODE_NONE,
	                              .forced_mode = mode };
	assert_int_equal(av_discover(x->host, &o, &x->m), 0);
	x->have_model = true;
}

void fx_teardown(struct fx *x)
{
	char cmd[300];
	free_model(x);
	sim_free(x->k);
	av_host_free(x->host);
	av_config_clear(&x->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->root);
	assert_int_equal(system(cmd), 0);
}

char *fx_print(const struct av_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	av_plan_print(f, p);
	fclose(f);
	return buf;
}

const char *fx_read(struct fx *x, const char *path, char *buf, size_t size)
{
	if (av_read_text(x->host, path, buf, size) < 0)
		buf[0] = '\0';
	return buf;
}

const char *fx_driver(struct fx *x, const char *bdf)
{
	static char buf[64];
	return sim_driver(x->k, bdf, buf, sizeof(buf));
}

char *fx_snapshot(struct fx *x)
{
	char *buf = NULL, line[256], path[128];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	DIR *d = av_opendir(x->host, "/sys/bus/pci/devices");
	assert_non_null(d);
	struct dirent *de;
	char *names[64];
	int n = 0;
	while ((de = readdir(d)) && n < 64)
		if (de->d_name[0] != '.')
			names[n++] = strdup(de->d_name);
	closedir(d);
	for (int a = 0; a < n; a++)
		for (int b = a + 1; b < n; b++)
			if (strcmp(names[a], names[b]) > 0) {
				char *t = names[a];
				names[a] = names[b];
				names[b] = t;
			}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", names[i]);
		fprintf(f, "%s=%s[%s] ", names[i], fx_driver(x, names[i]), fx_read(x, path, line, sizeof(line)));
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_drivers_autoprobe", names[i]);
		if (av_exists(x->host, path))
			fprintf(f, "ap=%s ", fx_read(x, path, line, sizeof(line)));
		free(names[i]);
	}
	d = av_opendir(x->host, "/dev/vfio");
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, "vfio"))
			fprintf(f, "vfio/%s ", de->d_name);
	if (d)
		closedir(d);
	char *state = NULL;
	if (av_read_all(x->host, "/var/lib/amdvirt/state.json", 1 << 20, &state) >= 0) {
		/* an empty state file and no state file are the same host */
		if (strstr(state, "\"bdf\""))
			fprintf(f, "state:%s", state);
		free(state);
	}
	fprintf(f, "gim:%d", av_exists(x->host, "/sys/module/gim"));
	fclose(f);
	return buf;
}
