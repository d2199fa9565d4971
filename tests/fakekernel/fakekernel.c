/* The fake kernel's entry points: the write hook, module operations and
 * failure injection. */
#define _GNU_SOURCE
/* Paths in a test tree are short; a truncated one would fail the test. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions/kmod.h"
#include "fk_int.h"

struct fk *fk_new(const char *root)
{
	struct fk *k = mmap(NULL, sizeof(*k), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (k == MAP_FAILED)
		return NULL;
	snprintf(k->root, sizeof(k->root), "%s", root);
	snprintf(k->gim_version, sizeof(k->gim_version), "8.1.0.K");
	k->gim_vfs = 1;
	if (fk_mkdirs(k, "/sys/bus/pci/devices") < 0 || fk_mkdirs(k, "/sys/kernel/iommu_groups") < 0
	    || fk_mkdirs(k, "/sys/module") < 0 || fk_mkdirs(k, "/dev/vfio") < 0 || fk_mkdirs(k, "/proc") < 0
	    || fk_put(k, "/sys/bus/pci/drivers_probe", "") < 0
	    || fk_put(k, "/proc/sys/kernel/osrelease", "6.1.0-fake\n") < 0) {
		munmap(k, sizeof(*k));
		return NULL;
	}
	return k;
}

void fk_free(struct fk *k)
{
	if (!k)
		return;
	fk_detach(k);
	munmap(k, sizeof(*k));
}

int fk_hold_open(struct fk *k, int pid, const char *path)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/fd", pid);
	fk_mkdirs(k, p);
	snprintf(p, sizeof(p), "/proc/%d/fd/3", pid);
	return fk_link(k, p, path);
}

void fk_set_gim(struct fk *k, const char *version, int default_vfs)
{
	snprintf(k->gim_version, sizeof(k->gim_version), "%s", version);
	k->gim_vfs = default_vfs;
}

void fk_fail_nth(struct fk *k, int n, int err)
{
	k->fail_nth = n > 0 ? k->ops + n : 0;
	k->fail_nth_err = err;
}

void fk_fail_path(struct fk *k, const char *suffix, int err)
{
	snprintf(k->fail_path, sizeof(k->fail_path), "%s", suffix ? suffix : "");
	k->fail_path_err = err;
}

void fk_die_nth(struct fk *k, int n, bool after)
{
	k->die_nth = n > 0 ? k->ops + n : 0;
	k->die_after = after;
}

void fk_signal_nth(struct fk *k, int n, int sig)
{
	k->signal_nth = n > 0 ? k->ops + n : 0;
	k->signal_nth_sig = sig;
}

static void die(struct fk *k)
{
	k->die_nth = 0;
	kill(getpid(), SIGKILL);
	_exit(137); /* not reached */
}

/* After an operation: the death planned for just after it. */
static int done(struct fk *k, int r)
{
	if (k->die_nth && k->die_after && k->ops == k->die_nth)
		die(k);
	return r;
}

int fk_ops(const struct fk *k)
{
	return k->ops;
}

/* Counts the operation; returns the injected error or 0. */
static int injected(struct fk *k, const char *path)
{
	k->ops++;
	if (k->die_nth && !k->die_after && k->ops == k->die_nth)
		die(k);
	if (k->signal_nth && k->ops == k->signal_nth) {
		k->signal_nth = 0;
		kill(getpid(), k->signal_nth_sig);
	}
	if (k->fail_nth && k->ops == k->fail_nth) {
		k->fail_nth = 0;
		return -k->fail_nth_err;
	}
	size_t n = strlen(k->fail_path), len = path ? strlen(path) : 0;
	if (n && len >= n && strcmp(path + len - n, k->fail_path) == 0)
		return -k->fail_path_err;
	return 0;
}

