#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/discover.h"
#include "host/hives.h"
#include "host/mode.h"
#include "base/util.h"

#define DEVICES "/sys/bus/pci/devices"
#define GROUPS "/sys/kernel/iommu_groups"

/* Reads of one device's attributes go through a descriptor on its
 * directory: one path walk per device instead of one per attribute, which
 * is most of the cost on a host with hundreds of functions. */
static ssize_t read_at(int dfd, const char *name, char *buf, size_t size)
{
	int fd = av_open_regular_at(dfd, name);
	if (fd < 0) {
		buf[0] = '\0';
		return fd;
	}
	ssize_t n;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	int err = errno;
	close(fd);
	if (n < 0) {
		buf[0] = '\0';
		return -err;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n;
}

static ssize_t link_base_at(int dfd, const char *name, char *buf, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
	if (n < 0) {
		buf[0] = '\0';
		return -errno;
	}
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base || strlen(base) >= size) {
		buf[0] = '\0';
		return -EINVAL;
	}
	strcpy(buf, base);
	return (ssize_t)strlen(buf);
}

struct ctx {
	struct av_host *host;
	struct av_model *m;
	const struct av_discover_opts *opts;
	const char *root;
	/* Driver names whose /sys/bus/pci/drivers/NAME was checked. */
	char (*drivers_ok)[AV_DRIVER_LEN];
	int n_drivers_ok;
};

static void diag_file(struct ctx *c, const char *bdf, const char *attr, const char *what)
{
	av_model_diag(c->m, "%s%s/%s/%s: %s", av_host_is_real_root(c->host) ? "" : c->root,
	              DEVICES, bdf, attr, what);
}

static int read_hex_attr(struct ctx *c, int dfd, const char *bdf, const char *attr,
                         bool required, unsigned long *out)
{
	char buf[64];
	long v;
	ssize_t n = read_at(dfd, attr, buf, sizeof(buf));
	if (n < 0) {
		if (required || n != -ENOENT)
			diag_file(c, bdf, attr, av_strerror((int)n));
		return (int)n;
	}
	if (av_parse_long(buf, 16, &v) < 0 || v < 0) {
		char what[96];
		snprintf(what, sizeof(what), "not a hexadecimal number: '%.40s'", buf);
		diag_file(c, bdf, attr, what);
		return -EINVAL;
	}
	*out = (unsigned long)v;
	return 0;
}

