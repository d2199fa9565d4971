/* Inside the simulated kernel: its device table and tree primitives. */
#ifndef SIM_INT_H
#define SIM_INT_H

#include "sim.h"

#define SIM_MAX 256

struct simdev {
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

struct sim {
	char root[4096];
	struct simdev dev[SIM_MAX];
	int n;
	struct av_host *host;
	struct sim_gate gate;
	char gim_version[64];
	int gim_vfs;
};

/* The record, in memory shared across fork(); no tree yet. */
struct sim *sim_alloc(const char *root);
struct simdev *sim_new_dev(struct sim *k, const char *bdf, const char *dir);

int sim_mkdirs(struct sim *k, const char *path);
int sim_link(struct sim *k, const char *at, const char *target);
int sim_rm(struct sim *k, const char *path);       /* recursive */
int sim_read(struct sim *k, const char *path, char *buf, size_t size);
bool sim_exists(struct sim *k, const char *path);
struct simdev *sim_find(struct sim *k, const char *bdf);
int sim_attr_int(struct sim *k, struct simdev *d, const char *attr, int dflt);
int sim_set_attr(struct sim *k, struct simdev *d, const char *attr, const char *value);

/* The kernel's driver core, as far as the tests need it. */
int sim_bind(struct sim *k, struct simdev *d, const char *drv);
int sim_unbind(struct sim *k, struct simdev *d);
int sim_probe(struct sim *k, struct simdev *d);
int sim_set_numvfs(struct sim *k, struct simdev *pf, int n);

#endif
