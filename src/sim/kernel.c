/* The simulated kernel's entry points: the write hook and the module
 * operations, through the gate a test may put before them. */
#define _GNU_SOURCE
/* Paths in a host tree are short; a truncated one names nothing in it. */
#if defined(__GNUC__) && !defined(__clang__) /* clang has no such warning */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions/kmod.h"
#include "base/util.h"
#include "sim_int.h"

struct sim *sim_alloc(const char *root)
{
	struct sim *k = mmap(NULL, sizeof(*k), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (k == MAP_FAILED)
		return NULL;
	snprintf(k->root, sizeof(k->root), "%s", root);
	snprintf(k->gim_version, sizeof(k->gim_version), "8.1.0.K");
	k->gim_vfs = 1;
	return k;
}

struct sim *sim_new(const char *root)
{
	struct sim *k = sim_alloc(root);
	if (!k)
		return NULL;
	if (sim_mkdirs(k, "/sys/bus/pci/devices") < 0 || sim_mkdirs(k, "/sys/kernel/iommu_groups") < 0
	    || sim_mkdirs(k, "/sys/module") < 0 || sim_mkdirs(k, "/dev/vfio") < 0 || sim_mkdirs(k, "/proc") < 0
	    || sim_put(k, "/sys/bus/pci/drivers_probe", "") < 0
	    || sim_put(k, "/proc/sys/kernel/osrelease", "6.1.0-fake\n") < 0) {
		munmap(k, sizeof(*k));
		return NULL;
	}
	return k;
}

void sim_free(struct sim *k)
{
	if (!k)
		return;
	sim_detach(k);
	munmap(k, sizeof(*k));
}

int sim_hold_open(struct sim *k, int pid, const char *path)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd", pid);
	sim_mkdirs(k, p);
	snprintf(p, sizeof(p), "/proc/%d/fd/3", pid);
	return sim_link(k, p, path);
}

void sim_set_gim(struct sim *k, const char *version, int default_vfs)
{
	snprintf(k->gim_version, sizeof(k->gim_version), "%s", version);
	k->gim_vfs = default_vfs;
}

/* The gate: a test's failure injection, asked before each operation and
 * told after it. */
static int gate_before(struct sim *k, const char *path)
{
	return k->gate.before ? k->gate.before(k->gate.user, path) : 0;
}

static int done(struct sim *k, int r)
{
	if (k->gate.after)
		k->gate.after(k->gate.user);
	return r;
}

void sim_set_gate(struct sim *k, const struct sim_gate *g)
{
	if (g)
		k->gate = *g;
	else
		memset(&k->gate, 0, sizeof(k->gate));
}

