/* A small fake kernel for the test suite: builds a host tree laid out as
 * sysfs is, and applies the kernel's semantics to writes into it
 * (driver_override, bind/unbind, drivers_probe, sriov_numvfs) and to module
 * loads (vfio-pci, gim), so that post-conditions and rollback are tested
 * against consequences, not against a list of writes.
 *
 * Failure injection: fk_fail_nth() fails the Nth operation (a write or a
 * module load/unload) from now; fk_fail_path() fails writes to a path.
 * The same through the environment when fk_attach() runs:
 * FAKEKERNEL_FAIL_NTH=N[:ERRNO] and FAKEKERNEL_FAIL_PATH=SUFFIX[:ERRNO].
 *
 * Process death: fk_die_nth() kills the process (SIGKILL: no handler, no
 * cleanup, as the OOM killer or a power cut would) just before or just
 * after the Nth operation from now; FAKEKERNEL_DIE_NTH=N[:after].
 * fk_signal_nth() sends the process a signal as the Nth operation begins
 * and then performs it, as a Ctrl-C between two writes would arrive.
 *
 * The fake kernel's own record of the devices lives in memory shared
 * across fork(), so a test can kill a child mid-plan and go on in the
 * parent with the kernel the child left. */
#ifndef FAKEKERNEL_H
#define FAKEKERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/host.h"

struct fk;

struct fk_dev {
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
struct fk *fk_new(const char *root);
void fk_free(struct fk *k);
int fk_add_driver(struct fk *k, const char *name);
int fk_add_device(struct fk *k, const struct fk_dev *d);
/* Writes a plain file under the root (tests set enable counts this way). */
int fk_put(struct fk *k, const char *path, const char *content);
/* Makes process pid hold path open (ROOT/proc/PID/fd/3 -> path). */
int fk_hold_open(struct fk *k, int pid, const char *path);
/* Sets the version gim reports and how many VFs it makes by default. */
void fk_set_gim(struct fk *k, const char *version, int default_vfs);

/* Routes host's writes and amdvirt's module operations through k. */
void fk_attach(struct fk *k, struct av_host *host);
void fk_detach(struct fk *k);

void fk_fail_nth(struct fk *k, int n, int err);
void fk_fail_path(struct fk *k, const char *suffix, int err);
void fk_die_nth(struct fk *k, int n, bool after);   /* n = 0 disarms */
void fk_signal_nth(struct fk *k, int n, int sig);   /* n = 0 disarms */
int fk_ops(const struct fk *k);            /* operations seen since fk_new */

/* Inspection: the driver bound to bdf ("" for none). */
const char *fk_driver(struct fk *k, const char *bdf, char *buf, size_t size);

#endif
