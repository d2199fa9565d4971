/* The demo host for one run: a fresh copy of the pristine tree (the build
 * tree's demo/ or the installed one, never written) in a private temporary
 * directory, with the simulated kernel attached to it, so that every
 * action behaves as on a real host with that layout and the next run
 * starts from the pristine host again. */
#ifndef SIM_DEMO_H
#define SIM_DEMO_H

#include "host/host.h"

struct sim_demo;

/* Copies pristine, opens the copy as *host and attaches the simulated
 * kernel.  NULL on failure, with why. */
struct sim_demo *sim_demo_open(const char *pristine, struct av_host **host, char **cause);
/* The copy's root directory. */
const char *sim_demo_root(const struct sim_demo *d);
/* Detaches the simulated kernel (the host must still be open) and removes
 * the copy. */
void sim_demo_close(struct sim_demo *d);

#endif
