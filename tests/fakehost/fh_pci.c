/* One directory per PCI function under /sys/devices, with the attribute
 * files and links of drivers/pci/pci-sysfs.c, iov.c and the driver core,
 * plus its /sys/bus/pci/devices link. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fh.h"
#include "pciconfig.h"

#define RO 0444
#define RW 0644
#define WO 0200

static const char *speed_name(int gen)
{
	static const char *const names[] = {
		"Unknown", "2.5 GT/s PCIe", "5.0 GT/s PCIe", "8.0 GT/s PCIe", "16.0 GT/s PCIe",
		"32.0 GT/s PCIe", "64.0 GT/s PCIe",
	};

	return gen >= 0 && gen <= 6 ? names[gen] : names[0];
}

static void cpu_range(const struct fh_host *h, int node, int *first, int *last)
{
	int per = h->cpus / h->sockets;

	if (node < 0 || node >= h->sockets || per == 0) {
		*first = 0;
		*last = h->cpus - 1;
	} else {
		*first = node * per;
		*last = node == h->sockets - 1 ? h->cpus - 1 : (node + 1) * per - 1;
	}
}

/* A cpumask as sysfs prints it ("%*pb"): 32-bit hex words, most
 * significant first, the first one only as wide as the CPUs it holds. */
static void cpu_mask(const struct fh_host *h, int node, char *buf, size_t size)
{
	int first, last, words = (h->cpus + 31) / 32;
	int top = h->cpus % 32 ? (h->cpus % 32 + 3) / 4 : 8;
	size_t len = 0;

	cpu_range(h, node, &first, &last);
	for (int w = words - 1; w >= 0 && len + 10 < size; w--) {
		uint32_t v = 0;

		for (int b = 0; b < 32; b++) {
			int cpu = w * 32 + b;

			if (cpu >= first && cpu <= last)
				v |= 1u << b;
		}
		if (w == words - 1)
			len += (size_t)snprintf(buf + len, size - len, "%0*x", top, v);
		else
			len += (size_t)snprintf(buf + len, size - len, ",%08x", v);
	}
}

static uint32_t rebar_sizes(uint64_t max)
{
	uint32_t mask = 0;

	/* 256 MiB (the size without resizing) up to the largest. */
	for (int n = 8; n < 28 && (1ull << (n + 20)) <= max; n++)
		mask |= 1u << n;
	return mask;
}

static int size_enc(uint64_t size)
{
	int n = 0;

	while (n < 28 && (1ull << (n + 20)) < size)
		n++;
	return n;
}

static void cfg_bar(struct pcicfg_bar *c, const struct fh_bar *b)
{
	c->kind = b->type == FH_BAR_MEM32 ? PCICFG_BAR_MEM32 :
		  b->type == FH_BAR_NONE ? PCICFG_BAR_NONE : PCICFG_BAR_MEM64;
	c->prefetch = b->type == FH_BAR_PREF64;
	c->addr = b->state == FH_BAR_ASSIGNED || b->state == FH_BAR_LOW ? b->start : 0;
}

