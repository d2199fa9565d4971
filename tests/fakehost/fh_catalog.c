/* What the fake host knows about real hardware and kernel modules: GPU
 * models (contract section 7), common non-GPU devices and the modules that
 * drive them.  Figures follow the public specifications of each product;
 * where a figure only needs to be plausible it says so. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fh.h"

#define G(x) ((uint64_t)(x) << 30)
#define M(x) ((uint64_t)(x) << 20)
#define K(x) ((uint64_t)(x) << 10)

/* Instinct parts of the MI300 and MI350 families are processing
 * accelerators (class 0x1200); earlier ones report a display controller
 * (0x0380). */
static const struct fh_model models[] = {
	{ "MI300X", 0x74a1, 0x74b5, "AMD Instinct MI300X", 0x120000, 0x120000, 0x00, 5, 16,
	  G(256), G(32), 8, G(192), 1216, 4, 8, 90402 },
	{ "MI300X HF", 0x74a9, 0x74bd, "AMD Instinct MI300X HF", 0x120000, 0x120000, 0x00, 5, 16,
	  G(256), G(32), 8, G(192), 1216, 4, 8, 90402 },
	{ "MI308X", 0x74a2, 0x74b6, "AMD Instinct MI308X", 0x120000, 0x120000, 0x00, 5, 16,
	  G(256), G(32), 8, G(192), 320, 4, 4, 90402 },
	{ "MI308X HF", 0x74a8, 0x74bc, "AMD Instinct MI308X HF", 0x120000, 0x120000, 0x00, 5, 16,
	  G(256), G(32), 8, G(192), 320, 4, 4, 90402 },
	{ "MI325X", 0x74a5, 0x74b9, "AMD Instinct MI325X", 0x120000, 0x120000, 0x00, 5, 16,
	  G(256), G(32), 8, G(256), 1216, 4, 8, 90402 },
	{ "MI300A", 0x74a0, 0, "AMD Instinct MI300A", 0x120000, 0, 0x00, 5, 16,
	  G(128), 0, 0, G(128), 912, 4, 6, 90402 },
	{ "MI350X", 0x75a0, 0x75b0, "AMD Instinct MI350X", 0x120000, 0x120000, 0x00, 5, 16,
	  G(512), G(64), 8, G(288), 1024, 4, 8, 90500 },
	{ "MI355X", 0x75a3, 0x75b3, "AMD Instinct MI355X", 0x120000, 0x120000, 0x00, 5, 16,
	  G(512), G(64), 8, G(288), 1024, 4, 8, 90500 },
	{ "MI350P", 0x75a8, 0x75b8, "AMD Instinct MI350P", 0x120000, 0x120000, 0x00, 5, 16,
	  G(256), G(32), 8, G(144), 512, 4, 4, 90500 },
	{ "MI210", 0x740f, 0x7410, "AMD Instinct MI210", 0x038000, 0x038000, 0x02, 4, 16,
	  G(64), G(64), 1, G(64), 416, 4, 1, 90010 },
	{ "MI250X", 0x7408, 0, "AMD Instinct MI250X", 0x038000, 0, 0x01, 4, 16,
	  G(64), 0, 0, G(64), 440, 4, 1, 90010 },
	{ "MI250", 0x740c, 0, "AMD Instinct MI250X / MI250", 0x038000, 0, 0x01, 4, 16,
	  G(64), 0, 0, G(64), 416, 4, 1, 90010 },
	{ "V710", 0x7460, 0x7461, "AMD Radeon PRO V710", 0x038000, 0x038000, 0x00, 4, 16,
	  G(32), G(8), 4, G(28), 108, 2, 1, 110001 },
	{ "V620", 0x73a1, 0x73ae, "AMD Radeon PRO V620", 0x038000, 0x038000, 0xc1, 4, 16,
	  G(32), G(8), 4, G(32), 144, 2, 1, 100300 },
};

const struct fh_model *fh_model_find(const char *name)
{
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (strcmp(models[i].name, name) == 0)
			return &models[i];
	return NULL;
}

