#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/cfgcheck.h"
#include "base/log.h"
#include "host/mode.h"

void av_daemon_config_judge(struct av_daemon *d, const struct av_model *m, bool again)
{
	char *conflict = av_mode_config_conflict(m);
	bool same = (!conflict && !d->config_said) || (conflict && d->config_said && strcmp(conflict, d->config_said) == 0);
	if (same && !again && d->config_judged) {
		free(conflict);
		return;
	}
	if (conflict)
		av_log("DeviceConfig contradicts the host: %s (evidence: %s); check config.driver-type", conflict,
		       m->mode_evidence ? m->mode_evidence : "none");
	else if (d->config_said || (again && m->mode_source == AV_SOURCE_CONFIG))
		av_log("DeviceConfig: spec.driver.driverType %s agrees with the host",
		       m->config && m->config->driver_type ? m->config->driver_type : "(none)");
	free(d->config_said);
	d->config_said = conflict;
	d->config_judged = true;
}

void av_daemon_config_clear(struct av_daemon *d)
{
	free(d->config_said);
	d->config_said = NULL;
	d->config_judged = false;
}
