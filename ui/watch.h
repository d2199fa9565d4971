/* Following the host: inotify on ROOT/dev/vfio and on the PCI driver
 * directories, whose entries appear and vanish as functions are bound and
 * unbound.  (The kernel does not send inotify events for sysfs changes it
 * makes itself, so the console also rescans slowly; on fake hosts and for
 * /dev/vfio the events are immediate.) */
#ifndef UI_WATCH_H
#define UI_WATCH_H

#include <stdbool.h>

#include "host/host.h"

struct ui_watch;

/* NULL when inotify is not available (the slow refresh still works). */
struct ui_watch *ui_watch_new(struct av_host *host);
void ui_watch_free(struct ui_watch *w);
int ui_watch_fd(const struct ui_watch *w);
/* Reads pending events; true when something relevant changed.  New driver
 * directories get watched too. */
bool ui_watch_drain(struct ui_watch *w);

/* Watches what appeared since (/dev/vfio once vfio is loaded, drivers
 * registered by a module load).  Cheap: call after each rescan. */
void ui_watch_refresh(struct ui_watch *w);

#endif