static const struct fh_kind kinds[] = {
	{ "nvme", 0x144d, 0xa80a, 0x144d, 0xa812, 0x010802, 0x00, "nvme", 1, true, 4, 4,
	  FH_BAR_MEM64, K(16), 0, 0 },
	{ "nic", 0x15b3, 0x1021, 0x15b3, 0x0041, 0x020000, 0x00, "mlx5_core", 2, true, 5, 16,
	  FH_BAR_PREF64, M(32), 8, 0x101e },
	{ "nic-intel", 0x8086, 0x1593, 0x8086, 0x0002, 0x020000, 0x02, "ice", 4, true, 4, 16,
	  FH_BAR_PREF64, M(32), 32, 0x1889 },
	{ "nic-bcm", 0x14e4, 0x1750, 0x14e4, 0x5045, 0x020000, 0x11, "bnxt_en", 2, true, 4, 16,
	  FH_BAR_PREF64, K(64), 0, 0 },
	{ "usb", 0x1022, 0x149c, 0x1022, 0x148c, 0x0c0330, 0x00, "xhci_hcd", 1, true, 4, 16,
	  FH_BAR_MEM64, M(1), 0, 0 },
	{ "sata", 0x1022, 0x7901, 0x1022, 0x7901, 0x010601, 0x51, "ahci", 1, true, 4, 16,
	  FH_BAR_MEM32, K(4), 0, 0 },
	{ "raid", 0x1000, 0x10e2, 0x1000, 0x4000, 0x010400, 0x00, "megaraid_sas", 1, true, 4, 8,
	  FH_BAR_MEM64, M(1), 0, 0 },
	{ "audio", 0x1002, 0xab28, 0x1002, 0xab28, 0x040300, 0x00, "snd_hda_intel", 1, true, 4, 16,
	  FH_BAR_MEM32, K(16), 0, 0 },
	{ "vga-bmc", 0x1a03, 0x2000, 0x1a03, 0x2000, 0x030000, 0x52, "ast", 1, false, 0, 0,
	  FH_BAR_MEM32, M(16), 0, 0 },
	{ "dma", 0x1022, 0x1498, 0x1022, 0x1498, 0x108000, 0x00, "ptdma", 1, true, 4, 16,
	  FH_BAR_MEM32, M(1), 0, 0 },
	{ "accel", 0x1022, 0x14ca, 0x1022, 0x14ca, 0x108000, 0x00, NULL, 1, true, 4, 16,
	  FH_BAR_MEM32, M(1), 0, 0 },
};

