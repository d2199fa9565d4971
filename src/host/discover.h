/* Discovery: reads ROOT's sysfs (and friends) into a struct av_model. */
#ifndef AV_DISCOVER_H
#define AV_DISCOVER_H

#include "host/host.h"
#include "host/model.h"
#include "host/pcidb.h"

struct av_discover_opts {
	const struct av_config *config;  /* may be NULL */
	struct av_pcidb *pcidb;          /* names from pci.ids; may be NULL */
	bool forced_mode_set;            /* --driver-type */
	enum av_mode forced_mode;
	bool record_hives;               /* write ROOT/var/lib/amdvirt/hives.json */
};

/* Builds the model.  Problems with individual files become diagnostics in
 * the model (a partial model is still returned).  Returns 0, or -errno when
 * the host cannot be read at all (no sysfs). */
int av_discover(struct av_host *host, const struct av_discover_opts *opts,
                struct av_model *out);

#endif
