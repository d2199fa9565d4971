/* Internal to the checks: the run context, result helpers and subject sets
 * shared by the check files in src/checks/. */
#ifndef AV_CK_H
#define AV_CK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks/checks.h"

/* Modes a catalogue entry applies to. */
enum {
	CK_NONE = 1u << 0,
	CK_CONTAINER = 1u << 1,
	CK_VF = 1u << 2,
	CK_PF = 1u << 3,
	CK_GUEST = 1u << 4,
	CK_ALL = CK_NONE | CK_CONTAINER | CK_VF | CK_PF,
};

struct av_ck;
typedef void (*av_ck_fn)(struct av_ck *c);

struct av_check_def {
	const char *id;
	unsigned modes;
	av_ck_fn run;
};

/* Config space of one function, read once per run. */
struct ck_cfg {
	bool loaded;
	int len;                 /* bytes read, or -errno */
	uint8_t bytes[4096];
};

struct ck_kmod;

struct av_ck {
	struct av_host *host;
	struct av_pcidb *pcidb;
	const struct av_model *m;
	const struct av_check_opts *opts;
	struct av_check_report *rep;
	const char *id;          /* the check being run */
	int err;                 /* sticky -ENOMEM */
	bool all;                /* --all: checks outside the mode run too */

	struct ck_cfg **cfg;     /* per function index, lazily */
	struct ck_kmod *kmod;    /* lazily, see modules.c */
	char *cmdline;           /* /proc/cmdline, NULL when unreadable */
	int cmdline_err;
	bool cmdline_loaded;
	char *klog;              /* kernel log text, lazily */
	char *klog_source;
	int klog_err;
	bool klog_loaded;
	char kver[128];          /* running kernel release, "" when unknown */
	struct av_vfio_users vfio; /* when the model has no scan of its own */
	bool vfio_scanned;
};

/* The pid of a process holding /dev/vfio/GROUP open (the first found in
 * ROOT/proc: the model's scan when the holders were read, else one scan
 * per run), or -1. */
int ck_group_holder(struct av_ck *c, int group);

