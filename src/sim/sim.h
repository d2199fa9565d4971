/* The simulated kernel: applies the kernel's semantics to the writes
 * amdvirt makes into a host tree (driver_override, bind/unbind,
 * drivers_probe, sriov_numvfs) and to its module loads (vfio-pci, gim):
 * the driver link and the driver's directory entry move, /dev/vfio/GROUP
 * comes and goes with vfio-pci, /sys/module/NAME appears, VFs are created
 * and removed.  The test suite builds hosts with it (so post-conditions
 * and rollback are tested against consequences, not a list of writes),
 * and `--demo` runs on a copy of the demo host adopted by it.
 *
 * Its record of the devices lives in memory shared across fork(), so a
 * test can kill a child mid-plan and go on in the parent with the kernel
 * the child left.  A gate, asked before every operation, lets a test fail
 * or interrupt one (tests/fakekernel). */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/host.h"

struct sim;

struct sim_dev {
	const char *bdf;
	uint16_t vendor, device;
	uint32_t class_code;      /* 0x030000 display, 0x060400 PCI bridge, ... */
	const char *parent;       /* the upstream bridge's BDF, NULL on a root bus */
	const char *driver;       /* bound now; NULL for none */
	const char *native;       /* what drivers_probe binds without an override */
	int group;                /* IOMMU group; -1 for none */
	int sriov_total;          /* 0: not SR-IOV capable */
	uint16_t vf_device;
	const char *vf_native;    /* the VFs' native driver (NULL none) */
	bool gim;                 /* gim claims it (an SR-IOV AMD PF) */
	int enable;
};

/* Creates the tree under root (which must exist).  NULL on failure. */
struct sim *sim_new(const char *root);
void sim_free(struct sim *k);
int sim_add_driver(struct sim *k, const char *name);
int sim_add_device(struct sim *k, const struct sim_dev *d);
/* Writes a plain file under the root (tests set enable counts this way). */
int sim_put(struct sim *k, const char *path, const char *content);
/* Makes process pid hold path open (ROOT/proc/PID/fd/3 -> path). */
int sim_hold_open(struct sim *k, int pid, const char *path);
/* Sets the version gim reports and how many VFs it makes by default. */
void sim_set_gim(struct sim *k, const char *version, int default_vfs);

/* Routes host's writes and amdvirt's module operations through k. */
void sim_attach(struct sim *k, struct av_host *host);
void sim_detach(struct sim *k);

/* Adopts an existing host tree (the demo host): the devices, their
 * groups, VFs and drivers are read from it.  NULL on failure, with why. */
struct sim *sim_adopt(const char *root, char **cause);

/* Asked before every operation (a write, path set; a module load or
 * unload, path NULL): a nonzero -errno fails it.  Told after it. */
struct sim_gate {
	int (*before)(void *user, const char *path);
	void (*after)(void *user);
	void *user;
};
void sim_set_gate(struct sim *k, const struct sim_gate *g);   /* NULL removes */

/* Inspection: the driver bound to bdf ("" for none). */
const char *sim_driver(struct sim *k, const char *bdf, char *buf, size_t size);

#endif
