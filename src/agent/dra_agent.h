/* amdvirt daemon --dra: the DRA driver in the node agent instead of the
 * device plugin (never both: the same devices would be handed out twice).
 * The loop serves kubelet's two sockets; a worker thread does what takes
 * the API server or the drivers (the ResourceSlice, Prepare and
 * Unprepare), so that kubelet's calls never wait on each other's I/O in
 * the loop. */
#ifndef AV_AGENT_DRA_H
#define AV_AGENT_DRA_H

#include "agent/daemon_int.h"

/* Checks what --dra needs (API access, a node name), loads the prepared
 * claims, serves dra.sock and then the registration socket, and starts the
 * worker.  Returns 0 or -errno (reported on stderr). */
int av_dra_agent_start(struct av_daemon *d);
/* After each scan: the slice follows the new device list. */
void av_dra_agent_feed(struct av_daemon *d);
/* Removes the registration socket first (kubelet deregisters), then
 * dra.sock; waits for the worker's current job.  The slice stays. */
void av_dra_agent_stop(struct av_daemon *d);

#endif