/* Adds one result.  hint may be NULL; ev_path/ev_value may be NULL. */
void ck_add(struct av_ck *c, enum av_check_status st, const char *subject, const char *hint,
            const char *ev_path, const char *ev_value, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* A human-readable cause of a failed read: "cannot read PATH: reason". */
const char *ck_errstr(int err);

/* Config space of function i (NULL with *err set when unreadable, or when
 * only the first 64 bytes are visible: -EACCES). */
const uint8_t *ck_config(struct av_ck *c, int i, int *len, int *err);
/* The same, for reads within the 64-byte header, which anyone may read. */
const uint8_t *ck_config_std(struct av_ck *c, int i, int *len, int *err);

/* /proc/cmdline (cached).  NULL when unreadable, *err set. */
const char *ck_cmdline(struct av_ck *c, int *err);
/* The same for a check that judges the command line itself: when it is
 * unreadable, that check's SKIP is added here. */
const char *ck_cmdline_or_skip(struct av_ck *c);
/* Kernel log: text and where it came from.  NULL when unreadable. */
const char *ck_klog(struct av_ck *c, const char **source, int *err);
/* True when CPU vendor is AMD ("AuthenticAMD" in /proc/cpuinfo). */
bool ck_cpu_is_amd(struct av_ck *c);

/* Subject sets (indexes into m->funcs).  Each returns the count; *out is
 * allocated (free it) and may be NULL when the count is 0. */
int ck_targets(struct av_ck *c, int **out);      /* functions the mode binds to vfio */
int ck_vf_pfs(struct av_ck *c, int **out);       /* PFs that gim drives (or should) */
int ck_pf_targets(struct av_ck *c, int **out);   /* PFs for whole-GPU passthrough */
int ck_phys_gpus(struct av_ck *c, int **out);    /* the physical GPUs behind the targets */

/* "host" lines when a per-function check has nobody to judge. */
void ck_no_subjects(struct av_ck *c, const char *what);

/* Judges each subject a check concerns, one call per function: pick lists
 * them (ck_targets, ck_vf_pfs, ck_pf_targets, ck_phys_gpus); when there is
 * none, the check's one result says there is no NOUN to check. */
typedef int (*ck_pick_fn)(struct av_ck *c, int **out);
typedef void (*ck_judge_fn)(struct av_ck *c, int idx, const struct av_func *f);
void ck_each(struct av_ck *c, ck_pick_fn pick, const char *noun, ck_judge_fn judge);

/* A SKIP line for subject when bdf's config space cannot be used (err from
 * ck_config). */
void ck_cfg_skip(struct av_ck *c, const char *subject, const char *bdf, int err);
/* Config space of function i for a check about subject: on failure the
 * SKIP line (naming i's file) is already reported and NULL returned.
 * std: only the 64-byte header is needed. */
const uint8_t *ck_config_for(struct av_ck *c, const char *subject, int i, bool std, int *len);
/* Parses BDF's sysfs `resource` (struct av_resource, pcires.h).
 * Returns the line count, or < 0 with why set to a message naming the file. */
struct av_resource;
int ck_read_resources(struct av_ck *c, const char *bdf, struct av_resource *res, int max, char *why,
                      size_t why_size);
/* A decimal sysfs attribute of BDF.  0 or -errno. */
int ck_sysfs_int(struct av_ck *c, const char *bdf, const char *attr, long *out);

/* sysfs attribute of function f: "/sys/bus/pci/devices/BDF/attr". */
char *ck_dev_path(char *buf, size_t size, const char *bdf, const char *attr);

/* Checks, one function per catalogue id. */
void ck_platform_virt(struct av_ck *c);
void ck_kubelet_plugin_dir(struct av_ck *c);
void ck_config_driver_type(struct av_ck *c);
void ck_guest_device(struct av_ck *c);
void ck_iommu_firmware(struct av_ck *c);
void ck_iommu_kernel(struct av_ck *c);
void ck_iommu_group(struct av_ck *c);
void ck_iommu_irq_remap(struct av_ck *c);
void ck_vfio_noiommu(struct av_ck *c);
void ck_iommu_domain(struct av_ck *c);
void ck_cmdline_params(struct av_ck *c);
void ck_boot_pending_reboot(struct av_ck *c);
void ck_boot_initramfs(struct av_ck *c);
void ck_vfio_modules(struct av_ck *c);
void ck_amdgpu_blacklist(struct av_ck *c);
void ck_gim_installed(struct av_ck *c);
void ck_gim_loaded(struct av_ck *c);
void ck_gim_bound(struct av_ck *c);
void ck_gim_params(struct av_ck *c);
void ck_gim_log(struct av_ck *c);
void ck_gim_nodes(struct av_ck *c);
void ck_pci_sriov(struct av_ck *c);
void ck_pci_vf_bars(struct av_ck *c);
void ck_pci_above_4g(struct av_ck *c);
void ck_pci_rebar(struct av_ck *c);
void ck_pci_ari(struct av_ck *c);
void ck_pci_bus_range(struct av_ck *c);
void ck_pci_acs(struct av_ck *c);
void ck_pci_link(struct av_ck *c);
void ck_group_isolation(struct av_ck *c);
void ck_pf_vfs_disabled(struct av_ck *c);
void ck_vf_binding(struct av_ck *c);
void ck_pf_reset(struct av_ck *c);
void ck_pf_boot_vga(struct av_ck *c);
void ck_device_in_use(struct av_ck *c);
void ck_state_interrupted(struct av_ck *c);
void ck_dra_prepared(struct av_ck *c);
void ck_topology_numa(struct av_ck *c);
void ck_topology_hive(struct av_ck *c);

/* The check that already explains why PF index pf has no VFs (its VF BARs
 * are unassigned, ARI is missing on its path, no SR-IOV), or NULL. */
const char *ck_vf_blocker(struct av_ck *c, int pf);

/* Module state, shared by modules.c and gim.c (modules.c). */
enum ck_mod_state { CK_MOD_MISSING = 0, CK_MOD_INSTALLED, CK_MOD_LOADED, CK_MOD_BUILTIN };
enum ck_mod_state ck_module_state(struct av_ck *c, const char *name, char *path, size_t path_size);
/* Installed module's modinfo "version" (allocated) or NULL. */
char *ck_module_installed_version(struct av_ck *c, const char *name);
/* Any modinfo field of the installed module (allocated) or NULL. */
char *ck_module_installed_info(struct av_ck *c, const char *name, const char *key);
bool ck_module_loaded(struct av_ck *c, const char *name);
void ck_kmod_free(struct av_ck *c);
/* libkmod on ROOT/lib/modules/KVER and ROOT's modprobe.d; NULL when it
 * cannot be set up. */
struct kmod_ctx;
struct kmod_ctx *ck_kmod_ctx(struct av_ck *c);

#endif
