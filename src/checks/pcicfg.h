/* Decoders for PCI configuration space (registers as in
 * include/uapi/linux/pci_regs.h).  Pure functions over bytes read
 * elsewhere; every read is bounded by len. */
#ifndef AV_PCICFG_H
#define AV_PCICFG_H

#include <stdbool.h>
#include <stdint.h>

#define AV_CAP_EXP 0x10
#define AV_ECAP_VSEC 0x000b
#define AV_ECAP_ACS 0x000d
#define AV_ECAP_ARI 0x000e
#define AV_ECAP_SRIOV 0x0010
#define AV_ECAP_REBAR 0x0015
#define AV_ECAP_VF_REBAR 0x0024

#define AV_EXP_TYPE_ENDPOINT 0
#define AV_EXP_TYPE_ROOT_PORT 4
#define AV_EXP_TYPE_UPSTREAM 5
#define AV_EXP_TYPE_DOWNSTREAM 6

#define AV_ACS_SV 0x01
#define AV_ACS_RR 0x04
#define AV_ACS_CR 0x08
#define AV_ACS_UF 0x10
#define AV_ACS_EC 0x20
#define AV_ACS_REQUIRED (AV_ACS_SV | AV_ACS_RR | AV_ACS_CR | AV_ACS_UF)

#define AV_SRIOV_CTRL_ARI 0x10

/* Little-endian read of 1, 2 or 4 bytes; 0 outside [0, len). */
uint32_t av_cfg_get(const uint8_t *cfg, int len, int off, int width);
/* Offset of a standard capability, 0 when absent. */
int av_cfg_find_cap(const uint8_t *cfg, int len, unsigned id);
/* Offset of the first extended capability id located after offset
 * `after` in the chain (0: from the start), 0 when absent. */
int av_cfg_find_ecap(const uint8_t *cfg, int len, unsigned id, int after);

struct av_pcie_info {
	bool present;
	int type;                 /* AV_EXP_TYPE_* */
	int version;
	bool flr;
	bool has_cap2;            /* version >= 2: DEVCAP2/DEVCTL2 are valid */
	bool ari_fwd_supported;   /* DEVCAP2 bit 5 */
	bool ari_fwd_enabled;     /* DEVCTL2 bit 5 */
};
void av_cfg_pcie(const uint8_t *cfg, int len, struct av_pcie_info *out);

struct av_sriov_info {
	int off;                  /* 0 when absent */
	uint32_t caps;
	uint16_t ctrl, initial_vfs, total_vfs, num_vfs, offset, stride, vf_device;
};
void av_cfg_sriov(const uint8_t *cfg, int len, struct av_sriov_info *out);

struct av_acs_info {
	int off;                  /* 0 when absent */
	uint16_t cap, ctrl;
};
void av_cfg_acs(const uint8_t *cfg, int len, struct av_acs_info *out);
/* Flags the kernel wants enabled but are not: AV_ACS_REQUIRED masked by
 * what the port implements (as pci_acs_flags_enabled()).  0 when fine. */
unsigned av_acs_missing(const struct av_acs_info *acs);

struct av_rebar_entry {
	int bar;                  /* BAR index */
	int current;              /* size encoding: 2^(n+20) bytes */
	int largest;              /* largest supported encoding, -1 when none */
};
/* Entries of a Resizable BAR capability (id AV_ECAP_REBAR or
 * AV_ECAP_VF_REBAR).  Returns the count (0 when absent). */
int av_cfg_rebar(const uint8_t *cfg, int len, unsigned id, struct av_rebar_entry *out, int max);

/* True when a vendor-specific extended capability with this VSEC ID exists. */
bool av_cfg_has_vsec(const uint8_t *cfg, int len, uint16_t vsec_id);

#endif