static size_t config(const struct fh_host *h, const struct fh_dev *d, uint8_t *buf)
{
	struct pcicfg_desc c;
	bool vf = d->physfn >= 0;

	memset(&c, 0, sizeof(c));
	/* A VF's own ID registers read as all ones; sysfs shows the real IDs. */
	c.vendor = vf ? 0xffff : d->vendor;
	c.device = vf ? 0xffff : d->device;
	c.command = vf ? 0 : d->driver || d->bridge ? 0x0406 : 0;
	c.subsys_vendor = d->ss_vendor;
	c.subsys_device = d->ss_device;
	c.class_code = d->class_code;
	c.revision = d->revision;
	c.irq_pin = vf || d->irq == 0 ? 0 : 1;
	c.irq_line = (uint8_t)d->irq;
	c.header_type = d->bridge ? 1 : 0;
	c.multifunction = d->multifunction;
	for (int b = 0; !vf && b < 6; b++)
		cfg_bar(&c.bars[b], &d->bars[b]);
	if (d->rom.size && d->rom.state == FH_BAR_ASSIGNED)
		c.rom = (uint32_t)d->rom.start;
	c.primary_bus = (uint8_t)d->bus;
	c.secondary_bus = (uint8_t)d->secondary;
	c.subordinate_bus = (uint8_t)d->subordinate;
	c.mem_base = d->win_mem[0];
	c.mem_limit = d->win_mem[1];
	c.pref_base = d->win_pref[0];
	c.pref_limit = d->win_pref[1];
	c.pm = d->pm;
	c.msi = !vf;
	c.msix = d->msix;
	c.msix_entries = 64;
	c.pcie = d->pcie >= 0;
	c.port_type = (uint8_t)(d->pcie >= 0 ? d->pcie : 0);
	c.flr = d->flr;
	c.link_speed = (uint8_t)d->link_speed;
	c.link_width = (uint8_t)d->link_width;
	c.max_link_speed = (uint8_t)d->max_speed;
	c.max_link_width = (uint8_t)d->max_width;
	c.ari_fwd_supported = d->ari_fwd >= 1;
	c.ari_fwd_enabled = d->ari_fwd == 2;
	c.ari = d->ari;
	c.ari_next_fn = d->ari_next_fn;
	if (d->sriov) {
		const struct fh_sriov *s = d->sriov;

		c.sriov = true;
		c.sr.ctrl = (uint16_t)((s->num > 0 ? PCICFG_SRIOV_CTRL_VFE | PCICFG_SRIOV_CTRL_MSE : 0) |
				       (s->ari_hierarchy ? PCICFG_SRIOV_CTRL_ARI : 0));
		c.sr.initial_vfs = c.sr.total_vfs = (uint16_t)s->total;
		c.sr.num_vfs = (uint16_t)s->num;
		c.sr.offset = (uint16_t)s->offset;
		c.sr.stride = (uint16_t)s->stride;
		c.sr.vf_device = s->vf_device;
		c.sr.supported_pages = 0x553;   /* 4K, 16K, 64K, 256K, 1M, 4M */
		c.sr.system_page = 1;           /* 4K */
		for (int b = 0; b < 6; b++)
			cfg_bar(&c.sr.vf_bars[b], &s->vf_bars[b]);
	}
	if (d->acs) {
		c.acs = true;
		c.acs_cap = PCICFG_ACS_SV | PCICFG_ACS_TB | PCICFG_ACS_RR | PCICFG_ACS_CR |
			    PCICFG_ACS_UF | PCICFG_ACS_EC | PCICFG_ACS_DT;
		c.acs_ctrl = d->acs == 1 ? PCICFG_ACS_SV | PCICFG_ACS_RR | PCICFG_ACS_CR |
					   PCICFG_ACS_UF : 0;
	}
	if (d->rebar_bar >= 0) {
		c.n_rebar = 1;
		c.rebar[0].bar = (uint8_t)d->rebar_bar;
		c.rebar[0].sizes = rebar_sizes(d->rebar_max);
		c.rebar[0].current = (uint8_t)size_enc(d->rebar_cur);
	}
	if (d->gpuiov) {
		c.vsec = true;
		c.vsec_id = 0x0002;   /* GPU-IOV, what GIM looks for */
		c.vsec_rev = 1;
	}
	c.size = d->config_size ? (size_t)d->config_size :
		 d->pcie >= 0 ? PCICFG_SIZE_EXT : PCICFG_SIZE_LEGACY;
	(void)h;
	return pcicfg_build(&c, buf, PCICFG_SIZE_EXT);
}

/* Reset methods the kernel finds at probe: FLR when the device has it; a
 * secondary bus reset when it is alone below a bridge (VFs came later). */
