/* The agent's view of the host: discovery on every change (inotify on
 * /dev/vfio and the plugin directory, kernel uevents on a real host), the
 * device list handed to the plugin.  It reports up through d->hooks. */
#ifndef AV_AGENT_SCAN_H
#define AV_AGENT_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/daemon_int.h"

/* Opens ROOT and loads --config once.  Returns 0 or -errno (reported). */
int av_daemon_open_host(struct av_opts *cli);
int av_daemon_watch_init(struct av_daemon *d);
void av_daemon_watch_close(struct av_daemon *d);
/* Re-reads the host and hands the list to the plugin (first: print the
 * model's diagnostics), then calls d->hooks.scanned.  Returns 0 or -errno. */
int av_daemon_rescan(struct av_daemon *d, bool first);
void av_daemon_rescan_soon(struct av_daemon *d);
/* Watches the plugin directory once it exists.  Returns the watch or -1. */
int av_daemon_watch_plugins(struct av_daemon *d);
/* "amdvirt-amd_com_gpu.sock" for "amd.com/gpu" (contract section 4). */
void av_daemon_socket_name(const char *resource, char *buf, size_t size);

#endif
