/* NodePrepareResources and NodeUnprepareResources for one claim: the
 * devices the scheduler allocated, checked on a fresh reading of the host
 * (healthy, on vfio-pci; bound there with the plans of `amdvirt bind` when
 * driver management is on), a CDI spec with their VFIO nodes, and the
 * device-metadata file KubeVirt reads for the PCI address (KEP-5304).
 * Every file is written through the host root. */
#ifndef AV_DRA_PREPARE_H
#define AV_DRA_PREPARE_H

#include <cjson/cJSON.h>

#include "actions/actions.h"
#include "host/draclaims.h"
#include "dra/slice.h"
#include "host/host.h"
#include "k8s/client.h"

struct av_dra_env {
	struct av_host *host;
	const char *node;            /* the pool's name */
	/* A fresh model and device list (the daemon's discovery).  0 or -errno. */
	int (*read_host)(void *user, struct av_model *m, struct av_resources *r);
	void *user;
	/* Driver management on: bind with these options.  NULL: refuse a
	 * device that is not on vfio-pci. */
	const struct av_action_opts *bind_opts;
	struct av_dra_facts facts;
};

/* GETs the ResourceClaim.  Returns 0 with *obj, or -errno with *cause. */
int av_dra_claim_get(struct av_k8s *k, const char *ns, const char *name, cJSON **obj, char **cause);

/* Prepares the claim (obj is the ResourceClaim as read, NULL when the
 * read failed with *why).  out gets the devices, CDI IDs and files, or
 * out->error.  Returns 0, or -ENOMEM. */
int av_dra_prepare(const struct av_dra_env *env, const char *ns, const char *name,
                   const char *uid, const cJSON *obj, struct av_dra_claim *out);

/* Removes what a prepared claim wrote.  Returns 0 or -errno with *cause
 * (files that are already gone are no error). */
int av_dra_unprepare(struct av_host *host, const struct av_dra_claim *c, char **cause);

#endif