static void reset_methods(const struct fh_host *h, int i, char *buf, size_t size)
{
	const struct fh_dev *d = &h->devs[i];
	bool alone = d->parent >= 0 && d->physfn < 0;

	for (int c = alone ? h->devs[d->parent].first_child : -1; c >= 0;
	     c = h->devs[c].next_sibling)
		if (c != i && h->devs[c].physfn < 0)
			alone = false;
	snprintf(buf, size, "%s%s%s", d->flr ? "flr" : "", d->flr && alone ? " " : "",
		 alone ? "bus" : "");
}

static int put_link(struct fh_host *h, int dfd, const struct fh_dev *d, const char *name,
                    const char *to)
{
	char *rel = fh_relpath(d->path, to);
	int r = fh_link(h, dfd, name, rel);

	free(rel);
	return r;
}

static int attrs(struct fh_host *h, int dfd, const struct fh_dev *d)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, d->attrs) {
		const char *slash = strrchr(it->string, '/');

		if (slash) {
			char dir[512];

			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - it->string), it->string);
			if (fh_mkdirs(h, dfd, dir) < 0)
				return -h->err;
		}
		if (cJSON_IsNull(it)) {
			if (unlinkat(dfd, it->string, 0) < 0 &&
			    unlinkat(dfd, it->string, AT_REMOVEDIR) < 0 && errno != ENOENT)
				return fh_fail(h, errno, "%s: cannot remove %s", d->bdf, it->string);
		} else if (fh_put(h, dfd, it->string, it->valuestring, strlen(it->valuestring), RW) < 0) {
			return -h->err;
		}
	}
	return 0;
}

static int sriov_files(struct fh_host *h, int dfd, const struct fh_dev *d)
{
	const struct fh_sriov *s = d->sriov;
	char name[32], to[512];

	if (fh_putf(h, dfd, "sriov_totalvfs", RO, "%d\n", s->total) < 0 ||
	    fh_putf(h, dfd, "sriov_numvfs", 0664, "%d\n", s->num) < 0 ||
	    fh_putf(h, dfd, "sriov_offset", RO, "%d\n", s->offset) < 0 ||
	    fh_putf(h, dfd, "sriov_stride", RO, "%d\n", s->stride) < 0 ||
	    fh_putf(h, dfd, "sriov_vf_device", RO, "%x\n", s->vf_device) < 0 ||
	    fh_putf(h, dfd, "sriov_drivers_autoprobe", RW, "%d\n", s->autoprobe) < 0 ||
	    fh_putf(h, dfd, "sriov_vf_total_msix", RO, "0\n") < 0)
		return -h->err;
	for (int v = 0; v < s->num; v++) {
		snprintf(name, sizeof(name), "virtfn%d", v);
		snprintf(to, sizeof(to), "%s", h->devs[s->first_vf + v].path);
		if (put_link(h, dfd, d, name, to) < 0)
			return -h->err;
	}
	return 0;
}

static int links(struct fh_host *h, int dfd, const struct fh_dev *d, int vfio_minor)
{
	char to[512];

	if (put_link(h, dfd, d, "subsystem", "sys/bus/pci") < 0)
		return -h->err;
	if (d->group >= 0) {
		const struct fh_rc *rc = &h->rcs[d->rc];

		snprintf(to, sizeof(to), "sys/kernel/iommu_groups/%d", d->group);
		if (put_link(h, dfd, d, "iommu_group", to) < 0)
			return -h->err;
		snprintf(to, sizeof(to), "%s/iommu/ivhd%d", h->devs[rc->iommu].path, d->rc);
		if (put_link(h, dfd, d, "iommu", to) < 0)
			return -h->err;
	}
	if (d->driver) {
		snprintf(to, sizeof(to), "sys/bus/pci/drivers/%s", d->driver);
		if (put_link(h, dfd, d, "driver", to) < 0)
			return -h->err;
	}
	if (d->physfn >= 0 && put_link(h, dfd, d, "physfn", h->devs[d->physfn].path) < 0)
		return -h->err;
	if (vfio_minor >= 0) {
		snprintf(to, sizeof(to), "vfio-dev/vfio%d", vfio_minor);
		if (fh_mkdirs(h, dfd, to) < 0)
			return -h->err;
	}
	snprintf(to, sizeof(to), "sys/bus/pci/devices/%s", d->bdf);
	return fh_rlink(h, to, d->path);
}

