/* Hardware details (BARs, link, reset) of the functions the operator has
 * looked at since the last rescan.  Discovery leaves them out to open
 * fast; the detail pane asks here, and the core reads each function once
 * per rescan however often the selection passes over it. */
#ifndef UI_HWCACHE_H
#define UI_HWCACHE_H

#include "host/details.h"
#include "host/host.h"
#include "host/model.h"

struct ui_hwcache_entry {
	char bdf[AV_BDF_LEN];
	int rc;                     /* av_func_details' result */
	struct av_func_details d;
};

struct ui_hwcache {
	struct ui_hwcache_entry **v;   /* one allocation each: pointers stay valid */
	int n, cap;
	int reads;                  /* how many times the host was read (tests) */
};

void ui_hwcache_init(struct ui_hwcache *c);
/* Forgets every entry (after a rescan: the host may have changed). */
void ui_hwcache_clear(struct ui_hwcache *c);
/* bdf's details, read through the core on the first call after a clear,
 * valid until the next clear (a VF's pane holds its PF's beside its own).
 * NULL when host is NULL, the function is gone or memory ran out. */
const struct av_func_details *ui_hwcache_get(struct ui_hwcache *c, const struct av_host *host,
                                             const char *bdf);

#endif
