/* The agent's driver management, as the DeviceConfig asks. */
#ifndef AV_AGENT_DRIVERS_H
#define AV_AGENT_DRIVERS_H

#include "agent/daemon_int.h"

/* Runs the next driver-management plan for the model just read (if the
 * DeviceConfig asks for management), and asks for a rescan when it ran. */
void av_daemon_drivers(struct av_daemon *d, const struct av_model *m);
void av_daemon_drivers_clear(struct av_daemon *d);

#endif
