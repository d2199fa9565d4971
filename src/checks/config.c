/* config.driver-type: the DeviceConfig's driverType against the host
 * (contract section 6).  A passthrough type decides the mode, so one the
 * host contradicts would advertise nothing, or the wrong functions, while
 * every other check judges the wrong mode; it is said here, loudly. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "checks/ck.h"
#include "host/mode.h"

void ck_config_driver_type(struct av_ck *c)
{
	const struct av_model *m = c->m;
	const struct av_config *cfg = m->config;
	/* Without a DeviceConfig there is nothing to hold against the host. */
	if (!cfg || !cfg->present)
		return;
	const char *ev = m->mode_evidence ? m->mode_evidence : "";
	if (!cfg->driver_type) {
		ck_add(c, AV_CHECK_PASS, "host", NULL, "/sys/bus/pci/devices", ev,
		       "the DeviceConfig has no spec.driver: the mode comes from the host (%s)", av_mode_name(m->mode));
		return;
	}
	if (m->mode_source == AV_SOURCE_FLAG) {
		ck_add(c, AV_CHECK_NOTE, "host", NULL, "/sys/bus/pci/devices", ev,
		       "--driver-type %s decides the mode, not spec.driver.driverType %s", av_mode_name(m->mode),
		       cfg->driver_type);
		return;
	}
	if (m->mode_source == AV_SOURCE_AUTO) {
		ck_add(c, AV_CHECK_PASS, "host", NULL, "/sys/bus/pci/devices", ev,
		       "spec.driver.driverType container (given, or AMD's default) does not decide the mode; "
		       "the host does (%s)", av_mode_name(m->mode));
		return;
	}
	char *conflict = av_mode_config_conflict(m);
	if (!conflict) {
		ck_add(c, AV_CHECK_PASS, "host", NULL, "/sys/bus/pci/devices", ev,
		       "spec.driver.driverType %s agrees with the host", cfg->driver_type);
		return;
	}
	char hint[256];
	snprintf(hint, sizeof(hint), "set spec.driver.driverType to the mode the host is in (or leave it out: "
	         "the host then decides), or bring the host to %s (%s)", cfg->driver_type,
	         m->mode == AV_MODE_VF ? "amdvirt gim load" : "amdvirt gim unload, then amdvirt bind --all");
	ck_add(c, AV_CHECK_FAIL, "host", hint, "/sys/bus/pci/devices", ev, "%s", conflict);
	free(conflict);
}
