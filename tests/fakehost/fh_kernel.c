/* IOMMU groups and units, PCI drivers and loaded modules: the parts of
 * sysfs (and /proc/modules) that tie devices to kernel objects. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fh.h"

#define RO 0444
#define RW 0644
#define WO 0200

static int group_dir(struct fh_host *h, int g)
{
	char dir[96];
	int fd, r;

	snprintf(dir, sizeof(dir), "sys/kernel/iommu_groups/%d/devices", g);
	if (fh_mkdirs(h, h->rootfd, dir) < 0)
		return -h->err;
	snprintf(dir, sizeof(dir), "sys/kernel/iommu_groups/%d", g);
	fd = fh_opendir(h, dir);
	if (fd < 0)
		return fd;
	/* AMD-Vi's reserved ranges: the MSI window and the HyperTransport hole. */
	r = fh_putf(h, fd, "type", RW, "%s\n", h->iommu_type);
	if (r == 0)
		r = fh_putf(h, fd, "reserved_regions", RO,
			    "0x00000000fee00000 0x00000000feefffff msi\n"
			    "0x000000fd00000000 0x000000ffffffffff reserved\n");
	close(fd);
	return r;
}

static int ivhd(struct fh_host *h, int r)
{
	const struct fh_dev *unit = &h->devs[h->rcs[r].iommu];
	char path[512], link[96];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/iommu/ivhd%d/amd-iommu", unit->path, r);
	if (fh_mkdirs(h, h->rootfd, path) < 0)
		return -h->err;
	fd = fh_opendir(h, path);
	if (fd < 0)
		return fd;
	rc = fh_putf(h, fd, "cap", RO, "0x00190064\n");
	if (rc == 0)
		rc = fh_putf(h, fd, "features", RO, "25bf732fa2295afe:53d\n");
	close(fd);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/iommu/ivhd%d/devices", unit->path, r);
	if (fh_mkdir(h, h->rootfd, path) < 0)
		return -h->err;
	snprintf(path, sizeof(path), "%s/iommu/ivhd%d", unit->path, r);
	snprintf(link, sizeof(link), "sys/class/iommu/ivhd%d", r);
	return fh_rlink(h, link, path);
}

int fh_write_iommu(struct fh_host *h)
{
	unsigned char *made;
	int max = -1;
	char from[512], to[512];

	/* Both exist on every kernel; they are empty without an IOMMU. */
	if (fh_mkdirs(h, h->rootfd, "sys/kernel/iommu_groups") < 0 ||
	    fh_mkdirs(h, h->rootfd, "sys/class/iommu") < 0)
		return -h->err;
	if (!h->iommu)
		return 0;
	for (int r = 0; r < h->n_rcs; r++)
		if (ivhd(h, r) < 0)
			return -h->err;
	for (int i = 0; i < h->n_devs; i++)
		if (h->devs[i].group > max)
			max = h->devs[i].group;
	made = fh_alloc((size_t)max + 2);
	for (int i = 0; i < h->n_devs; i++) {
		const struct fh_dev *d = &h->devs[i];

		if (d->group < 0)
			continue;
		if (!made[d->group] && group_dir(h, d->group) < 0)
			break;
		made[d->group] = 1;
		snprintf(from, sizeof(from), "sys/kernel/iommu_groups/%d/devices/%s", d->group, d->bdf);
		if (fh_rlink(h, from, d->path) < 0)
			break;
		snprintf(from, sizeof(from), "%s/iommu/ivhd%d/devices/%s",
			 h->devs[h->rcs[d->rc].iommu].path, d->rc, d->bdf);
		snprintf(to, sizeof(to), "%s", d->path);
		if (fh_rlink(h, from, to) < 0)
			break;
	}
	free(made);
	return h->cause ? -h->err : 0;
}

/* --- drivers ------------------------------------------------------------------ */

