/* The daemon's word on a DeviceConfig the host contradicts (check
 * config.driver-type says the same). */
#ifndef AV_AGENT_CFGCHECK_H
#define AV_AGENT_CFGCHECK_H

#include <stdbool.h>

#include "agent/daemon_int.h"

/* Judges the model's DeviceConfig against its host and logs a contradiction
 * (naming the field and the evidence) at the first call, and after that
 * whenever the verdict changes, including back to agreement.  again: log
 * the verdict even if it is unchanged (a new DeviceConfig was loaded). */
void av_daemon_config_judge(struct av_daemon *d, const struct av_model *m, bool again);
void av_daemon_config_clear(struct av_daemon *d);

#endif
