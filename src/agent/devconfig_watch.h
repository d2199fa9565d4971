/* The daemon follows --deviceconfig NS/NAME on the API server: a watch
 * thread (k8s/watch.c) hands what it sees to the event loop through an
 * eventfd, and the loop acts on it as on SIGHUP, with the new object: a
 * change of spec or annotations is read into the configuration, the host
 * is read again, and drivers, labels and the resource name follow; a
 * deletion turns driver management off and drops the DeviceConfig's
 * gpu.operator.amd.com labels, unbinding nothing; a re-creation is taken
 * up again. */
#ifndef AV_AGENT_DEVCONFIG_WATCH_H
#define AV_AGENT_DEVCONFIG_WATCH_H

#include "agent/daemon_int.h"

/* Starts following the DeviceConfig read at start (--deviceconfig with
 * API access only; nothing otherwise).  A failure is logged and the
 * daemon goes on with what it read. */
void av_daemon_dcwatch_start(struct av_daemon *d);
/* Asks the watch to end without waiting (stopping). */
void av_daemon_dcwatch_cancel(struct av_daemon *d);
/* Ends the watch thread and frees everything. */
void av_daemon_dcwatch_stop(struct av_daemon *d);

#endif