static int text_files(struct fh_host *h, int dfd, int i)
{
	const struct fh_dev *d = &h->devs[i];
	char buf[4096], mod[160];
	unsigned progif = d->class_code & 0xff;
	int first, last;

	snprintf(mod, sizeof(mod), "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02X", d->vendor,
		 d->device, d->ss_vendor, d->ss_device, (d->class_code >> 16) & 0xff,
		 (d->class_code >> 8) & 0xff);
	cpu_range(h, d->numa, &first, &last);
	cpu_mask(h, d->numa, buf, sizeof(buf));
	if (fh_putf(h, dfd, "vendor", RO, "0x%04x\n", d->vendor) < 0 ||
	    fh_putf(h, dfd, "device", RO, "0x%04x\n", d->device) < 0 ||
	    fh_putf(h, dfd, "subsystem_vendor", RO, "0x%04x\n", d->ss_vendor) < 0 ||
	    fh_putf(h, dfd, "subsystem_device", RO, "0x%04x\n", d->ss_device) < 0 ||
	    fh_putf(h, dfd, "class", RO, "0x%06x\n", d->class_code) < 0 ||
	    fh_putf(h, dfd, "revision", RO, "0x%02x\n", d->revision) < 0 ||
	    fh_putf(h, dfd, "irq", RO, "%d\n", d->irq) < 0 ||
	    fh_putf(h, dfd, "numa_node", RW, "%d\n", d->numa) < 0 ||
	    fh_putf(h, dfd, "local_cpus", RO, "%s\n", buf) < 0 ||
	    fh_putf(h, dfd, "local_cpulist", RO, first == last ? "%d\n" : "%d-%d\n", first, last) < 0 ||
	    fh_putf(h, dfd, "enable", 0600, "%d\n", d->enable) < 0 ||
	    fh_putf(h, dfd, "driver_override", RW, "%s\n",
		    d->driver_override ? d->driver_override : "(null)") < 0 ||
	    /* The prog-if is lower case here and upper case in uevent. */
	    fh_putf(h, dfd, "modalias", RO, "%si%02x\n", mod, progif) < 0 ||
	    fh_putf(h, dfd, "uevent", RW, "%s%s%sPCI_CLASS=%04X\nPCI_ID=%04X:%04X\n"
		    "PCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\nMODALIAS=%si%02X\n",
		    d->driver ? "DRIVER=" : "", d->driver ? d->driver : "", d->driver ? "\n" : "",
		    d->class_code, d->vendor, d->device, d->ss_vendor, d->ss_device, d->bdf, mod,
		    progif) < 0)
		return -h->err;
	/* Attributes nobody here reads (power_state, msi_bus, ...) are left
	 * out: large hosts are built in well under a second. */
	if (fh_putf(h, dfd, "d3cold_allowed", RW, "1\n") < 0 ||
	    fh_putf(h, dfd, "ari_enabled", RO, "%d\n", d->bridge && d->ari_fwd == 2) < 0 ||
	    fh_put(h, dfd, "remove", "", 0, WO) < 0 || fh_put(h, dfd, "rescan", "", 0, WO) < 0)
		return -h->err;
	return 0;
}

