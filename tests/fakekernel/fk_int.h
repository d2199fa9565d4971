/* Inside the fake kernel: its device table and tree primitives. */
#ifndef FK_INT_H
#define FK_INT_H

#include "fakekernel.h"

#define FK_MAX 64

struct fkdev {
	char bdf[13];
	char dir[256];            /* host path: /sys/devices/pci0000:00/.../BDF */
	char native[64];
	char vf_native[64];
	uint16_t vf_device;
	int sriov_total;
	int group;
	bool gim;
	bool is_vf;
	bool present;
	int pf;                   /* VF: index of its PF */
};

struct fk {
	char root[4096];
	struct fkdev dev[FK_MAX];
	int n;
	struct av_host *host;
	int ops;
	int fail_nth, fail_nth_err;
	int die_nth;              /* SIGKILL before (or after, die_after) that operation */
	bool die_after;
	int signal_nth, signal_nth_sig;
	char fail_path[256];
	int fail_path_err;
	char gim_version[64];
	int gim_vfs;
};

int fk_mkdirs(struct fk *k, const char *path);
int fk_link(struct fk *k, const char *at, const char *target);
int fk_rm(struct fk *k, const char *path);       /* recursive */
int fk_read(struct fk *k, const char *path, char *buf, size_t size);
bool fk_exists(struct fk *k, const char *path);
struct fkdev *fk_find(struct fk *k, const char *bdf);
int fk_attr_int(struct fk *k, struct fkdev *d, const char *attr, int dflt);
int fk_set_attr(struct fk *k, struct fkdev *d, const char *attr, const char *value);

/* The kernel's driver core, as far as the tests need it. */
int fk_bind(struct fk *k, struct fkdev *d, const char *drv);
int fk_unbind(struct fk *k, struct fkdev *d);
int fk_probe(struct fk *k, struct fkdev *d);
int fk_set_numvfs(struct fk *k, struct fkdev *pf, int n);

#endif