static void strip(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int dev_attr(struct fk *k, struct fkdev *d, const char *attr, const char *val)
{
	long n;
	char shown[300];
	/* sysfs shows every attribute with its newline, however written */
	snprintf(shown, sizeof(shown), "%s\n", val[0] || strcmp(attr, "driver_override") ? val : "(null)");
	if (strcmp(attr, "driver_override") == 0)
		return fk_set_attr(k, d, attr, shown);
	if (strcmp(attr, "sriov_drivers_autoprobe") == 0)
		return fk_set_attr(k, d, attr, strcmp(val, "0") ? "1\n" : "0\n");
	if (strcmp(attr, "sriov_numvfs") == 0) {
		char drv[64];
		fk_driver(k, d->bdf, drv, sizeof(drv));
		/* only a driver with sriov_configure may change it (not gim, not vfio-pci) */
		if (!d->sriov_total || !drv[0] || strcmp(drv, d->native) != 0)
			return -ENOENT;
		n = strtol(val, NULL, 10);
		return fk_set_numvfs(k, d, (int)n);
	}
	return fk_set_attr(k, d, attr, shown);
}

static int apply(struct fk *k, const char *path, const char *data, size_t len)
{
	char val[256], drv[64], bdf[32], attr[64];
	snprintf(val, sizeof(val), "%.*s", (int)len, data);
	strip(val);
	if (strcmp(path, "/sys/bus/pci/drivers_probe") == 0) {
		struct fkdev *d = fk_find(k, val);
		return d ? fk_probe(k, d) : -ENODEV;
	}
	if (sscanf(path, "/sys/bus/pci/drivers/%63[^/]/%63s", drv, attr) == 2
	    && (!strcmp(attr, "bind") || !strcmp(attr, "unbind"))) {
		struct fkdev *d = fk_find(k, val);
		char cur[64];
		if (!d)
			return -ENODEV;
		if (!strcmp(attr, "bind"))
			return fk_bind(k, d, drv);
		return strcmp(fk_driver(k, d->bdf, cur, sizeof(cur)), drv) ? -ENODEV : fk_unbind(k, d);
	}
	if (sscanf(path, "/sys/bus/pci/devices/%31[^/]/%63s", bdf, attr) == 2) {
		struct fkdev *d = fk_find(k, bdf);
		if (!d)
			return -ENOENT;
		if (strcmp(attr, "driver/unbind") == 0)
			return fk_unbind(k, d);
		return dev_attr(k, d, attr, val);
	}
	char full[4400];
	snprintf(full, sizeof(full), "%.*s", (int)len, data);
	return fk_put(k, path, full);
}

static int hook(struct av_host *host, const char *path, const char *data, size_t len, void *user)
{
	struct fk *k = user;
	(void)host;
	int r = injected(k, path);
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
static int gim_load(struct fk *k, const char *params)
{
	const char *vn = params ? strstr(params, "vf_num=") : NULL;
	char p[128];
	if (!fk_exists(k, "/sys/module/vfio_pci"))
		return -ENOENT; /* "Unknown symbol vfio_pin_pages" */
	fk_mkdirs(k, "/sys/module/gim");
	snprintf(p, sizeof(p), "%s\n", k->gim_version);
	fk_put(k, "/sys/module/gim/version", p);
	fk_add_driver(k, "gim");
	vn = vn ? vn + 7 : NULL;
	int count = k->n;
	for (int i = 0; i < count; i++) {
		struct fkdev *d = &k->dev[i];
		char ovr[64], cur[64];
		if (!d->present || !d->gim || fk_driver(k, d->bdf, cur, sizeof(cur))[0])
			continue;
		snprintf(p, sizeof(p), "%s/driver_override", d->dir);
		fk_read(k, p, ovr, sizeof(ovr));
		if (strcmp(ovr, "(null)") && strcmp(ovr, "gim"))
			continue;
		fk_bind(k, d, "gim");
		int n = vn ? atoi(vn) : k->gim_vfs;
		if (vn && (vn = strchr(vn, ',')))
			vn++;
		fk_set_numvfs(k, d, n);
	}
	return 0;
}

static int gim_unload(struct fk *k)
{
	char cur[64];
	for (int i = 0; i < k->n; i++)
		if (k->dev[i].present && k->dev[i].is_vf && fk_attr_int(k, &k->dev[i], "enable", 0) > 0
		    && !strcmp(fk_driver(k, k->dev[k->dev[i].pf].bdf, cur, sizeof(cur)), "gim"))
			return -EBUSY;
	for (int i = 0; i < k->n; i++)
		if (k->dev[i].present && !strcmp(fk_driver(k, k->dev[i].bdf, cur, sizeof(cur)), "gim")) {
			fk_set_numvfs(k, &k->dev[i], 0);
			fk_unbind(k, &k->dev[i]);
		}
	fk_rm(k, "/sys/bus/pci/drivers/gim");
	return fk_rm(k, "/sys/module/gim");
}

static int mod_load(struct av_host *host, const char *module, const char *params, char **cause, void *user)
{
	struct fk *k = user;
	char name[64], p[128];
	(void)host;
	int r = injected(k, NULL);
	module_name(module, name, sizeof(name));
	snprintf(p, sizeof(p), "/sys/module/%s", name);
	if (!r && fk_exists(k, p))
		return done(k, 0);
	if (!r && strcmp(name, "gim") == 0)
		r = gim_load(k, params);
	else if (!r) {
		fk_mkdirs(k, p);
		if (strcmp(name, "vfio_pci") == 0) {
			fk_add_driver(k, "vfio-pci");
			fk_put(k, "/dev/vfio/vfio", "");
		}
	}
	if (r < 0 && cause) {
		free(*cause);
		*cause = NULL;
		if (asprintf(cause, "loading %s: %s", module, strerror(-r)) < 0)
			*cause = NULL;
	}
	return done(k, r);
}

static int mod_unload(struct av_host *host, const char *module, char **cause, void *user)
{
	struct fk *k = user;
	char name[64], p[128];
	(void)host;
	int r = injected(k, NULL);
	module_name(module, name, sizeof(name));
	snprintf(p, sizeof(p), "/sys/module/%s", name);
	if (!r && !fk_exists(k, p))
		r = -ENOENT;
	if (!r)
		r = strcmp(name, "gim") == 0 ? gim_unload(k) : fk_rm(k, p);
	if (r < 0 && cause) {
		free(*cause);
		*cause = NULL;
		if (asprintf(cause, "unloading %s: %s", module, strerror(-r)) < 0)
			*cause = NULL;
	}
	return done(k, r);
}

static const struct av_kmod_ops fk_kmod = { .load = mod_load, .unload = mod_unload };

static void env_injection(struct fk *k)
{
	const char *s = getenv("FAKEKERNEL_FAIL_NTH");
	if (s && *s) {
		const char *c = strchr(s, ':');
		fk_fail_nth(k, atoi(s), c ? atoi(c + 1) : EIO);
	}
	s = getenv("FAKEKERNEL_DIE_NTH");
	if (s && *s)
		fk_die_nth(k, atoi(s), strstr(s, ":after") != NULL);
	s = getenv("FAKEKERNEL_FAIL_PATH");
	if (s && *s) {
		char suffix[256];
		snprintf(suffix, sizeof(suffix), "%s", s);
		char *c = strrchr(suffix, ':');
		int err = EIO;
		if (c) {
			*c = '\0';
			err = atoi(c + 1);
		}
		fk_fail_path(k, suffix, err);
	}
}

void fk_attach(struct fk *k, struct av_host *host)
{
	k->host = host;
	av_host_set_write_hook(host, hook, k);
	av_kmod_set_ops(&fk_kmod, k);
	env_injection(k);
}

void fk_detach(struct fk *k)
{
	if (k->host)
		av_host_set_write_hook(k->host, NULL, NULL);
	av_kmod_set_ops(NULL, NULL);
	k->host = NULL;
}
