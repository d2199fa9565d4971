/* The simulated kernel's tree and driver core. */
#define _GNU_SOURCE
/* Paths in a host tree are short; a truncated one names nothing in it. */
#if defined(__GNUC__) && !defined(__clang__) /* clang has no such warning */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_int.h"

static void full(struct sim *k, const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", k->root, path);
}

int sim_mkdirs(struct sim *k, const char *path)
{
	char buf[4400];
	full(k, path, buf, sizeof(buf));
	for (char *p = buf + strlen(k->root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

int sim_put(struct sim *k, const char *path, const char *content)
{
	char buf[4400];
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		sim_mkdirs(k, dir);
	}
	full(k, path, buf, sizeof(buf));
	int fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, content, strlen(content));
	close(fd);
	return n < 0 ? -EIO : 0;
}

int sim_link(struct sim *k, const char *at, const char *target)
{
	char buf[4400];
	full(k, at, buf, sizeof(buf));
	unlink(buf);
	return symlink(target, buf) < 0 ? -errno : 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

int sim_rm(struct sim *k, const char *path)
{
	char buf[4400];
	struct stat st;
	full(k, path, buf, sizeof(buf));
	if (lstat(buf, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return unlink(buf) < 0 ? -errno : 0;
	return nftw(buf, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

int sim_read(struct sim *k, const char *path, char *buf, size_t size)
{
	char p[4400];
	full(k, path, p, sizeof(p));
	int fd = open(p, O_RDONLY);
	if (fd < 0) {
		buf[0] = '\0';
		return -errno;
	}
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

bool sim_exists(struct sim *k, const char *path)
{
	char p[4400];
	full(k, path, p, sizeof(p));
	return access(p, F_OK) == 0;
}

struct simdev *sim_find(struct sim *k, const char *bdf)
{
	for (int i = 0; i < k->n; i++)
		if (k->dev[i].present && strcmp(k->dev[i].bdf, bdf) == 0)
			return &k->dev[i];
	return NULL;
}

int sim_attr_int(struct sim *k, struct simdev *d, const char *attr, int dflt)
{
	char p[400], buf[64];
	snprintf(p, sizeof(p), "%s/%s", d->dir, attr);
	if (sim_read(k, p, buf, sizeof(buf)) < 0 || !buf[0])
		return dflt;
	return atoi(buf);
}

int sim_set_attr(struct sim *k, struct simdev *d, const char *attr, const char *value)
{
	char p[400];
	snprintf(p, sizeof(p), "%s/%s", d->dir, attr);
	return sim_put(k, p, value);
}

/* "../" once per component below /sys, so links stay inside the root. */
static void up_to_sys(const char *dir, char *buf, size_t size)
{
	buf[0] = '\0';
	for (const char *p = dir + 4; *p; p++)
		if (*p == '/')
			strncat(buf, "../", size - strlen(buf) - 1);
}

int sim_add_driver(struct sim *k, const char *name)
{
	char p[256];
	snprintf(p, sizeof(p), "/sys/bus/pci/drivers/%s/bind", name);
	int r = sim_put(k, p, "");
	snprintf(p, sizeof(p), "/sys/bus/pci/drivers/%s/unbind", name);
	return r ? r : sim_put(k, p, "");
}

static int link_driver(struct sim *k, struct simdev *d, const char *drv);

struct simdev *sim_new_dev(struct sim *k, const char *bdf, const char *dir)
{
	if (k->n == SIM_MAX)
		return NULL;
	struct simdev *d = &k->dev[k->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	d->group = -1;
	d->pf = -1;
	d->present = true;
	return d;
}

static int make_dev(struct sim *k, struct simdev *d, uint16_t vendor, uint16_t device, uint32_t cls, int enable)
{
	char p[400], v[64], up[128];
	sim_mkdirs(k, d->dir);
#define PUT(attr, ...) do { snprintf(v, sizeof(v), __VA_ARGS__); sim_set_attr(k, d, attr, v); } while (0)
	PUT("vendor", "0x%04x\n", vendor);
	PUT("device", "0x%04x\n", device);
	PUT("class", "0x%06x\n", cls);
	PUT("revision", "0x00\n");
	PUT("driver_override", "(null)\n");
	PUT("enable", "%d\n", enable);
	PUT("numa_node", "-1\n");
	if (d->sriov_total > 0) {
		PUT("sriov_totalvfs", "%d\n", d->sriov_total);
		PUT("sriov_numvfs", "0\n");
		PUT("sriov_drivers_autoprobe", "1\n");
		PUT("sriov_vf_device", "%04x\n", d->vf_device);
		PUT("sriov_offset", "1\n");
		PUT("sriov_stride", "1\n");
	}
#undef PUT
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s", d->bdf);
	snprintf(v, sizeof(v), "../../..%s", d->dir + 4);
	sim_link(k, p, v);
	if (d->group >= 0) {
		char target[400];
		up_to_sys(d->dir, up, sizeof(up));
		snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%d/devices", d->group);
		sim_mkdirs(k, p);
		snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%d/type", d->group);
		sim_put(k, p, "DMA\n");
		snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%d/devices/%s", d->group, d->bdf);
		snprintf(target, sizeof(target), "../../../..%s", d->dir + 4);
		sim_link(k, p, target);
		snprintf(p, sizeof(p), "%s/iommu_group", d->dir);
		snprintf(target, sizeof(target), "%skernel/iommu_groups/%d", up, d->group);
		sim_link(k, p, target);
	}
	return 0;
}

int sim_add_device(struct sim *k, const struct sim_dev *in)
{
	char dir[256];
	struct simdev *parent = in->parent ? sim_find(k, in->parent) : NULL;
	if (in->parent && !parent)
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%s/%s", parent ? parent->dir : "/sys/devices/pci0000:00", in->bdf);
	struct simdev *d = sim_new_dev(k, in->bdf, dir);
	if (!d)
		return -ENOSPC;
	snprintf(d->native, sizeof(d->native), "%s", in->native ? in->native : "");
	snprintf(d->vf_native, sizeof(d->vf_native), "%s", in->vf_native ? in->vf_native : "");
	d->vf_device = in->vf_device;
	d->sriov_total = in->sriov_total;
	d->group = in->group;
	d->gim = in->gim;
	make_dev(k, d, in->vendor, in->device, in->class_code, in->enable);
	if (in->driver) {
		sim_add_driver(k, in->driver);
		link_driver(k, d, in->driver);
	}
	return 0;
}

static bool group_on_vfio(struct sim *k, int group)
{
	char drv[64];
	for (int i = 0; i < k->n; i++)
		if (k->dev[i].present && k->dev[i].group == group
		    && strcmp(sim_driver(k, k->dev[i].bdf, drv, sizeof(drv)), "vfio-pci") == 0)
			return true;
	return false;
}

const char *sim_driver(struct sim *k, const char *bdf, char *buf, size_t size)
{
	char p[400], t[4400];
	struct simdev *d = sim_find(k, bdf);
	buf[0] = '\0';
	if (!d)
		return buf;
	snprintf(p, sizeof(p), "%s%s/driver", k->root, d->dir);
	ssize_t n = readlink(p, t, sizeof(t) - 1);
	if (n > 0) {
		t[n] = '\0';
		snprintf(buf, size, "%s", strrchr(t, '/') + 1);
	}
	return buf;
}

int sim_bind(struct sim *k, struct simdev *d, const char *drv)
{
	char p[400], cur[64], ovr[64];
	snprintf(p, sizeof(p), "/sys/bus/pci/drivers/%s", drv);
	if (!sim_exists(k, p))
		return -ENODEV;
	if (sim_driver(k, d->bdf, cur, sizeof(cur))[0])
		return -EBUSY;
	snprintf(p, sizeof(p), "%s/driver_override", d->dir);
	sim_read(k, p, ovr, sizeof(ovr));
	if (strcmp(ovr, "(null)") == 0)
		ovr[0] = '\0';
	if (ovr[0] ? strcmp(ovr, drv) != 0 : (strcmp(drv, d->native) != 0 && !(d->gim && !strcmp(drv, "gim"))))
		return -ENODEV;
	if (d->is_vf && !ovr[0] && sim_attr_int(k, &k->dev[d->pf], "sriov_drivers_autoprobe", 1) == 0)
		return -ENODEV; /* pci_device_can_probe() */
	if (strcmp(drv, "vfio-pci") == 0 && d->sriov_total > 0 && sim_attr_int(k, d, "sriov_numvfs", 0) > 0)
		return -EBUSY; /* "Cannot bind to PF with SR-IOV enabled" */
	return link_driver(k, d, drv);
}

static int link_driver(struct sim *k, struct simdev *d, const char *drv)
{
	char p[400], t[400], up[128];
	up_to_sys(d->dir, up, sizeof(up));
	snprintf(p, sizeof(p), "%s/driver", d->dir);
	snprintf(t, sizeof(t), "%sbus/pci/drivers/%s", up, drv);
	sim_link(k, p, t);
	snprintf(p, sizeof(p), "/sys/bus/pci/drivers/%s/%s", drv, d->bdf);
	snprintf(t, sizeof(t), "../../../..%s", d->dir + 4);
	sim_link(k, p, t);
	if (strcmp(drv, "vfio-pci") == 0 && d->group >= 0) {
		snprintf(p, sizeof(p), "/dev/vfio/%d", d->group);
		sim_put(k, p, "");
	}
	/* host drivers enable the device in probe; vfio-pci only on open */
	if (strcmp(drv, "vfio-pci") != 0 && strcmp(drv, "pci-stub") != 0)
		sim_set_attr(k, d, "enable", "1\n");
	return 0;
}

int sim_unbind(struct sim *k, struct simdev *d)
{
	char p[400], cur[64];
	if (!sim_driver(k, d->bdf, cur, sizeof(cur))[0])
		return -ENODEV;
	snprintf(p, sizeof(p), "%s/driver", d->dir);
	sim_rm(k, p);
	snprintf(p, sizeof(p), "/sys/bus/pci/drivers/%s/%s", cur, d->bdf);
	sim_rm(k, p);
	if (strcmp(cur, "vfio-pci") != 0)
		sim_set_attr(k, d, "enable", "0\n");
	if (strcmp(cur, "vfio-pci") == 0 && d->group >= 0 && !group_on_vfio(k, d->group)) {
		snprintf(p, sizeof(p), "/dev/vfio/%d", d->group);
		sim_rm(k, p);
	}
	return 0;
}

/* drivers_probe: the override's driver, else the native one; a failed
 * probe leaves the device unbound and is not an error of the write. */
int sim_probe(struct sim *k, struct simdev *d)
{
	char p[400], ovr[64], cur[64];
	if (sim_driver(k, d->bdf, cur, sizeof(cur))[0])
		return 0;
	snprintf(p, sizeof(p), "%s/driver_override", d->dir);
	sim_read(k, p, ovr, sizeof(ovr));
	if (strcmp(ovr, "(null)") == 0)
		ovr[0] = '\0';
	const char *drv = ovr[0] ? ovr : d->native;
	if (drv[0])
		sim_bind(k, d, drv);
	return 0;
}

static int next_group(struct sim *k)
{
	int g = 0;
	for (int i = 0; i < k->n; i++)
		if (k->dev[i].present && k->dev[i].group >= g)
			g = k->dev[i].group + 1;
	return g;
}

static int add_vf(struct sim *k, int pfi, int i)
{
	struct simdev *pf = &k->dev[pfi];
	unsigned dom, bus, dev, fn;
	char bdf[16], dir[256], p[400], t[64];
	sscanf(pf->bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn);
	unsigned devfn = (dev << 3 | fn) + 1 + (unsigned)i;
	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", dom, bus, (devfn >> 3) & 0x1f, devfn & 7);
	snprintf(dir, sizeof(dir), "%.*s/%s", (int)(strrchr(pf->dir, '/') - pf->dir), pf->dir, bdf);
	struct simdev *vf = sim_new_dev(k, bdf, dir);
	if (!vf)
		return -ENOSPC;
	vf->is_vf = true;
	vf->pf = pfi;
	vf->group = next_group(k);
	snprintf(vf->native, sizeof(vf->native), "%s", pf->vf_native);
	char vendor[16], cls[16];
	snprintf(p, sizeof(p), "%s/vendor", pf->dir);
	sim_read(k, p, vendor, sizeof(vendor));
	snprintf(p, sizeof(p), "%s/class", pf->dir);
	sim_read(k, p, cls, sizeof(cls));
	make_dev(k, vf, (uint16_t)strtoul(vendor, NULL, 16), pf->vf_device, (uint32_t)strtoul(cls, NULL, 16), 0);
	snprintf(p, sizeof(p), "%s/physfn", vf->dir);
	snprintf(t, sizeof(t), "../%s", pf->bdf);
	sim_link(k, p, t);
	snprintf(p, sizeof(p), "%s/virtfn%d", pf->dir, i);
	snprintf(t, sizeof(t), "../%s", vf->bdf);
	sim_link(k, p, t);
	if (sim_attr_int(k, pf, "sriov_drivers_autoprobe", 1))
		sim_probe(k, vf);
	return 0;
}

static void remove_vf(struct sim *k, struct simdev *vf, int i)
{
	char p[400];
	char drv[64];
	if (sim_driver(k, vf->bdf, drv, sizeof(drv))[0])
		sim_unbind(k, vf);
	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%d", vf->group);
	sim_rm(k, p);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s", vf->bdf);
	sim_rm(k, p);
	sim_rm(k, vf->dir);
	snprintf(p, sizeof(p), "%s/virtfn%d", k->dev[vf->pf].dir, i);
	sim_rm(k, p);
	vf->present = false;
}

int sim_set_numvfs(struct sim *k, struct simdev *pf, int n)
{
	int pfi = (int)(pf - k->dev), cur = sim_attr_int(k, pf, "sriov_numvfs", 0);
	char v[16];
	if (n < 0 || n > pf->sriov_total)
		return -ERANGE;
	if (cur > 0 && n > 0)
		return -EBUSY;
	if (n == 0) {
		int i = 0;
		for (int d = 0; d < k->n; d++)
			if (k->dev[d].present && k->dev[d].is_vf && k->dev[d].pf == pfi)
				remove_vf(k, &k->dev[d], i++);
	}
	for (int i = 0; i < n; i++) {
		int r = add_vf(k, pfi, i);
		if (r < 0)
			return r;
	}
	snprintf(v, sizeof(v), "%d\n", n);
	return sim_set_attr(k, &k->dev[pfi], "sriov_numvfs", v);
}
