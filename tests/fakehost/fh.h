/* Internal interfaces of the fake host builder.
 *
 * Building is three steps: the scenario is parsed and expanded into a list
 * of PCI functions plus host-wide settings (fh_scenario.c, fh_gpus.c,
 * fh_others.c, fh_devices.c, fh_props.c on top of fh_topo.c), addresses and
 * group numbers are assigned (fh_bars.c, fh_topo.c), then the tree is
 * written (fh_pci.c, fh_kernel.c, fh_amdgpu.c, fh_misc.c, fh_kmod.c, and
 * the scenario's escape hatches in fh_fs.c).  Allocation failures abort:
 * this code only runs in test programs. */
#ifndef FH_H
#define FH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define FH_BDF_LEN 16
#define FH_AUTO (-1000)      /* "not set by the scenario" for int fields */

/* Resource flags (include/linux/ioport.h) as the sysfs "resource" file
 * shows them. */
#define FH_IORES_IO 0x100ull
#define FH_IORES_MEM 0x200ull
#define FH_IORES_PREFETCH 0x2000ull
#define FH_IORES_READONLY 0x4000ull
#define FH_IORES_SIZEALIGN 0x40000ull
#define FH_IORES_MEM_64 0x100000ull
#define FH_IORES_UNSET 0x20000000ull

enum fh_bar_type { FH_BAR_NONE = 0, FH_BAR_MEM32, FH_BAR_MEM64, FH_BAR_PREF64 };

enum fh_bar_state {
	FH_BAR_ASSIGNED = 0,
	FH_BAR_LOW,      /* 64-bit prefetchable but placed below 4 GiB */
	FH_BAR_UNSET,    /* firmware left it unassigned: start 0, IORESOURCE_UNSET */
	FH_BAR_ZERO,     /* the kernel gave up on it: an all-zero line */
};

struct fh_bar {
	uint8_t type;
	uint8_t state;
	uint64_t size;           /* bytes; for SR-IOV BARs the size of one VF's */
	uint64_t start;          /* 0 when not assigned */
};

/* A GPU model of contract section 7 with what the fake host needs. */
struct fh_model {
	const char *name;        /* "MI300X" */
	uint16_t pf, vf;         /* vf 0: no SR-IOV */
	const char *product;     /* amdgpu product_name */
	uint32_t pf_class, vf_class;
	uint8_t revision;
	uint8_t gen, width;      /* PCIe link */
	uint64_t bar0, vf_bar0;  /* framebuffer BAR of the PF and of one VF */
	int total_vfs;
	uint64_t vram;
	int simd_count, simd_per_cu, num_xcc;
	unsigned gfx_target;     /* KFD gfx_target_version */
};

/* A non-GPU device kind for "others" and filler. */
struct fh_kind {
	const char *name;        /* "nvme" */
	uint16_t vendor, device, ss_vendor, ss_device;
	uint32_t class_code;
	uint8_t revision;
	const char *driver;      /* NULL: unbound */
	int functions;           /* functions of one card */
	bool pcie;
	uint8_t gen, width;
	uint8_t bar_type;
	uint64_t bar_size;
	int total_vfs;           /* SR-IOV capable when > 0 */
	uint16_t vf_device;
};

struct fh_sriov {
	int total, num, offset, stride;
	uint16_t vf_device;
	uint32_t vf_class;
	struct fh_bar vf_bars[6];
	bool ari_hierarchy;      /* SR-IOV Control: ARI Capable Hierarchy */
	int autoprobe;
	char *vf_driver;         /* NULL: unbound */
	const cJSON *vf_props;   /* device properties of every VF (borrowed) */
	const cJSON *vf_each;    /* {"N": properties} (borrowed) */
	char *where;             /* scenario path for messages */
	int vf_group_with;       /* VFs share this device's group, -1 */
	int first_vf;            /* index of VF 0 in host->devs, -1 */
};

