/* PCI configuration space images for fake hosts.
 *
 * pcicfg_build() is pure: it lays out a standard header, the standard
 * capability list and the extended capability chain from a description,
 * in the register layout of the PCI and PCI Express specifications (as
 * decoded by pciutils and the kernel), so a program reading a fake
 * host's sysfs "config" file sees what it would see on real hardware. */
#ifndef FH_PCICONFIG_H
#define FH_PCICONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCICFG_SIZE_LEGACY 256
#define PCICFG_SIZE_EXT 4096

/* Capability IDs used by the builder. */
#define PCICFG_CAP_PM 0x01
#define PCICFG_CAP_MSI 0x05
#define PCICFG_CAP_SSVID 0x0d
#define PCICFG_CAP_EXP 0x10
#define PCICFG_CAP_MSIX 0x11
#define PCICFG_ECAP_VSEC 0x000b
#define PCICFG_ECAP_ACS 0x000d
#define PCICFG_ECAP_ARI 0x000e
#define PCICFG_ECAP_SRIOV 0x0010
#define PCICFG_ECAP_REBAR 0x0015

/* PCI Express capability register offsets and bits. */
#define PCICFG_EXP_FLAGS 0x02
#define PCICFG_EXP_DEVCAP 0x04
#define PCICFG_EXP_DEVCAP_FLR (1u << 28)
#define PCICFG_EXP_LNKCAP 0x0c
#define PCICFG_EXP_LNKSTA 0x12
#define PCICFG_EXP_DEVCAP2 0x24
#define PCICFG_EXP_DEVCAP2_ARI (1u << 5)
#define PCICFG_EXP_DEVCTL2 0x28
#define PCICFG_EXP_DEVCTL2_ARI (1u << 5)

/* Port types (PCI Express Flags bits 7:4). */
enum pcicfg_port {
	PCICFG_PORT_ENDPOINT = 0,
	PCICFG_PORT_LEGACY_ENDPOINT = 1,
	PCICFG_PORT_ROOT = 4,
	PCICFG_PORT_UPSTREAM = 5,
	PCICFG_PORT_DOWNSTREAM = 6,
	PCICFG_PORT_RCIEP = 9,
};

/* SR-IOV capability register offsets and control bits. */
#define PCICFG_SRIOV_CAPS 0x04
#define PCICFG_SRIOV_CTRL 0x08
#define PCICFG_SRIOV_CTRL_VFE 0x01
#define PCICFG_SRIOV_CTRL_MSE 0x08
#define PCICFG_SRIOV_CTRL_ARI 0x10
#define PCICFG_SRIOV_INITIAL 0x0c
#define PCICFG_SRIOV_TOTAL 0x0e
#define PCICFG_SRIOV_NUM 0x10
#define PCICFG_SRIOV_OFFSET 0x14
#define PCICFG_SRIOV_STRIDE 0x16
#define PCICFG_SRIOV_VF_DID 0x1a
#define PCICFG_SRIOV_SUP_PGSIZE 0x1c
#define PCICFG_SRIOV_SYS_PGSIZE 0x20
#define PCICFG_SRIOV_BAR 0x24

/* ACS bits (same layout in Capability and Control). */
#define PCICFG_ACS_SV 0x01
#define PCICFG_ACS_TB 0x02
#define PCICFG_ACS_RR 0x04
#define PCICFG_ACS_CR 0x08
#define PCICFG_ACS_UF 0x10
#define PCICFG_ACS_EC 0x20
#define PCICFG_ACS_DT 0x40

enum pcicfg_bar_kind {
	PCICFG_BAR_NONE = 0,
	PCICFG_BAR_MEM32,
	PCICFG_BAR_MEM64,   /* takes this slot and the next one */
	PCICFG_BAR_IO,
};

struct pcicfg_bar {
	uint8_t kind;          /* enum pcicfg_bar_kind */
	bool prefetch;
	uint64_t addr;         /* 0 when firmware left it unassigned */
};

struct pcicfg_rebar {
	uint8_t bar;           /* BAR index */
	uint32_t sizes;        /* bit n set: 2^(n+20) bytes supported (n < 28) */
	uint8_t current;       /* size encoding of the current size */
};

struct pcicfg_sriov {
	uint32_t caps;
	uint16_t ctrl;         /* PCICFG_SRIOV_CTRL_* */
	uint16_t initial_vfs, total_vfs, num_vfs;
	uint16_t offset, stride, vf_device;
	uint32_t supported_pages, system_page;
	struct pcicfg_bar vf_bars[6];
};

struct pcicfg_desc {
	uint16_t vendor, device, command;
	uint16_t subsys_vendor, subsys_device;
	uint32_t class_code;   /* 24 bits */
	uint8_t revision, irq_line, irq_pin;
	uint8_t header_type;   /* 0 (endpoint) or 1 (bridge) */
	bool multifunction;
	struct pcicfg_bar bars[6];  /* a type-1 header has two */
	uint32_t rom;          /* expansion ROM address; 0 = none */

	/* Type 1 only. */
	uint8_t primary_bus, secondary_bus, subordinate_bus;
	uint64_t mem_base, mem_limit;    /* non-prefetchable window; closed if base > limit */
	uint64_t pref_base, pref_limit;  /* 64-bit prefetchable window */

	bool pm, msi, msix;
	uint16_t msix_entries;

	/* PCI Express; a device without it is conventional PCI. */
	bool pcie;
	uint8_t port_type;     /* enum pcicfg_port */
	bool flr;
	uint8_t link_speed, link_width;          /* speed: 1 = 2.5 GT/s ... 6 = 64 GT/s */
	uint8_t max_link_speed, max_link_width;  /* 0 = not reported (VFs) */
	bool ari_fwd_supported, ari_fwd_enabled;

	/* Extended capabilities (PCI Express only). */
	bool ari;
	uint8_t ari_next_fn;
	bool sriov;
	struct pcicfg_sriov sr;
	bool acs;
	uint16_t acs_cap, acs_ctrl;
	int n_rebar;
	struct pcicfg_rebar rebar[6];
	bool vsec;
	uint16_t vsec_id, vsec_rev;

	size_t size;           /* bytes to produce: usually 256 or 4096 */
};

/* Fills buf with the configuration space described by d.  Bytes beyond
 * d->size are not touched.  Returns the number of bytes produced
 * (min(d->size, bufsize)). */
size_t pcicfg_build(const struct pcicfg_desc *d, uint8_t *buf, size_t bufsize);

/* Little-endian accessors bounded by len (out-of-range reads give 0). */
uint32_t pcicfg_get(const uint8_t *cfg, size_t len, size_t off, int width);

/* Offset of a standard capability, or 0 when absent. */
unsigned pcicfg_find_cap(const uint8_t *cfg, size_t len, uint8_t id);
/* Offset of an extended capability, or 0 when absent. */
unsigned pcicfg_find_ext_cap(const uint8_t *cfg, size_t len, uint16_t id);

#endif
