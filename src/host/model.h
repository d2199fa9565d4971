/* The host model: what discovery found, as plain data.
 *
 * Every PCI function on the host is a struct av_func (AMD GPU functions,
 * bridges and any other endpoint, since IOMMU groups and their viability
 * depend on all of them).  GPU PFs and VFs are marked by role; VFs point at
 * their PF.  Everything after discovery (mode, resources, labels, rows of
 * the console) is a pure function of this model. */
#ifndef AV_MODEL_H
#define AV_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "host/devconfig.h"
#include "host/ids.h"

enum av_role {
	AV_ROLE_OTHER = 0,  /* not an AMD GPU function */
	AV_ROLE_PF,         /* AMD GPU physical function */
	AV_ROLE_VF,         /* AMD GPU SR-IOV virtual function */
};

enum av_mode {
	AV_MODE_NONE = 0,   /* nothing detected */
	AV_MODE_CONTAINER,
	AV_MODE_VF,
	AV_MODE_PF,
};

enum av_mode_source { AV_SOURCE_AUTO, AV_SOURCE_FLAG, AV_SOURCE_CONFIG };

#define AV_BDF_LEN 13       /* "dddd:bb:dd.f" */
#define AV_DRIVER_LEN 64

struct av_func {
	char bdf[AV_BDF_LEN];
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class_code;         /* 24 bits: class, subclass, prog-if */
	uint8_t revision;
	char driver[AV_DRIVER_LEN];  /* "" when unbound */
	char driver_override[AV_DRIVER_LEN]; /* "" when "(null)" or absent */
	int iommu_group;             /* -1 when the function has none */
	int numa_node;               /* -1 when unknown */
	enum av_role role;
	const struct av_known_id *known; /* table entry, NULL when unknown */
	char *name;                  /* product name for people (table or pci.ids) */
	char *pci_name;              /* pci.ids name, NULL when not looked up */
	char *sysfs_dir;             /* "/sys/devices/pci0000:00/.../BDF" */
	int parent;                  /* index of the upstream bridge, -1 at a root bus */
	int physfn;                  /* VF: index of its PF; else -1 */
	int *vfs;                    /* PF: indexes of its VFs, in virtfn order */
	int n_vfs;
	int sriov_total;             /* -1 when not SR-IOV capable */
	int sriov_num;
	int sriov_autoprobe;         /* -1 when absent */
	int enable_count;            /* sysfs "enable"; -1 when unreadable */
	int hive;                    /* index into model->hives, -1 when none */
	bool selected;               /* a target of the mode/config (see av_select) */
	char **drm_nodes;            /* "/dev/dri/card0", "/dev/dri/renderD128" */
	int n_drm_nodes;
	char *xgmi_hive_id;          /* amdgpu's xgmi_hive_info/xgmi_hive_id */
	char *vfio_cdev;             /* "/dev/vfio/devices/vfioN" (iommufd) when present */
	bool is_bridge;
	bool boot_vga;
};

struct av_group {
	int id;
	int *members;                /* indexes into model->funcs */
	int n_members;
	bool viable;                 /* every non-bridge member unbound or on vfio-pci / pci-stub */
	char type[16];               /* DMA, DMA-FQ, identity; "" when unknown */
	bool vfio_node;              /* /dev/vfio/<id> exists */
};

enum av_hive_source { AV_HIVE_SYSFS, AV_HIVE_CONFIG, AV_HIVE_RECORD };

struct av_hive {
	char id[16];                 /* "h0", "h1", ... in order of first BDF */
	char *xgmi_id;               /* amdgpu's xgmi_hive_id, NULL when from config */
	enum av_hive_source source;
	int *members;                /* indexes of PFs */
	int n_members;
};

/* Who holds one device the plugin advertises (or one kubelet assigns that
 * the plugin does not): kubelet's pod-resources answer and the processes
 * holding its /dev/vfio node.  Filled after discovery (src/host/holders.c,
 * src/cluster/); every string is NULL when that source did not say. */
