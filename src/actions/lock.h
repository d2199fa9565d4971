#ifndef AV_ACTIONS_LOCK_H
#define AV_ACTIONS_LOCK_H

#include "host/host.h"

/* Takes ROOT/run/amdvirt.lock (flock, exclusive), waiting up to wait_ms for
 * another amdvirt to finish.  Returns the descriptor, or -errno with *cause. */
int av_lock_take(struct av_host *host, int wait_ms, char **cause);
void av_lock_release(int fd);

#endif