struct fh_dev {
	char bdf[FH_BDF_LEN];
	int domain, bus, devfn;
	int parent;              /* upstream bridge, -1 at a root bus */
	int rc;                  /* root complex */
	char *path;              /* "sys/devices/pci0000:00/.../BDF" */

	uint16_t vendor, device, ss_vendor, ss_device;
	uint32_t class_code;
	uint8_t revision;
	bool bridge;             /* type-1 header */
	bool multifunction;
	int pcie;                /* PCIe port type, -1 conventional PCI */
	int secondary, subordinate;

	char *driver;            /* NULL: unbound */
	char *driver_override;   /* NULL: "(null)" */
	int group;               /* IOMMU group; -1 none; FH_AUTO numbered later */
	int group_with;          /* shares this device's group, -1 */
	int numa;                /* FH_AUTO: from the root complex */
	int enable;              /* FH_AUTO: from the driver */
	int irq;
	char *reset_method;      /* NULL: derived */
	int boot_vga;            /* -1: no boot_vga file */
	int config_size;         /* 0: 256 or 4096 */

	bool flr, ari, gpuiov, msix, pm;
	int acs;                 /* 0 no capability, 1 enabled, 2 present but off */
	int ari_fwd;             /* ports: 0 none, 1 supported, 2 enabled */
	uint8_t ari_next_fn;
	int link_speed, link_width, max_speed, max_width;   /* speed as PCIe gen */

	struct fh_bar bars[6];
	struct fh_bar rom;
	uint64_t win_mem[2], win_pref[2];   /* bridge windows, {0, 0} closed */
	int rebar_bar;           /* -1 none */
	uint64_t rebar_max, rebar_cur;

	struct fh_sriov *sriov;
	int physfn;              /* VF: index of its PF; else -1 */
	int vf_index;

	const struct fh_model *model;   /* AMD GPU function */
	int hive;                /* index in host->hives, -1 */
	int card;                /* DRM minor of an amdgpu-bound function, -1 */

	const cJSON *attrs;      /* file overrides in the device directory */
	int first_child, next_sibling;  /* tree links filled by fh_topo_link */
};

struct fh_rc {
	int domain, bus;         /* root bus */
	int next_bus, last_bus;
	int socket;
	int next_port;           /* root ports created so far */
	int iommu;               /* index of the IOMMU function, -1 */
	uint64_t mem32, mem32_end, pref, pref_end;   /* address cursors */
	uint64_t mem32_base, pref_base;
};

struct fh_module {
	char *name;              /* "vfio_pci" */
	const char *driver;      /* PCI driver it registers, NULL none */
	char *version;
	char *srcversion;
	bool builtin, oot;
	bool loaded;             /* false: only installed */
	int installed;           /* FH_AUTO: when not built in; 0, 1 */
	char *installed_version; /* NULL: the loaded version */
	int refcnt;              /* FH_AUTO: number of holders */
	unsigned size;
	const cJSON *params;     /* {"name": "value"} (borrowed) */
};

struct fh_hive {
	char *id;                /* decimal u64 */
	int *members;
	int n;
};

/* A GPU slot of a switch left empty, usable by "others". */
struct fh_gpu {
	int pf;                  /* index of the PF */
	int free_slots[2];       /* downstream ports without a device, -1 */
	int merge;               /* group shared below a switch without ACS, -1 */
};

struct fh_host {
	const char *what;        /* scenario file, for messages; "" in memory */
	char *cause;
	int err;

	struct fh_dev *devs;
	int n_devs, cap_devs;
	struct fh_rc *rcs;
	int n_rcs, cap_rcs;
	struct fh_gpu *gpus;
	int n_gpus;
	struct fh_module *mods;
	int n_mods;
	struct fh_hive *hives;
	int n_hives;