static bool seen(const char **list, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

static int driver_dir(struct fh_host *h, const char *name)
{
	char path[256], mod[64];
	const char *m = fh_driver_module(name, mod, sizeof(mod));
	const struct fh_module *fm = m ? fh_module_get(h, m) : NULL;

	if (fm && !fm->loaded)
		fm = NULL;
	int fd, r = 0;

	snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s", name);
	if (fh_mkdir(h, h->rootfd, path) < 0 || (fd = fh_opendir(h, path)) < 0)
		return -h->err;
	if (fh_put(h, fd, "bind", "", 0, WO) < 0 || fh_put(h, fd, "unbind", "", 0, WO) < 0 ||
	    fh_put(h, fd, "new_id", "", 0, WO) < 0 || fh_put(h, fd, "remove_id", "", 0, WO) < 0 ||
	    fh_put(h, fd, "uevent", "", 0, WO) < 0)
		r = -h->err;
	close(fd);
	if (r == 0 && fm) {
		char to[128];

		snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/module", name);
		snprintf(to, sizeof(to), "sys/module/%s", fm->name);
		r = fh_rlink(h, path, to);
	}
	return r;
}

int fh_write_drivers(struct fh_host *h)
{
	const char **names = fh_alloc((size_t)(h->n_devs + h->n_mods + 1) * sizeof(char *));
	int n = 0;
	char from[512];

	names[n++] = "pcieport";
	for (int i = 0; i < h->n_mods; i++)
		if (h->mods[i].loaded && h->mods[i].driver && !seen(names, n, h->mods[i].driver))
			names[n++] = h->mods[i].driver;
	for (int i = 0; i < h->n_devs; i++)
		if (h->devs[i].driver && !seen(names, n, h->devs[i].driver))
			names[n++] = h->devs[i].driver;
	for (int i = 0; i < n; i++)
		if (driver_dir(h, names[i]) < 0)
			break;
	free(names);
	for (int i = 0; !h->cause && i < h->n_devs; i++) {
		const struct fh_dev *d = &h->devs[i];

		if (!d->driver)
			continue;
		snprintf(from, sizeof(from), "sys/bus/pci/drivers/%s/%s", d->driver, d->bdf);
		fh_rlink(h, from, d->path);
	}
	return h->cause ? -h->err : 0;
}

/* --- modules ------------------------------------------------------------------ */

static bool depends_on(const struct fh_module *m, const char *name)
{
	const char *driver, *deps;
	bool oot;
	unsigned size;
	size_t n = strlen(name);

	fh_module_facts(m->name, &driver, &deps, &oot, &size);
	for (const char *p = deps; (p = strstr(p, name)); p += n)
		if ((p == deps || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* Parameters every kernel shows for these modules; the scenario's win. */
static const char *const default_params[][3] = {
	{ "vfio", "enable_unsafe_noiommu_mode", "N" },
	{ "vfio_iommu_type1", "allow_unsafe_interrupts", "N" },
	{ "vfio_iommu_type1", "dma_entry_limit", "65535" },
	{ "vfio_iommu_type1", "disable_hugepages", "N" },
	{ "vfio_pci", "ids", "" },
	{ "vfio_pci", "disable_vga", "N" },
	{ "vfio_pci", "disable_idle_d3", "N" },
	{ "vfio_pci", "enable_sriov", "N" },
	{ "vfio_pci", "nointxmask", "N" },
	{ "vfio_pci", "disable_denylist", "N" },
	{ "kvm_amd", "npt", "Y" },
	{ "kvm_amd", "nested", "1" },
	{ "kvm_amd", "avic", "N" },
	{ "kvm_amd", "sev", "N" },
};

static int params(struct fh_host *h, int fd, const struct fh_module *m)
{
	const cJSON *it;

	for (size_t i = 0; i < sizeof(default_params) / sizeof(default_params[0]); i++)
		if (!strcmp(default_params[i][0], m->name) &&
		    fh_putf(h, fd, default_params[i][1], RO, "%s\n", default_params[i][2]) < 0)
			return -h->err;
	cJSON_ArrayForEach(it, m->params)
		if (fh_putf(h, fd, it->string, RO, "%s\n", it->valuestring) < 0)
			return -h->err;
	return 0;
}

static int module_holders(const struct fh_host *h, const struct fh_module *m)
{
	int n = 0;

	for (int i = 0; i < h->n_mods; i++)
		if (h->mods[i].loaded && !h->mods[i].builtin && &h->mods[i] != m &&
		    depends_on(&h->mods[i], m->name))
			n++;
	return n;
}

static int module_dir(struct fh_host *h, const struct fh_module *m)
{
	char path[256], from[256], to[256];
	int fd, r = 0;

	snprintf(path, sizeof(path), "sys/module/%s/parameters", m->name);
	if (fh_mkdirs(h, h->rootfd, path) < 0 || (fd = fh_opendir(h, path)) < 0)
		return -h->err;
	r = params(h, fd, m);
	close(fd);
	snprintf(path, sizeof(path), "sys/module/%s", m->name);
	if (r < 0 || (fd = fh_opendir(h, path)) < 0)
		return -h->err;
	if (m->version && fh_putf(h, fd, "version", RO, "%s\n", m->version) < 0)
		r = -h->err;
	if (!m->builtin && r == 0 &&
	    (fh_putf(h, fd, "initstate", RO, "live\n") < 0 ||
	     fh_putf(h, fd, "refcnt", RO, "%d\n",
		     m->refcnt != FH_AUTO ? m->refcnt : module_holders(h, m)) < 0 ||
	     fh_putf(h, fd, "coresize", RO, "%u\n", m->size) < 0 ||
	     fh_putf(h, fd, "taint", RO, "%s\n", m->oot ? "OE" : "") < 0 ||
	     fh_put(h, fd, "uevent", "", 0, WO) < 0 || fh_mkdir(h, fd, "holders") < 0 ||
	     (m->srcversion && fh_putf(h, fd, "srcversion", RO, "%s\n", m->srcversion) < 0)))
		r = -h->err;
	close(fd);
	if (r < 0 || m->builtin)
		return r;
	for (int i = 0; i < h->n_mods; i++) {
		const struct fh_module *o = &h->mods[i];

		if (!o->loaded || o->builtin || o == m || !depends_on(o, m->name))
			continue;
		snprintf(from, sizeof(from), "sys/module/%s/holders/%s", m->name, o->name);
		snprintf(to, sizeof(to), "sys/module/%s", o->name);
		if (fh_rlink(h, from, to) < 0)
			return -h->err;
	}
	if (m->driver) {
		snprintf(from, sizeof(from), "sys/module/%s/drivers/pci:%s", m->name, m->driver);
		snprintf(to, sizeof(to), "sys/bus/pci/drivers/%s", m->driver);
		snprintf(path, sizeof(path), "sys/module/%s/drivers", m->name);
		if (fh_mkdir(h, h->rootfd, path) < 0 || fh_rlink(h, from, to) < 0)
			return -h->err;
	}
	return 0;
}

/* /proc/modules: newest first, which is dependents before what they use. */
static int proc_modules(struct fh_host *h)
{
	size_t cap = 256, len = 0;
	char *buf = fh_alloc(cap);
	int r;

	for (int i = 0; i < h->n_mods; i++) {
		const struct fh_module *m = &h->mods[i];
		char users[512] = "";
		size_t ul = 0;
		int n = 0;

		if (m->builtin || !m->loaded)
			continue;
		for (int k = 0; k < h->n_mods; k++)
			if (h->mods[k].loaded && !h->mods[k].builtin && k != i &&
			    depends_on(&h->mods[k], m->name) &&
			    ul + strlen(h->mods[k].name) + 2 < sizeof(users)) {
				ul += (size_t)sprintf(users + ul, "%s,", h->mods[k].name);
				n++;
			}
		while (len + 700 > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s %u %d %s Live 0x0000000000000000%s\n",
					m->name, m->size, m->refcnt != FH_AUTO ? m->refcnt : n,
					n ? users : "-", m->oot ? " (OE)" : "");
	}
	r = fh_mkdirs(h, h->rootfd, "proc");
	if (r == 0)
		r = fh_put(h, h->rootfd, "proc/modules", buf, len, RO);
	free(buf);
	return r;
}

int fh_write_modules(struct fh_host *h)
{
	if (fh_mkdirs(h, h->rootfd, "sys/module") < 0)
		return -h->err;
	for (int i = 0; i < h->n_mods; i++)
		if (h->mods[i].loaded && module_dir(h, &h->mods[i]) < 0)
			return -h->err;
	return proc_modules(h);
}