static int dev_files(struct fh_host *h, int dfd, int i, int vfio_minor)
{
	const struct fh_dev *d = &h->devs[i];
	char buf[4096];
	uint8_t cfg[PCICFG_SIZE_EXT];
	size_t n;

	if (text_files(h, dfd, i) < 0)
		return -h->err;
	n = config(h, d, cfg);
	if (fh_put(h, dfd, "config", cfg, n, RW) < 0)
		return -h->err;
	n = fh_resource_text(h, d, buf, sizeof(buf));
	if (fh_put(h, dfd, "resource", buf, n, RO) < 0)
		return -h->err;
	if (d->pcie >= 0 &&
	    (fh_putf(h, dfd, "current_link_speed", RO, "%s\n", speed_name(d->link_speed)) < 0 ||
	     fh_putf(h, dfd, "current_link_width", RO, "%d\n", d->link_width) < 0 ||
	     fh_putf(h, dfd, "max_link_speed", RO, "%s\n", speed_name(d->max_speed)) < 0 ||
	     fh_putf(h, dfd, "max_link_width", RO, "%d\n", d->max_width) < 0))
		return -h->err;
	if (!d->bridge) {
		if (d->reset_method)
			snprintf(buf, sizeof(buf), "%s", d->reset_method);
		else
			reset_methods(h, i, buf, sizeof(buf));
		/* No method: the kernel hides both files. */
		if (buf[0] && (fh_putf(h, dfd, "reset_method", RW, "%s\n", buf) < 0 ||
			       fh_put(h, dfd, "reset", "", 0, WO) < 0))
			return -h->err;
	}
	if ((d->class_code >> 8) == 0x0300 &&
	    fh_putf(h, dfd, "boot_vga", RO, "%d\n", d->boot_vga > 0) < 0)
		return -h->err;
	if (d->rebar_bar >= 0) {
		char name[32];

		snprintf(name, sizeof(name), "resource%d_resize", d->rebar_bar);
		if (fh_putf(h, dfd, name, RW, "%016llx\n",
			    (unsigned long long)rebar_sizes(d->rebar_max)) < 0)
			return -h->err;
	}
	if (d->sriov && sriov_files(h, dfd, d) < 0)
		return -h->err;
	return links(h, dfd, d, vfio_minor);
}

int fh_write_pci(struct fh_host *h)
{
	int vfio_minor = 0;

	if (fh_mkdirs(h, h->rootfd, "sys/bus/pci/devices") < 0 ||
	    fh_mkdirs(h, h->rootfd, "sys/bus/pci/drivers") < 0 ||
	    fh_mkdirs(h, h->rootfd, "sys/bus/pci/slots") < 0 ||
	    fh_put(h, h->rootfd, "sys/bus/pci/drivers_probe", "", 0, WO) < 0 ||
	    fh_put(h, h->rootfd, "sys/bus/pci/drivers_autoprobe", "1\n", 2, RW) < 0 ||
	    fh_put(h, h->rootfd, "sys/bus/pci/rescan", "", 0, WO) < 0 ||
	    fh_put(h, h->rootfd, "sys/bus/pci/resource_alignment", "", 0, RW) < 0 ||
	    fh_put(h, h->rootfd, "sys/bus/pci/uevent", "", 0, WO) < 0)
		return -h->err;
	for (int r = 0; r < h->n_rcs; r++) {
		char dir[64];

		snprintf(dir, sizeof(dir), "sys/devices/pci%04x:%02x", (unsigned)h->rcs[r].domain,
			 (unsigned)h->rcs[r].bus);
		if (fh_mkdirs(h, h->rootfd, dir) < 0)
			return -h->err;
	}
	for (int i = 0; i < h->n_devs; i++) {
		const struct fh_dev *d = &h->devs[i];
		bool cdev = h->vfio_cdev && d->driver && !strcmp(d->driver, "vfio-pci");
		int dfd, r;

		if (fh_mkdir(h, h->rootfd, d->path) < 0 || (dfd = fh_opendir(h, d->path)) < 0)
			return -h->err;
		r = dev_files(h, dfd, i, cdev ? vfio_minor : -1);
		if (cdev)
			vfio_minor++;
		if (r == 0)
			r = attrs(h, dfd, d);
		close(dfd);
		if (r < 0)
			return r;
	}
	return 0;
}
