/* The node's ResourceSlice on the API server, kept at the devices it was
 * last handed.  Blocking API calls: the daemon runs this on a thread of
 * its own (src/agent/dra_agent.c).
 *
 * One slice, found by spec.nodeName and spec.driver (so one left by an
 * earlier run is adopted, and extra ones are deleted); created with POST,
 * changed with PUT carrying the resourceVersion read and the pool's
 * generation + 1; created again when it is gone (kubelet deletes a
 * driver's slices when it starts and 30 s after the driver disconnects).
 * Never deleted on shutdown: a restart within kubelet's 30 s keeps it. */
#ifndef AV_DRA_PUBLISH_H
#define AV_DRA_PUBLISH_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "k8s/client.h"

struct av_dra_pub {
	struct av_k8s *k;            /* borrowed */
	char *node;
	char *node_uid;              /* NULL until read (no owner reference without it) */
	char *name;                  /* the slice's metadata.name; NULL: none known */
	char *rv;
	long long generation;
	char *published;             /* spec.devices as last written or read */
	int n_devices;
};

enum av_dra_pub_did { AV_PUB_NOTHING, AV_PUB_CREATED, AV_PUB_RECREATED, AV_PUB_UPDATED };

void av_dra_pub_init(struct av_dra_pub *p, struct av_k8s *k, const char *node);
void av_dra_pub_clear(struct av_dra_pub *p);
/* Brings the slice to devices (not taken).  verify reads the slice from
 * the server first instead of trusting what was last written.  Returns 0
 * with *did set, or -errno with *cause. */
int av_dra_pub_sync(struct av_dra_pub *p, const cJSON *devices, bool verify,
                    enum av_dra_pub_did *did, char **cause);

#endif