static int read_int_attr(struct ctx *c, int dfd, const char *bdf, const char *attr, int *out)
{
	char buf[64];
	long v;
	ssize_t n = read_at(dfd, attr, buf, sizeof(buf));
	if (n < 0) {
		if (n != -ENOENT)
			diag_file(c, bdf, attr, av_strerror((int)n));
		return (int)n;
	}
	if (av_parse_long(buf, 10, &v) < 0 || v < INT_MIN || v > INT_MAX) {
		char what[96];
		snprintf(what, sizeof(what), "not a number: '%.40s'", buf);
		diag_file(c, bdf, attr, what);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

/* Room for element n of arr, which holds n: the capacity doubles at each
 * power of two, so appending n elements copies O(n) of them.  One
 * realloc per element made discovery quadratic where realloc copies (a
 * host with 100 000 IOMMU groups took minutes under ASan).  Returns the
 * array to use, or NULL (arr is then still valid). */
static void *grow(void *arr, int n, size_t elem)
{
	if (n > 0 && (n & (n - 1)) != 0)
		return arr;
	size_t cap = n ? (size_t)n * 2 : 1;
	return realloc(arr, cap * elem);
}

static bool driver_registered(struct ctx *c, const char *driver)
{
	for (int i = 0; i < c->n_drivers_ok; i++)
		if (strcmp(c->drivers_ok[i], driver) == 0)
			return true;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", driver);
	if (!av_is_dir(c->host, path))
		return false;
	void *grown = grow(c->drivers_ok, c->n_drivers_ok, sizeof(*c->drivers_ok));
	if (grown) {
		c->drivers_ok = grown;
		snprintf(c->drivers_ok[c->n_drivers_ok++], AV_DRIVER_LEN, "%s", driver);
	}
	return true;
}

/* "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0" -> "/sys/devices/..." */
static char *sysfs_dir_of(const char *target)
{
	while (strncmp(target, "../", 3) == 0)
		target += 3;
	return av_strdup_printf("/sys/%s", target);
}

static void read_gpu_details(struct ctx *c, int dfd, struct av_func *f)
{
	char buf[256];
	unsigned long v;
	int iv;

	if (read_hex_attr(c, dfd, f->bdf, "subsystem_vendor", false, &v) == 0)
		f->subsys_vendor = (uint16_t)v;
	if (read_hex_attr(c, dfd, f->bdf, "subsystem_device", false, &v) == 0)
		f->subsys_device = (uint16_t)v;
	if (read_hex_attr(c, dfd, f->bdf, "revision", false, &v) == 0)
		f->revision = (uint8_t)v;
	if (read_at(dfd, "driver_override", buf, sizeof(f->driver_override)) > 0 && strcmp(buf, "(null)") != 0)
		memcpy(f->driver_override, buf, sizeof(f->driver_override));
	if (read_int_attr(c, dfd, f->bdf, "enable", &iv) == 0)
		f->enable_count = iv;
	if (read_int_attr(c, dfd, f->bdf, "boot_vga", &iv) == 0)
		f->boot_vga = iv != 0;

	char phys[AV_BDF_LEN + 8];
	if (link_base_at(dfd, "physfn", phys, sizeof(phys)) >= 0)
		f->physfn = -2; /* resolved to an index once every function is known */

	if (read_int_attr(c, dfd, f->bdf, "sriov_totalvfs", &iv) == 0)
		f->sriov_total = iv;
	if (f->sriov_total >= 0) {
		if (read_int_attr(c, dfd, f->bdf, "sriov_numvfs", &iv) == 0)
			f->sriov_num = iv;
		if (read_int_attr(c, dfd, f->bdf, "sriov_drivers_autoprobe", &iv) == 0)
			f->sriov_autoprobe = iv;
	}

	if (read_at(dfd, "xgmi_hive_info/xgmi_hive_id", buf, sizeof(buf)) > 0 && strcmp(buf, "0") != 0)
		f->xgmi_hive_id = strdup(buf);

	if (av_func_on(f, "vfio-pci")) {
		int vd = openat(dfd, "vfio-dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = vd >= 0 ? fdopendir(vd) : NULL;
		if (!d && vd >= 0)
			close(vd);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (strncmp(de->d_name, "vfio", 4) == 0 && !f->vfio_cdev)
				f->vfio_cdev = av_strdup_printf("/dev/vfio/devices/%s", de->d_name);
		if (d)
			closedir(d);
	}
	if (av_func_on(f, "amdgpu")) {
		int dd = openat(dfd, "drm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = dd >= 0 ? fdopendir(dd) : NULL;
		if (!d && dd >= 0)
			close(dd);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (strncmp(de->d_name, "card", 4) && strncmp(de->d_name, "renderD", 7))
				continue;
			char **nodes = grow(f->drm_nodes, f->n_drm_nodes, sizeof(char *));
			if (!nodes)
				break;
			f->drm_nodes = nodes;
			if ((nodes[f->n_drm_nodes] = av_strdup_printf("/dev/dri/%s", de->d_name)))
				f->n_drm_nodes++;
		}
		if (d)
			closedir(d);
	}
}

/* Reads one function.  Returns 0 when it was added to the model. */
static int read_function(struct ctx *c, int devfd, const char *bdf, struct av_func *f)
{
	char target[PATH_MAX];
	unsigned long v;

	memset(f, 0, sizeof(*f));
	snprintf(f->bdf, sizeof(f->bdf), "%s", bdf);
	f->iommu_group = -1;
	f->numa_node = -1;
	f->parent = -1;
	f->physfn = -1;
	f->sriov_total = -1;
	f->sriov_autoprobe = -1;
	f->enable_count = -1;
	f->hive = -1;

	ssize_t n = readlinkat(devfd, bdf, target, sizeof(target) - 1);
	if (n >= 0) {
		target[n] = '\0';
		f->sysfs_dir = sysfs_dir_of(target);
	}
	int dfd = openat(devfd, bdf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		diag_file(c, bdf, "", errno == ENOENT ? "dangling link: the device directory is missing"
		                                      : strerror(errno));
		free(f->sysfs_dir);
		return -1;
	}

	if (read_hex_attr(c, dfd, bdf, "vendor", true, &v) == 0)
		f->vendor = (uint16_t)v;
	if (read_hex_attr(c, dfd, bdf, "device", true, &v) == 0)
		f->device = (uint16_t)v;
	if (read_hex_attr(c, dfd, bdf, "class", true, &v) == 0)
		f->class_code = (uint32_t)v & 0xffffff;

	unsigned sub = f->class_code >> 8;
	f->is_bridge = sub == 0x0600 || sub == 0x0604 || sub == 0x0609;

	n = link_base_at(dfd, "driver", f->driver, sizeof(f->driver));
	if (n >= 0 && !driver_registered(c, f->driver)) {
		char what[256];
		snprintf(what, sizeof(what), "dangling link to driver '%s' (no /sys/bus/pci/drivers/%s)",
		         f->driver, f->driver);
		diag_file(c, bdf, "driver", what);
		f->driver[0] = '\0';
	}

	char group[32];
	if (link_base_at(dfd, "iommu_group", group, sizeof(group)) >= 0) {
		long g;
		if (av_parse_long(group, 10, &g) == 0 && g >= 0 && g <= INT_MAX)
			f->iommu_group = (int)g;
		else
			diag_file(c, bdf, "iommu_group", "link target is not a group number");
	}
	int numa;
	if (read_int_attr(c, dfd, bdf, "numa_node", &numa) == 0)
		f->numa_node = numa < 0 ? -1 : numa;

	if (f->vendor == AV_VENDOR_AMD)
		f->known = av_ids_lookup(f->device);
	if ((f->vendor == AV_VENDOR_AMD && (f->known || av_class_is_gpu(f->class_code)))
	    || av_config_lab_device(c->opts->config, f->vendor, f->device)) {
		f->role = AV_ROLE_PF;
		read_gpu_details(c, dfd, f);
		if (f->physfn == -2 || (f->known && f->known->is_vf))
			f->role = AV_ROLE_VF;
	}
	close(dfd);
	return 0;
}

static int cmp_func(const void *a, const void *b)
{
	return strcmp(((const struct av_func *)a)->bdf, ((const struct av_func *)b)->bdf);
}

static int cmp_group(const void *a, const void *b)
{
	int x = ((const struct av_group *)a)->id, y = ((const struct av_group *)b)->id;
	return (x > y) - (x < y);
}

static int scan_functions(struct ctx *c)
{
	struct av_model *m = c->m;
	int devfd = av_open(c->host, DEVICES, O_RDONLY | O_DIRECTORY, 0);
	if (devfd < 0)
		return devfd;
	int dupfd = dup(devfd);
	DIR *d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
	if (!d) {
		int err = errno;
		if (dupfd >= 0)
			close(dupfd);
		close(devfd);
		return -err;
	}
	int cap = 64;
	m->funcs = malloc((size_t)cap * sizeof(*m->funcs));
	struct dirent *de;
	while (m->funcs && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!av_bdf_valid(de->d_name)) {
			av_model_diag(m, "%s%s/%s: not a PCI address, ignored",
			              av_host_is_real_root(c->host) ? "" : c->root, DEVICES, de->d_name);
			continue;
		}
		if (m->n_funcs == cap) {
			cap *= 2;
			struct av_func *nf = realloc(m->funcs, (size_t)cap * sizeof(*nf));
			if (!nf)
				break;
			m->funcs = nf;
		}
		if (read_function(c, devfd, de->d_name, &m->funcs[m->n_funcs]) == 0)
			m->n_funcs++;
	}
	closedir(d);
	close(devfd);
	if (!m->funcs)
		return -ENOMEM;
	if (m->n_funcs > 1)
		qsort(m->funcs, (size_t)m->n_funcs, sizeof(*m->funcs), cmp_func);
	return 0;
}

/* Parent bridges, PF <-> VF links, GPU list. */
static void link_functions(struct ctx *c)
{
	struct av_model *m = c->m;
	char buf[PATH_MAX], name_buf[PATH_MAX];

	for (int i = 0; i < m->n_funcs; i++) {
		struct av_func *f = &m->funcs[i];
		if (f->sysfs_dir) {
			/* The parent is the path component before our own BDF. */
			char *slash = strrchr(f->sysfs_dir, '/');
			if (slash && slash > f->sysfs_dir) {
				char *prev = slash - 1;
				while (prev > f->sysfs_dir && *prev != '/')
					prev--;
				size_t len = (size_t)(slash - prev - 1);
				if (len == 12) {
					char parent[13];
					memcpy(parent, prev + 1, 12);
					parent[12] = '\0';
					f->parent = av_model_find(m, parent);
				}
			}
		}
		if (f->role == AV_ROLE_PF && f->sriov_num > 0) {
			for (int k = 0;; k++) {
				char name[96], vf[AV_BDF_LEN + 8];
				snprintf(name, sizeof(name), "%s/%s/virtfn%d", DEVICES, f->bdf, k);
				if (av_read_link_base(c->host, name, vf, sizeof(vf)) < 0)
					break;
				int vi = av_model_find(m, vf);
				if (vi < 0) {
					av_model_diag(m, "%s: virtfn%d points to %s, which is not in %s",
					              av_host_path(c->host, name, buf, sizeof(buf)), k, vf, DEVICES);
					continue;
				}
				if (m->funcs[vi].role == AV_ROLE_OTHER)
					continue;
				m->funcs[vi].role = AV_ROLE_VF;
				m->funcs[vi].physfn = i;
				av_int_push(&f->vfs, &f->n_vfs, vi);
			}
			if (f->n_vfs != f->sriov_num) {
				snprintf(name_buf, sizeof(name_buf), "%s/%s/sriov_numvfs", DEVICES, f->bdf);
				av_model_diag(m, "%s: says %d VFs but %d virtfn links resolve",
				              av_host_path(c->host, name_buf, buf, sizeof(buf)), f->sriov_num, f->n_vfs);
			}
		}
	}
	for (int i = 0; i < m->n_funcs; i++) {
		struct av_func *f = &m->funcs[i];
		if (f->role == AV_ROLE_VF && f->physfn < 0) {
			/* A VF whose PF does not list it (or whose physfn is broken). */
			char name[64], pf[AV_BDF_LEN + 8];
			snprintf(name, sizeof(name), "%s/%s/physfn", DEVICES, f->bdf);
			f->physfn = -1;
			if (av_read_link_base(c->host, name, pf, sizeof(pf)) >= 0) {
				int pi = av_model_find(m, pf);
				if (pi >= 0 && m->funcs[pi].role == AV_ROLE_PF) {
					f->physfn = pi;
					av_int_push(&m->funcs[pi].vfs, &m->funcs[pi].n_vfs, i);
				}
			}
		}
		if (f->role == AV_ROLE_PF)
			av_int_push(&m->gpus, &m->n_gpus, i);
	}
}

static void name_functions(struct ctx *c)
{
	for (int i = 0; i < c->m->n_funcs; i++) {
		struct av_func *f = &c->m->funcs[i];
		if (!av_func_is_gpu(f))
			continue;
		f->pci_name = av_pcidb_device_name(c->opts->pcidb, f->vendor, f->device);
		if (f->known)
			f->name = strdup(f->known->name);
		else if (f->pci_name && f->vendor == AV_VENDOR_AMD)
			f->name = av_strdup_printf("AMD %s", f->pci_name);
		else if (f->pci_name)
			f->name = strdup(f->pci_name);
		else
			f->name = av_strdup_printf("GPU [%04x:%04x]", f->vendor, f->device);
	}
}

static bool member_allows_vfio(const struct av_func *f)
{
	return f->is_bridge || !f->driver[0] || av_func_on(f, "vfio-pci") || av_func_on(f, "pci-stub");
}

static void scan_groups(struct ctx *c)
{
	struct av_model *m = c->m;
	char path[PATH_MAX], buf[PATH_MAX];
	DIR *d = av_opendir(c->host, GROUPS);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		long id;
		if (de->d_name[0] == '.')
			continue;
		if (av_parse_long(de->d_name, 10, &id) < 0 || id < 0 || id > INT_MAX) {
			av_model_diag(m, "%s/%s: not an IOMMU group number, ignored",
			              av_host_path(c->host, GROUPS, buf, sizeof(buf)), de->d_name);
			continue;
		}
		struct av_group *ng = grow(m->groups, m->n_groups, sizeof(*ng));
		if (!ng)
			break;
		m->groups = ng;
		struct av_group *g = &m->groups[m->n_groups++];
		memset(g, 0, sizeof(*g));
		g->id = (int)id;
		g->viable = true;
		snprintf(path, sizeof(path), "%s/%ld/type", GROUPS, id);
		av_read_text(c->host, path, g->type, sizeof(g->type));
		snprintf(path, sizeof(path), "/dev/vfio/%ld", id);
		g->vfio_node = av_exists(c->host, path);

		snprintf(path, sizeof(path), "%s/%ld/devices", GROUPS, id);
		DIR *md = av_opendir(c->host, path);
		if (!md) {
			av_model_diag(m, "%s: %s", av_host_path(c->host, path, buf, sizeof(buf)), strerror(errno));
			continue;
		}
		struct dirent *me;
		while ((me = readdir(md))) {
			if (me->d_name[0] == '.')
				continue;
			int fi = av_model_find(m, me->d_name);
			if (fi < 0) {
				av_model_diag(m, "%s/%s: member is not in %s", av_host_path(c->host, path, buf, sizeof(buf)),
				              me->d_name, DEVICES);
				continue;
			}
			av_int_push(&g->members, &g->n_members, fi);
			if (m->funcs[fi].iommu_group != g->id)
				av_model_diag(m, "%s%s/%s/iommu_group: says %d, but group %d lists it",
				              av_host_is_real_root(c->host) ? "" : c->root, DEVICES, me->d_name,
				              m->funcs[fi].iommu_group, g->id);
			if (!member_allows_vfio(&m->funcs[fi]))
				g->viable = false;
		}
		closedir(md);
	}
	closedir(d);
	if (m->n_groups > 1)
		qsort(m->groups, (size_t)m->n_groups, sizeof(*m->groups), cmp_group);
	for (int gi = 0; gi < m->n_groups; gi++) {
		struct av_group *g = &m->groups[gi];
		for (int k = 1; k < g->n_members; k++) /* insertion sort: groups are small */
			for (int j = k; j > 0 && g->members[j - 1] > g->members[j]; j--) {
				int t = g->members[j];
				g->members[j] = g->members[j - 1];
				g->members[j - 1] = t;
			}
	}
	m->iommu_enabled = m->n_groups > 0;
	for (int i = 0; i < m->n_funcs; i++) {
		struct av_func *f = &m->funcs[i];
		if (f->iommu_group >= 0 && !av_model_group(m, f->iommu_group)) {
			av_model_diag(m, "%s%s/%s/iommu_group: points to group %d, which %s does not have",
			              av_host_is_real_root(c->host) ? "" : c->root, DEVICES, f->bdf,
			              f->iommu_group, GROUPS);
			f->iommu_group = -1;
		}
	}
}

static void read_host_facts(struct ctx *c)
{
	struct av_model *m = c->m;
	char buf[256];
	m->have_kfd = av_exists(c->host, "/dev/kfd") || av_exists(c->host, "/sys/class/kfd");
	m->have_vfio_container = av_exists(c->host, "/dev/vfio/vfio");
	m->have_iommufd = av_exists(c->host, "/dev/iommu");
	if (av_read_text(c->host, "/proc/sys/kernel/hostname", buf, sizeof(buf)) > 0
	    || av_read_text(c->host, "/etc/hostname", buf, sizeof(buf)) > 0)
		m->hostname = strdup(buf);
}

int av_discover(struct av_host *host, const struct av_discover_opts *opts, struct av_model *out)
{
	static const struct av_discover_opts no_opts;
	struct ctx c = { .host = host, .m = out, .opts = opts ? opts : &no_opts, .root = av_host_root(host) };

	memset(out, 0, sizeof(*out));
	out->config = c.opts->config;
	int r = scan_functions(&c);
	if (r < 0) {
		free(c.drivers_ok);
		return r;
	}
	link_functions(&c);
	name_functions(&c);
	scan_groups(&c);
	read_host_facts(&c);
	av_hives_resolve(host, out, c.opts->record_hives);
	av_mode_detect(out, c.opts->forced_mode_set, c.opts->forced_mode);
	av_select(out);
	free(c.drivers_ok);
	return 0;
}