	int rcs_initial;         /* root complexes devices are spread over */
	int rr[9];               /* round-robin cursor per socket (+1; 0 = any) */
	uint32_t *bdfset;        /* open-addressing set of used BDFs (+1) */
	int bdfset_cap, bdfset_n;
	int sockets, cpus;
	bool numa, svm, kvm;
	char *cpu_model;

	char *hostname, *release, *cmdline, *grub_cmdline;
	bool iommu, irq_remap, iommufd, vfio_cdev, kubelet, record_hives;
	bool module_zstd;        /* installed modules are .ko.zst */
	char *iommu_type;        /* default domain type */
	char *firmware;          /* ACPI table name: IVRS, DMAR; NULL none */
	const cJSON *dmesg;
	const cJSON *files, *remove, *symlinks, *dirs, *age;
	const cJSON *processes;  /* processes holding /dev/vfio nodes (fh_proc.c) */
	cJSON *owned;            /* JSON made while parsing, freed with the host */

	int rootfd;
};

/* --- fh_util.c: errors, allocation, JSON field access -------------------- */
int fh_fail(struct fh_host *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void *fh_alloc(size_t size);
void *fh_grow(void *p, int *cap, int need, size_t elem);
char *fh_strdup(const char *s);
char *fh_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Fails unless every key of obj is one of the NULL-terminated list (keys
 * starting with '_' are comments). */
int fh_keys(struct fh_host *h, const cJSON *obj, const char *where, const char *const *allowed);
int fh_get_bool(struct fh_host *h, const cJSON *obj, const char *key, const char *where, bool *out);
int fh_get_int(struct fh_host *h, const cJSON *obj, const char *key, const char *where,
               long lo, long hi, int *out);
/* The fh_get_* functions return 1 when the key is there (and valid), 0
 * when it is absent, -errno (with the cause set) when it has a wrong type.
 * A string field that is JSON null sets *out to NULL. */
int fh_get_str(struct fh_host *h, const cJSON *obj, const char *key, const char *where,
               const char **out);
/* Hex IDs: "1002", "0x1002" or a number. */
int fh_get_hex(struct fh_host *h, const cJSON *obj, const char *key, const char *where,
               uint32_t max, uint32_t *out);
/* Sizes: 4096, "512K", "2M", "256G". */
int fh_get_size(struct fh_host *h, const cJSON *obj, const char *key, const char *where,
                uint64_t *out);
const cJSON *fh_get(const cJSON *obj, const char *key);
/* Runs fn on every entry of the list under key (absent: nothing), each an
 * object, with "key[i]" as the place for messages.  Returns 0 or -errno. */
typedef int (*fh_entry_fn)(struct fh_host *h, const cJSON *entry, const char *where);
int fh_each(struct fh_host *h, const cJSON *list, const char *key, fh_entry_fn fn);
int fh_parse_bdf(const char *s, int *domain, int *bus, int *devfn);
void fh_format_bdf(char *buf, int domain, int bus, int devfn);

/* --- fh_catalog.c ---------------------------------------------------------- */
const struct fh_model *fh_model_find(const char *name);
const struct fh_kind *fh_kind_find(const char *name);
/* The module registering a PCI driver ("xhci_hcd" -> "xhci_pci"); NULL for
 * built-in drivers without a module (pcieport). */
const char *fh_driver_module(const char *driver, char *buf, size_t size);
/* Known facts about a module: its PCI driver, dependencies (comma list),
 * out-of-tree flag and size.  Unknown modules get defaults. */
void fh_module_facts(const char *name, const char **driver, const char **deps,
                     bool *oot, unsigned *size);
/* Every module the catalogue knows, for the default installed set. */
const char *fh_module_catalog(int i, bool *oot);
/* The module's file under /lib/modules/KVER/kernel ("drivers/vfio/pci/vfio-pci.ko"). */
void fh_module_file(const char *name, char *buf, size_t size);

/* --- fh_topo.c: root complexes, bridges, BDFs, groups -------------------- */
int fh_dev_new(struct fh_host *h, int parent, int rc, int bus, int devfn);
int fh_rc_new(struct fh_host *h, int domain, int bus, int last_bus, int socket);
int fh_rc_init(struct fh_host *h, int count);
/* A root complex of the socket for the next card (round robin); grows the
 * host with a new PCI domain when every root complex is out of buses. */
int fh_rc_pick(struct fh_host *h, int socket, int buses);
int fh_rc_buses(struct fh_host *h, int rc, int n);
int fh_root_port(struct fh_host *h, int rc, int secondary, int subordinate);
int fh_bridge(struct fh_host *h, int parent, int bus, int devfn, int type,
              int secondary, int subordinate);
void fh_set_kind(struct fh_dev *d, const struct fh_kind *k);
int fh_create_vfs(struct fh_host *h);
int fh_number_groups(struct fh_host *h);
void fh_topo_link(struct fh_host *h);
int fh_cmp_bdf(const struct fh_dev *a, const struct fh_dev *b);
/* Device indexes in the order the kernel probes them: BDF order, then VFs
 * in creation order.  The caller frees the array. */
int *fh_probe_order(const struct fh_host *h, int *n_out);

/* --- fh_props.c: device properties shared by every kind of entry ---------- */
int fh_apply_props(struct fh_host *h, struct fh_dev *d, const cJSON *obj, const char *where,
                   bool allow_extra);
extern const char *const fh_prop_keys[];
int fh_resolve_bdf(struct fh_host *h, const char *bdf, const char *where);

/* --- fh_scenario.c, fh_gpus.c, fh_others.c: the scenario ------------------ */
int fh_scenario(struct fh_host *h, const cJSON *root);
int fh_gpus(struct fh_host *h, const cJSON *list);
int fh_others(struct fh_host *h, const cJSON *list);
int fh_devices(struct fh_host *h, const cJSON *list);
int fh_modules(struct fh_host *h, const cJSON *obj);
/* Adds a module and what it depends on; loading upgrades an installed-only
 * entry (and its dependencies). */
void fh_module_add(struct fh_host *h, const char *name, bool loaded);
struct fh_module *fh_module_get(struct fh_host *h, const char *name);
bool fh_module_loaded(struct fh_host *h, const char *name);
int fh_hive_add(struct fh_host *h, const char *id, int pf);

/* --- fh_bars.c -------------------------------------------------------------- */
int fh_assign_bars(struct fh_host *h);
/* The sysfs "resource" file of a device into buf; returns its length. */
size_t fh_resource_text(const struct fh_host *h, const struct fh_dev *d, char *buf, size_t size);

/* --- fh_fs.c: writing the tree ------------------------------------------------ */
int fh_mkdir(struct fh_host *h, int dirfd, const char *path);
int fh_mkdirs(struct fh_host *h, int dirfd, const char *path);
int fh_put(struct fh_host *h, int dirfd, const char *name, const void *data, size_t len, int mode);
int fh_putf(struct fh_host *h, int dirfd, const char *name, int mode, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int fh_link(struct fh_host *h, int dirfd, const char *name, const char *target);
/* A relative link at root-relative path from pointing at root-relative
 * path to, computed as the kernel's sysfs does. */
int fh_rlink(struct fh_host *h, const char *from, const char *to);
char *fh_relpath(const char *from_dir, const char *to);
int fh_opendir(struct fh_host *h, const char *path);
int fh_escape_hatches(struct fh_host *h);

/* --- fh_proc.c: processes under /proc ------------------------------------ */
int fh_write_processes(struct fh_host *h);

/* --- writers ------------------------------------------------------------------ */
int fh_write_pci(struct fh_host *h);
int fh_write_iommu(struct fh_host *h);
int fh_write_drivers(struct fh_host *h);
int fh_write_modules(struct fh_host *h);
int fh_write_kmod(struct fh_host *h);
int fh_write_amdgpu(struct fh_host *h);
int fh_write_misc(struct fh_host *h);

#endif