struct av_holder {
	char device_id[64];          /* kubelet's device ID: group number or BDF */
	bool advertised;             /* among the devices the plugin advertises */
	char *ns, *pod, *container;  /* from kubelet's List */
	char *vm;                    /* from a virt-launcher-<vm>-<5 chars> pod */
	char *pod_uid;               /* from a holding process's cgroup */
	int *pids;                   /* processes with /dev/vfio/<group> open */
	int n_pids;
	int *funcs;                  /* the device's functions (model indexes) */
	int n_funcs;
};

/* A process holding /dev/vfio/<group> open (src/host/holders.c). */
struct av_vfio_user {
	int pid;
	int group;
	char pod_uid[40];            /* "" when its cgroup names no pod */
};

struct av_vfio_users {
	struct av_vfio_user *v;
	int n;
};

enum av_kubelet_state {
	AV_KUBELET_NOT_ASKED = 0,    /* nobody asked kubelet */
	AV_KUBELET_ABSENT,           /* no pod-resources socket under ROOT */
	AV_KUBELET_ERROR,            /* there but no usable answer: error says why */
	AV_KUBELET_OK,
};

/* kubelet's view of our resource, from its pod-resources API. */
struct av_kubelet_view {
	enum av_kubelet_state state;
	char *error;                 /* one line, with state ERROR */
	bool have_allocatable;       /* GetAllocatableResources answered */
	char **devices;              /* device IDs it lists for our resource */
	int n_devices;
	char **problems;             /* disagreements with what we advertise */
	int n_problems;
};

/* One problem found while reading the host: printed as one line each. */
struct av_diag {
	char *msg;
};

struct av_model {
	struct av_func *funcs;       /* sorted by BDF */
	int n_funcs;
	struct av_group *groups;     /* sorted by id */
	int n_groups;
	struct av_hive *hives;
	int n_hives;
	int *gpus;                   /* indexes of PFs, sorted by BDF */
	int n_gpus;
	struct av_diag *diags;
	int n_diags;

	bool iommu_enabled;          /* /sys/kernel/iommu_groups has groups */
	bool have_kfd;               /* /dev/kfd or /sys/class/kfd */
	bool have_vfio_container;    /* /dev/vfio/vfio */
	bool have_iommufd;           /* /dev/iommu */
	char *hostname;

	enum av_mode mode;
	enum av_mode_source mode_source;
	char *mode_evidence;
	char *mode_warning;          /* mixed host; NULL otherwise */
	bool mixed;

	const struct av_config *config; /* borrowed, may be NULL */

	struct av_holder *holders;   /* in device order, then kubelet's others */
	int n_holders;
	bool holders_known;          /* kubelet answered or a process holds a device */
	struct av_kubelet_view kubelet;
	/* The walk of ROOT/proc the holders came from, kept so the checks
	 * of the same rescan read it instead of walking /proc again. */
	struct av_vfio_users vfio;
	bool vfio_scanned;
};

/* Lookups.  Return the index or -1. */
int av_model_find(const struct av_model *m, const char *bdf);
const struct av_group *av_model_group(const struct av_model *m, int id);

bool av_func_is_gpu(const struct av_func *f);  /* role PF or VF */
bool av_func_on(const struct av_func *f, const char *driver);
/* Held by a VM or other vfio user: vfio-pci enables a function only while
 * it is open, whereas a host driver keeps its functions enabled. */
bool av_func_in_use(const struct av_func *f);
const char *av_mode_name(enum av_mode mode);   /* "vf-passthrough", ... "none" */
int av_mode_parse(const char *s, enum av_mode *out); /* 0 or -EINVAL */
const char *av_mode_source_name(enum av_mode_source s);

/* The holder of function i, or NULL. */
const struct av_holder *av_model_func_holder(const struct av_model *m, int i);
/* The holder of the plugin device with this ID, or NULL. */
const struct av_holder *av_model_device_holder(const struct av_model *m, const char *id);
/* Drops the holders and kubelet's view (before filling them again). */
void av_model_clear_holders(struct av_model *m);

void av_model_free(struct av_model *m);

/* Adds a diagnostic line (printf format).  Never fails loudly: on
 * allocation failure the line is dropped. */
void av_model_diag(struct av_model *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