const struct fh_kind *fh_kind_find(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

struct modfact {
	const char *name, *driver, *deps;
	bool oot;
	unsigned size;
	const char *file;        /* under /lib/modules/KVER/kernel */
};

/* Dependencies as modinfo reports them; sizes only need to be plausible. */
static const struct modfact modfacts[] = {
	{ "vfio", NULL, "", false, 69632, "drivers/vfio/vfio.ko" },
	{ "vfio_iommu_type1", NULL, "vfio", false, 49152, "drivers/vfio/vfio_iommu_type1.ko" },
	{ "vfio_pci_core", NULL, "vfio,irqbypass", false, 94208, "drivers/vfio/pci/vfio-pci-core.ko" },
	{ "vfio_pci", "vfio-pci", "vfio_pci_core,vfio", false, 16384, "drivers/vfio/pci/vfio-pci.ko" },
	{ "irqbypass", NULL, "", false, 12288, "virt/lib/irqbypass.ko" },
	{ "iommufd", NULL, "", false, 110592, "drivers/iommu/iommufd/iommufd.ko" },
	{ "pci_stub", "pci-stub", "", false, 12288, "drivers/pci/pci-stub.ko" },
	{ "kvm", NULL, "irqbypass", false, 1409024, "arch/x86/kvm/kvm.ko" },
	{ "kvm_amd", NULL, "kvm", false, 245760, "arch/x86/kvm/kvm-amd.ko" },
	{ "gim", "gim", "vfio", true, 4980736, NULL },
	{ "amdgpu", "amdgpu", "amdxcp,drm_exec,gpu_sched,drm_buddy,drm_suballoc_helper,"
	  "drm_ttm_helper,ttm,drm_display_helper,video", true, 19398656,
	  "drivers/gpu/drm/amd/amdgpu/amdgpu.ko" },
	{ "amdxcp", NULL, "", true, 12288, "drivers/gpu/drm/amd/amdxcp/amdxcp.ko" },
	{ "drm_exec", NULL, "", false, 12288, "drivers/gpu/drm/drm_exec.ko" },
	{ "gpu_sched", NULL, "", false, 61440, "drivers/gpu/drm/scheduler/gpu-sched.ko" },
	{ "drm_buddy", NULL, "", false, 20480, "drivers/gpu/drm/drm_buddy.ko" },
	{ "drm_suballoc_helper", NULL, "", false, 16384, "drivers/gpu/drm/drm_suballoc_helper.ko" },
	{ "drm_ttm_helper", NULL, "ttm", false, 16384, "drivers/gpu/drm/drm_ttm_helper.ko" },
	{ "ttm", NULL, "", false, 110592, "drivers/gpu/drm/ttm/ttm.ko" },
	{ "drm_display_helper", NULL, "", false, 237568,
	  "drivers/gpu/drm/display/drm_display_helper.ko" },
	{ "video", NULL, "", false, 73728, "drivers/acpi/video.ko" },
	{ "nvme", "nvme", "nvme_core", false, 61440, "drivers/nvme/host/nvme.ko" },
	{ "nvme_core", NULL, "", false, 208896, "drivers/nvme/host/nvme-core.ko" },
	{ "mlx5_core", "mlx5_core", "mlxfw,psample,tls", false, 2437120,
	  "drivers/net/ethernet/mellanox/mlx5/core/mlx5_core.ko" },
	{ "mlxfw", NULL, "", false, 36864, "drivers/net/ethernet/mellanox/mlxfw/mlxfw.ko" },
	{ "psample", NULL, "", false, 20480, "net/psample/psample.ko" },
	{ "tls", NULL, "", false, 155648, "net/tls/tls.ko" },
	{ "ice", "ice", "gnss", false, 1273856, "drivers/net/ethernet/intel/ice/ice.ko" },
	{ "gnss", NULL, "", false, 20480, "drivers/gnss/gnss.ko" },
	{ "bnxt_en", "bnxt_en", "", false, 421888, "drivers/net/ethernet/broadcom/bnxt/bnxt_en.ko" },
	{ "xhci_pci", "xhci_hcd", "xhci_hcd", false, 24576, "drivers/usb/host/xhci-pci.ko" },
	{ "xhci_hcd", NULL, "", false, 356352, "drivers/usb/host/xhci-hcd.ko" },
	{ "ahci", "ahci", "libahci", false, 49152, "drivers/ata/ahci.ko" },
	{ "libahci", NULL, "", false, 53248, "drivers/ata/libahci.ko" },
	{ "megaraid_sas", "megaraid_sas", "", false, 196608,
	  "drivers/scsi/megaraid/megaraid_sas.ko" },
	{ "snd_hda_intel", "snd_hda_intel", "snd_hda_codec,snd_hda_core", false, 61440,
	  "sound/pci/hda/snd-hda-intel.ko" },
	{ "snd_hda_codec", NULL, "snd_hda_core", false, 204800, "sound/pci/hda/snd-hda-codec.ko" },
	{ "snd_hda_core", NULL, "", false, 139264, "sound/hda/snd-hda-core.ko" },
	{ "ast", "ast", "drm_shmem_helper", false, 90112, "drivers/gpu/drm/ast/ast.ko" },
	{ "drm_shmem_helper", NULL, "", false, 24576, "drivers/gpu/drm/drm_shmem_helper.ko" },
	{ "ptdma", "ptdma", "", false, 24576, "drivers/dma/ptdma/ptdma.ko" },
	{ "i2c_piix4", "piix4_smbus", "", false, 36864, "drivers/i2c/busses/i2c-piix4.ko" },
};

static const struct modfact *modfact_find(const char *name)
{
	for (size_t i = 0; i < sizeof(modfacts) / sizeof(modfacts[0]); i++)
		if (strcmp(modfacts[i].name, name) == 0)
			return &modfacts[i];
	return NULL;
}

const char *fh_driver_module(const char *driver, char *buf, size_t size)
{
	if (strcmp(driver, "pcieport") == 0)
		return NULL;
	for (size_t i = 0; i < sizeof(modfacts) / sizeof(modfacts[0]); i++)
		if (modfacts[i].driver && strcmp(modfacts[i].driver, driver) == 0)
			return modfacts[i].name;
	/* Module names use '_' where driver names often use '-'. */
	snprintf(buf, size, "%s", driver);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
	return buf;
}

void fh_module_facts(const char *name, const char **driver, const char **deps,
                     bool *oot, unsigned *size)
{
	const struct modfact *f = modfact_find(name);

	*driver = f ? f->driver : NULL;
	*deps = f ? f->deps : "";
	*oot = f ? f->oot : false;
	*size = f ? f->size : 16384;
}

const char *fh_module_catalog(int i, bool *oot)
{
	if (i < 0 || (size_t)i >= sizeof(modfacts) / sizeof(modfacts[0]))
		return NULL;
	*oot = modfacts[i].oot && !modfacts[i].file;
	return modfacts[i].name;
}

void fh_module_file(const char *name, char *buf, size_t size)
{
	const struct modfact *f = modfact_find(name);

	if (f && f->file)
		snprintf(buf, size, "%s", f->file);
	else
		snprintf(buf, size, "drivers/misc/%s.ko", name);
}
