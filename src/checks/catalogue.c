/* The catalogue (doc/checks.md) and the run loop. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"
#include "base/util.h"

static const struct av_check_def catalogue[] = {
	{ "platform.virt", CK_ALL, ck_platform_virt },
	{ "config.driver-type", CK_ALL, ck_config_driver_type },
	{ "iommu.firmware", CK_ALL, ck_iommu_firmware },
	{ "iommu.kernel", CK_ALL, ck_iommu_kernel },
	{ "iommu.group", CK_ALL, ck_iommu_group },
	{ "iommu.irq-remap", CK_ALL, ck_iommu_irq_remap },
	{ "vfio.noiommu", CK_ALL, ck_vfio_noiommu },
	{ "iommu.domain", CK_ALL, ck_iommu_domain },
	{ "cmdline.params", CK_ALL, ck_cmdline_params },
	{ "boot.pending-reboot", CK_ALL, ck_boot_pending_reboot },
	{ "boot.initramfs", CK_ALL, ck_boot_initramfs },
	{ "vfio.modules", CK_ALL, ck_vfio_modules },
	{ "amdgpu.blacklist", CK_VF | CK_PF, ck_amdgpu_blacklist },
	{ "gim.installed", CK_VF, ck_gim_installed },
	{ "gim.loaded", CK_VF, ck_gim_loaded },
	{ "gim.bound", CK_VF | CK_PF, ck_gim_bound },
	{ "gim.params", CK_VF, ck_gim_params },
	{ "gim.log", CK_VF, ck_gim_log },
	{ "gim.nodes", CK_VF, ck_gim_nodes },
	{ "pci.sriov", CK_VF, ck_pci_sriov },
	{ "pci.vf-bars", CK_VF, ck_pci_vf_bars },
	{ "pci.above-4g", CK_ALL, ck_pci_above_4g },
	{ "pci.rebar", CK_ALL, ck_pci_rebar },
	{ "pci.ari", CK_VF, ck_pci_ari },
	{ "pci.bus-range", CK_VF, ck_pci_bus_range },
	{ "pci.acs", CK_ALL, ck_pci_acs },
	{ "pci.link", CK_ALL, ck_pci_link },
	{ "group.isolation", CK_ALL, ck_group_isolation },
	{ "pf.vfs-disabled", CK_PF, ck_pf_vfs_disabled },
	{ "vf.binding", CK_VF, ck_vf_binding },
	{ "pf.reset", CK_PF, ck_pf_reset },
	{ "pf.boot-vga", CK_PF, ck_pf_boot_vga },
	{ "device.in-use", CK_ALL, ck_device_in_use },
	{ "state.interrupted", CK_ALL, ck_state_interrupted },
	{ "dra.prepared", CK_VF | CK_PF, ck_dra_prepared },
	{ "topology.numa", CK_ALL, ck_topology_numa },
	{ "topology.hive", CK_ALL, ck_topology_hive },
	{ "kubelet.plugin-dir", CK_ALL, ck_kubelet_plugin_dir },
	{ "guest.device", CK_GUEST, ck_guest_device },
};

const char *av_check_ids(int i)
{
	return i >= 0 && i < (int)(sizeof(catalogue) / sizeof(catalogue[0])) ? catalogue[i].id : NULL;
}

static unsigned mode_bit(enum av_mode m)
{
	switch (m) {
	case AV_MODE_CONTAINER: return CK_CONTAINER;
	case AV_MODE_VF: return CK_VF;
	case AV_MODE_PF: return CK_PF;
	case AV_MODE_NONE: break;
	}
	return CK_NONE;
}

int av_checks_run(struct av_host *host, struct av_pcidb *pcidb, const struct av_model *m,
                  const struct av_check_opts *opts, struct av_check_report *out)
{
	static const struct av_check_opts no_opts;
	memset(out, 0, sizeof(*out));
	struct av_ck c = {
		.host = host, .pcidb = pcidb, .m = m, .opts = opts ? opts : &no_opts, .rep = out,
	};
	c.all = c.opts->all;
	c.cfg = calloc(m->n_funcs ? (size_t)m->n_funcs : 1, sizeof(*c.cfg));
	if (!c.cfg)
		return -ENOMEM;
	if (av_read_text(host, "/proc/sys/kernel/osrelease", c.kver, sizeof(c.kver)) < 0)
		c.kver[0] = '\0';

	unsigned want = c.opts->guest ? CK_GUEST : mode_bit(m->mode);
	for (size_t i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]) && !c.err; i++) {
		/* --all widens the host checks to every mode; guest.device only
		 * makes sense inside a VM and needs --guest. */
		if (!(catalogue[i].modes & want) && (!c.all || catalogue[i].modes == CK_GUEST))
			continue;
		c.id = catalogue[i].id;
		catalogue[i].run(&c);
	}

	for (int i = 0; i < m->n_funcs; i++)
		free(c.cfg[i]);
	free(c.cfg);
	free(c.cmdline);
	free(c.klog);
	free(c.klog_source);
	free(c.vfio.v);
	ck_kmod_free(&c);
	if (c.err) {
		av_check_report_clear(out);
		return c.err;
	}
	return 0;
}
