/* Adopting a host tree that exists already (the demo host): the record of
 * the devices is read back from the links and attributes sysfs shows. */
#define _GNU_SOURCE
/* Paths in a host tree are short; a truncated one names no device. */
#if defined(__GNUC__) && !defined(__clang__) /* clang has no such warning */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim_int.h"

/* The last component of the link at path ("" when it is no link). */
static void link_base(struct sim *k, const char *path, char *buf, size_t size)
{
	char p[4400], t[4096];
	snprintf(p, sizeof(p), "%s%s", k->root, path);
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	buf[0] = '\0';
	if (n <= 0)
		return;
	t[n] = '\0';
	const char *b = strrchr(t, '/');
	snprintf(buf, size, "%s", b ? b + 1 : t);
}

/* /sys/bus/pci/devices/BDF -> ../../../devices/...: the device's directory. */
static int device_dir(struct sim *k, const char *bdf, char *dir, size_t size)
{
	char p[4400], t[4096];
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s", k->root, bdf);
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	if (n <= 0)
		return -ENOENT;
	t[n] = '\0';
	const char *s = t;
	while (strncmp(s, "../", 3) == 0)
		s += 3;
	if (strncmp(s, "devices/", 8) != 0)
		return -EINVAL;
	snprintf(dir, size, "/sys/%s", s);
	return 0;
}

static bool driver_present(struct sim *k, const char *drv)
{
	char p[128];
	snprintf(p, sizeof(p), "/sys/bus/pci/drivers/%s", drv);
	return sim_exists(k, p);
}

/* What drivers_probe binds without an override.  The tree is at rest:
 * a device on a host driver was matched by it, an unbound one matched
 * nothing.  One on vfio-pci or pci-stub was put there by an override;
 * without it an AMD GPU PF goes back to amdgpu (when it is there). */
static void guess_native(struct sim *k, struct simdev *d, const char *drv, unsigned vendor)
{
	if (drv[0] && strcmp(drv, "vfio-pci") && strcmp(drv, "pci-stub") && strcmp(drv, "gim"))
		snprintf(d->native, sizeof(d->native), "%s", drv);
	else if (drv[0] && vendor == 0x1002 && !d->is_vf && driver_present(k, "amdgpu"))
		snprintf(d->native, sizeof(d->native), "amdgpu");
}

static int adopt_dev(struct sim *k, const char *bdf)
{
	char dir[256], p[400], v[64], drv[64];
	if (device_dir(k, bdf, dir, sizeof(dir)) < 0)
		return 0; /* not a device link: nothing to adopt */
	struct simdev *d = sim_new_dev(k, bdf, dir);
	if (!d)
		return -ENOSPC;
	snprintf(p, sizeof(p), "%s/iommu_group", dir);
	link_base(k, p, v, sizeof(v));
	d->group = v[0] ? atoi(v) : -1;
	snprintf(p, sizeof(p), "%s/physfn", dir);
	link_base(k, p, v, sizeof(v));
	d->is_vf = v[0] != '\0';
	d->sriov_total = sim_attr_int(k, d, "sriov_totalvfs", 0);
	snprintf(p, sizeof(p), "%s/sriov_vf_device", dir);
	if (sim_read(k, p, v, sizeof(v)) == 0)
		d->vf_device = (uint16_t)strtoul(v, NULL, 16);
	snprintf(p, sizeof(p), "%s/vendor", dir);
	sim_read(k, p, v, sizeof(v));
	unsigned vendor = (unsigned)strtoul(v, NULL, 16);
	snprintf(p, sizeof(p), "%s/driver", dir);
	link_base(k, p, drv, sizeof(drv));
	d->gim = vendor == 0x1002 && d->sriov_total > 0;
	guess_native(k, d, drv, vendor);
	return 0;
}

/* VFs point at their PF by physfn; the record by index. */
static void link_vfs(struct sim *k)
{
	char p[400], pf[64];
	for (int i = 0; i < k->n; i++) {
		if (!k->dev[i].is_vf)
			continue;
		snprintf(p, sizeof(p), "%s/physfn", k->dev[i].dir);
		link_base(k, p, pf, sizeof(pf));
		struct simdev *d = sim_find(k, pf);
		if (d)
			k->dev[i].pf = (int)(d - k->dev);
		else
			k->dev[i].is_vf = false;
	}
}

struct sim *sim_adopt(const char *root, char **cause)
{
	char p[4400], v[64];
	struct sim *k = sim_alloc(root);
	if (!k) {
		if (cause)
			*cause = strdup("no memory for the simulated kernel");
		return NULL;
	}
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices", root);
	DIR *dir = opendir(p);
	if (!dir) {
		if (cause && asprintf(cause, "%s: %s", p, strerror(errno)) < 0)
			*cause = NULL;
		sim_free(k);
		return NULL;
	}
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(dir)))
		if (e->d_name[0] != '.')
			r = adopt_dev(k, e->d_name);
	closedir(dir);
	if (r < 0) {
		if (cause && asprintf(cause, "%s: more devices than the simulated kernel holds (%d)", p, SIM_MAX) < 0)
			*cause = NULL;
		sim_free(k);
		return NULL;
	}
	link_vfs(k);
	if (sim_read(k, "/sys/module/gim/version", v, sizeof(v)) == 0 && v[0])
		snprintf(k->gim_version, sizeof(k->gim_version), "%s", v);
	if (sim_read(k, "/sys/module/gim/parameters/vf_num", v, sizeof(v)) == 0 && v[0])
		k->gim_vfs = atoi(v);
	if (!sim_exists(k, "/sys/bus/pci/drivers_probe"))
		sim_put(k, "/sys/bus/pci/drivers_probe", "");
	return k;
}