static void strip(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int dev_attr(struct sim *k, struct simdev *d, const char *attr, const char *val)
{
	long n;
	char shown[300];
	/* sysfs shows every attribute with its newline, however written */
	snprintf(shown, sizeof(shown), "%s\n", val[0] || strcmp(attr, "driver_override") ? val : "(null)");
	if (strcmp(attr, "driver_override") == 0)
		return sim_set_attr(k, d, attr, shown);
	if (strcmp(attr, "sriov_drivers_autoprobe") == 0)
		return sim_set_attr(k, d, attr, strcmp(val, "0") ? "1\n" : "0\n");
	if (strcmp(attr, "sriov_numvfs") == 0) {
		char drv[64];
		sim_driver(k, d->bdf, drv, sizeof(drv));
		/* only a driver with sriov_configure may change it (not gim, not vfio-pci) */
		if (!d->sriov_total || !drv[0] || strcmp(drv, d->native) != 0)
			return -ENOENT;
		n = strtol(val, NULL, 10);
		return sim_set_numvfs(k, d, (int)n);
	}
	return sim_set_attr(k, d, attr, shown);
}

static int apply(struct sim *k, const char *path, const char *data, size_t len)
{
	char val[256], drv[64], bdf[32], attr[64];
	snprintf(val, sizeof(val), "%.*s", (int)len, data);
	strip(val);
	if (strcmp(path, "/sys/bus/pci/drivers_probe") == 0) {
		struct simdev *d = sim_find(k, val);
		return d ? sim_probe(k, d) : -ENODEV;
	}
	if (sscanf(path, "/sys/bus/pci/drivers/%63[^/]/%63s", drv, attr) == 2
	    && (!strcmp(attr, "bind") || !strcmp(attr, "unbind"))) {
		struct simdev *d = sim_find(k, val);
		char cur[64];
		if (!d)
			return -ENODEV;
		if (!strcmp(attr, "bind"))
			return sim_bind(k, d, drv);
		return strcmp(sim_driver(k, d->bdf, cur, sizeof(cur)), drv) ? -ENODEV : sim_unbind(k, d);
	}
	if (sscanf(path, "/sys/bus/pci/devices/%31[^/]/%63s", bdf, attr) == 2) {
		struct simdev *d = sim_find(k, bdf);
		if (!d)
			return -ENOENT;
		if (strcmp(attr, "driver/unbind") == 0)
			return sim_unbind(k, d);
		return dev_attr(k, d, attr, val);
	}
	char full[4400];
	snprintf(full, sizeof(full), "%.*s", (int)len, data);
	return sim_put(k, path, full);
}

static int hook(struct av_host *host, const char *path, const char *data, size_t len, void *user)
{
	struct sim *k = user;
	(void)host;
	int r = gate_before(k, path);
	return done(k, r ? r : apply(k, path, data, len));
}

static void module_name(const char *module, char *out, size_t size)
{
	const char *base = strrchr(module, '/');
	snprintf(out, size, "%s", base ? base + 1 : module);
	char *dot = strstr(out, ".ko");
	if (dot)
		*dot = '\0';
	for (char *p = out; *p; p++)
		if (*p == '-')
			*p = '_';
}

/* gim: claims every unbound SR-IOV AMD PF whose override allows it, then
 * enables vf_num VFs on each (one value per GPU, in order). */
static int gim_load(struct sim *k, const char *params)
{
	const char *vn = params ? strstr(params, "vf_num=") : NULL;
	char p[128];
	if (!sim_exists(k, "/sys/module/vfio_pci"))
		return -ENOENT; /* "Unknown symbol vfio_pin_pages" */
	sim_mkdirs(k, "/sys/module/gim");
	snprintf(p, sizeof(p), "%s\n", k->gim_version);
	sim_put(k, "/sys/module/gim/version", p);
	sim_add_driver(k, "gim");
	vn = vn ? vn + 7 : NULL;
	int count = k->n;
	for (int i = 0; i < count; i++) {
		struct simdev *d = &k->dev[i];
		char ovr[64], cur[64];
		if (!d->present || !d->gim || sim_driver(k, d->bdf, cur, sizeof(cur))[0])
			continue;
		snprintf(p, sizeof(p), "%s/driver_override", d->dir);
		sim_read(k, p, ovr, sizeof(ovr));
		if (strcmp(ovr, "(null)") && strcmp(ovr, "gim"))
			continue;
		sim_bind(k, d, "gim");
		int n = vn ? atoi(vn) : k->gim_vfs;
		if (vn && (vn = strchr(vn, ',')))
			vn++;
		sim_set_numvfs(k, d, n);
	}
	return 0;
}

static int gim_unload(struct sim *k)
{
	char cur[64];
	for (int i = 0; i < k->n; i++)
		if (k->dev[i].present && k->dev[i].is_vf && sim_attr_int(k, &k->dev[i], "enable", 0) > 0
		    && !strcmp(sim_driver(k, k->dev[k->dev[i].pf].bdf, cur, sizeof(cur)), "gim"))
			return -EBUSY;
	for (int i = 0; i < k->n; i++)
		if (k->dev[i].present && !strcmp(sim_driver(k, k->dev[i].bdf, cur, sizeof(cur)), "gim")) {
			sim_set_numvfs(k, &k->dev[i], 0);
			sim_unbind(k, &k->dev[i]);
		}
	sim_rm(k, "/sys/bus/pci/drivers/gim");
	return sim_rm(k, "/sys/module/gim");
}

static int mod_load(struct av_host *host, const char *module, const char *params, char **cause, void *user)
{
	struct sim *k = user;
	char name[64], p[128];
	(void)host;
	int r = gate_before(k, NULL);
	module_name(module, name, sizeof(name));
	snprintf(p, sizeof(p), "/sys/module/%s", name);
	if (!r && sim_exists(k, p))
		return done(k, 0);
	if (!r && strcmp(name, "gim") == 0)
		r = gim_load(k, params);
	else if (!r) {
		sim_mkdirs(k, p);
		if (strcmp(name, "vfio_pci") == 0) {
			sim_add_driver(k, "vfio-pci");
			sim_put(k, "/dev/vfio/vfio", "");
		}
	}
	if (r < 0)
		av_set_cause(cause, "loading %s: %s", module, strerror(-r));
	return done(k, r);
}

static int mod_unload(struct av_host *host, const char *module, char **cause, void *user)
{
	struct sim *k = user;
	char name[64], p[128];
	(void)host;
	int r = gate_before(k, NULL);
	module_name(module, name, sizeof(name));
	snprintf(p, sizeof(p), "/sys/module/%s", name);
	if (!r && !sim_exists(k, p))
		r = -ENOENT;
	if (!r)
		r = strcmp(name, "gim") == 0 ? gim_unload(k) : sim_rm(k, p);
	if (r < 0)
		av_set_cause(cause, "unloading %s: %s", module, strerror(-r));
	return done(k, r);
}

static const struct av_kmod_ops sim_kmod = { .load = mod_load, .unload = mod_unload };

void sim_attach(struct sim *k, struct av_host *host)
{
	k->host = host;
	av_host_set_write_hook(host, hook, k);
	av_kmod_set_ops(&sim_kmod, k);
}

void sim_detach(struct sim *k)
{
	if (k->host)
		av_host_set_write_hook(k->host, NULL, NULL);
	av_kmod_set_ops(NULL, NULL);
	k->host = NULL;
}
