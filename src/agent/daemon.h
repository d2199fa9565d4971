/* The node agent: serves the device plugin, registers it with kubelet,
 * keeps the device list current (inotify on /dev/vfio and the plugin
 * directory, kernel uevents on a real host, a slow resync), and runs the
 * labeller and the driver management the DeviceConfig asks for. */
#ifndef AV_DAEMON_H
#define AV_DAEMON_H

#include "host/opts.h"

/* Runs until SIGTERM/SIGINT.  Returns an exit code (contract section 1). */
int av_daemon_run(struct av_opts *cli);

#endif
