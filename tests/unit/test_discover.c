/* Discovery and libpci on fake hosts built in-process: the parts that
 * must survive a hostile tree (libpci's exit-on-error callbacks, garbled
 * files, a hive record that amdvirt itself writes). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "host/discover.h"
#include "fakehost/fakehost.h"
#include "host/hives.h"
#include "host/pcidb.h"

static char base[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "%s/amdvirt-discover-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

/* Builds a scenario (a file under tests/scenarios, or inline JSON) and
 * opens it as a host. */
static struct av_host *host_from(const char *name, const char *json)
{
	char dir[PATH_MAX + 64], path[PATH_MAX];
	char *cause = NULL;
	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	int r;
	if (json) {
		cJSON *j = cJSON_Parse(json);
		assert_non_null(j);
		r = fakehost_build_json(j, dir, &cause);
		cJSON_Delete(j);
	} else {
		snprintf(path, sizeof(path), "%s/tests/scenarios/%s.json", getenv("top_srcdir") ? getenv("top_srcdir") : ".",
		         name);
		r = fakehost_build(path, dir, &cause);
	}
	if (r < 0)
		fail_msg("cannot build %s: %s", name, cause ? cause : "?");
	struct av_host *h = av_host_open(dir, NULL);
	assert_non_null(h);
	return h;
}

static void test_pcidb_never_exits(void **state)
{
	(void)state;
	struct av_host *h = host_from("broken", NULL);
	char *cause = NULL;
	struct av_pcidb *db = av_pcidb_open(h, &cause);
	assert_non_null(db);
	uint8_t cfg[4096];
	/* 0000:25:00.0 has a 32-byte config file. */
	assert_int_equal(av_pcidb_config(db, "0000:25:00.0", cfg, sizeof(cfg)), 32);
	assert_int_equal(av_pcidb_find_cap(db, "0000:25:00.0", 0x10, 1), -EACCES);
	/* No such device, and no such address: errors, not an exit. */
	assert_true(av_pcidb_config(db, "0000:ff:1f.7", cfg, sizeof(cfg)) < 0);
	assert_int_equal(av_pcidb_config(db, "garbage", cfg, sizeof(cfg)), -EINVAL);
	/* A healthy function still reads whole, with its capabilities. */
	assert_int_equal(av_pcidb_config(db, "0000:05:00.0", cfg, sizeof(cfg)), 4096);
	assert_true(av_pcidb_find_cap(db, "0000:05:00.0", 0x10, 0) >= 0x40);
	char *name = av_pcidb_vendor_name(db, 0x1002);
	assert_non_null(name);
	assert_non_null(strstr(name, "AMD"));
	free(name);
	av_pcidb_free(db);
	av_host_free(h);
}

static void test_record_survives_rebind(void **state)
{
	(void)state;
	/* Two MI210s that amdgpu shows in one hive... */
	const char *with_ids = "{\"hostname\": \"h\", \"gpus\": [{\"model\": \"MI210\", \"count\": 2, "
	                       "\"driver\": \"amdgpu\", \"vfs\": 0, \"hive\": \"777\"}]}";
	struct av_host *h = host_from("hive-amdgpu", with_ids);
	struct av_model m;
	struct av_discover_opts opts = { .record_hives = true };
	assert_int_equal(av_discover(h, &opts, &m), 0);
	assert_int_equal(m.n_hives, 1);
	assert_int_equal(m.hives[0].source, AV_HIVE_SYSFS);
	assert_string_equal(m.hives[0].xgmi_id, "777");
	assert_int_equal(m.hives[0].n_members, 2);
	av_model_free(&m);
	assert_true(av_exists(h, AV_HIVES_RECORD));

	/* ...then the ids vanish, as when the GPUs move to gim. */
	assert_int_equal(av_discover(h, &opts, &m), 0);
	assert_int_equal(m.n_gpus, 2);
	av_model_free(&m);
	char path[PATH_MAX];
	/* One hive directory under the first member, links elsewhere. */
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:05:00.0/xgmi_hive_info/xgmi_hive_id", av_host_root(h));
	assert_int_equal(remove(path), 0);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:25:00.0/xgmi_hive_info/xgmi_hive_id", av_host_root(h));
	assert_false(av_exists(h, path + strlen(av_host_root(h))));
	assert_int_equal(av_discover(h, &opts, &m), 0);
	assert_int_equal(m.n_hives, 1);
	assert_int_equal(m.hives[0].source, AV_HIVE_RECORD);
	assert_string_equal(m.hives[0].xgmi_id, "777");
	assert_int_equal(m.hives[0].n_members, 2);
	av_model_free(&m);
	av_host_free(h);
}

static void test_config_hives_and_garbled_record(void **state)
{
	(void)state;
	struct av_host *h = host_from("hive-config", "{\"hostname\": \"h\", \"gpus\": [{\"model\": \"MI210\", "
	                                             "\"count\": 4, \"driver\": \"gim\", \"vfs\": 1, "
	                                             "\"vf_driver\": \"vfio-pci\"}],"
	                                             "\"files\": {\"/var/lib/amdvirt/hives.json\": \"{nope\"}}");
	struct av_config cfg = { .present = true, .driver_enable = true };
	char *hive0[] = { (char *)"0000:25:00.0", (char *)"0000:05:00.0" };
	char **hives[] = { hive0 };
	int sizes[] = { 2 };
	cfg.hives = hives;
	cfg.hive_sizes = sizes;
	cfg.n_hives = 1;
	struct av_discover_opts opts = { .config = &cfg };
	struct av_model m;
	assert_int_equal(av_discover(h, &opts, &m), 0);
	assert_int_equal(m.n_hives, 1);
	assert_int_equal(m.hives[0].source, AV_HIVE_CONFIG);
	assert_null(m.hives[0].xgmi_id);
	assert_int_equal(m.hives[0].n_members, 2);
	/* The VFs carry their PF's hive; the other GPUs have none. */
	int vf = av_model_find(&m, "0000:05:02.0");
	assert_true(vf >= 0);
	assert_int_equal(m.funcs[vf].hive, 0);
	assert_int_equal(m.funcs[av_model_find(&m, "0000:45:00.0")].hive, -1);
	/* The garbled record is named, not fatal. */
	bool named = false;
	for (int i = 0; i < m.n_diags; i++)
		named |= strstr(m.diags[i].msg, "hives.json") != NULL;
	assert_true(named);
	av_model_free(&m);
	av_host_free(h);
}

static void test_no_sysfs(void **state)
{
	(void)state;
	struct av_host *h = host_from("empty", "{\"hostname\": \"h\", \"remove\": [\"/sys/bus/pci/devices\"]}");
	struct av_model m;
	assert_int_equal(av_discover(h, NULL, &m), -ENOENT);
	av_model_free(&m);
	av_host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcidb_never_exits),
		cmocka_unit_test(test_record_survives_rebind),
		cmocka_unit_test(test_config_hives_and_garbled_record),
		cmocka_unit_test(test_no_sysfs),
	};
	return cmocka_run_group_tests_name("discover", tests, setup, teardown);
}
