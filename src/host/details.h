/* One PCI function's hardware details, read on demand: BARs (the sysfs
 * `resource` file), the PCIe link and the reset methods.  Discovery does
 * not read these for every function, to stay fast on large hosts; the
 * console asks for the selected one. */
#ifndef AV_DETAILS_H
#define AV_DETAILS_H

#include <stdbool.h>

#include "host/host.h"
#include "host/pcires.h"

struct av_link {
	char speed[32];            /* "32.0 GT/s PCIe", "Unknown"; "" unreadable */
	char max_speed[32];
	double gts, max_gts;       /* GT/s; 0 when unknown */
	int width, max_width;      /* lanes; 0 unknown (VFs report none), -1 unreadable */
};

struct av_func_details {
	struct av_resource res[AV_RES_MAX];
	int n_res;                 /* lines parsed */
	int res_err;               /* 0, -errno, or -EINVAL when a line is garbled */
	int res_bad_line;          /* with -EINVAL: the 1-based line */
	struct av_link link;
	char reset_method[64];     /* "flr bus"; "" when none */
	int reset_err;             /* 0; -ENOENT: the kernel offers no method */
};

/* Reads ROOT/sys/bus/pci/devices/BDF/{resource,*_link_*,reset_method}.  A
 * missing or garbled attribute is recorded in its field, not returned.
 * Returns 0, -EINVAL for a malformed BDF, or -ENOENT when there is no such
 * function. */
int av_func_details(const struct av_host *host, const char *bdf, struct av_func_details *out);

/* Both ends known: speed and width read as numbers above 0. */
bool av_link_known(const struct av_link *l);
/* Known and below its maximum speed or width. */
bool av_link_degraded(const struct av_link *l);

#endif
