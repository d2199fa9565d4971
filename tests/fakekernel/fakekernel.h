/* The test suite's fake kernel: the product's simulated kernel (src/sim)
 * with failure and death injection on top, through its gate.
 *
 * Failure injection: fk_fail_nth() fails the Nth operation (a write or a
 * module load/unload) from now; fk_fail_path() fails writes to a path.
 * The same through the environment when fk_attach() runs:
 * FAKEKERNEL_FAIL_NTH=N[:ERRNO] and FAKEKERNEL_FAIL_PATH=SUFFIX[:ERRNO].
 *
 * Process death: fk_die_nth() kills the process (SIGKILL: no handler, no
 * cleanup, as the OOM killer or a power cut would) just before or just
 * after the Nth operation from now; FAKEKERNEL_DIE_NTH=N[:after].
 * fk_signal_nth() sends the process a signal as the Nth operation begins
 * and then performs it, as a Ctrl-C between two writes would arrive.
 *
 * The injection state is shared across fork(), as the kernel's is. */
#ifndef FAKEKERNEL_H
#define FAKEKERNEL_H

#include "sim/sim.h"

/* sim_attach() with the injection gate (and the environment's settings). */
void fk_attach(struct sim *k, struct av_host *host);

void fk_fail_nth(struct sim *k, int n, int err);
void fk_fail_path(struct sim *k, const char *suffix, int err);
void fk_die_nth(struct sim *k, int n, bool after);   /* n = 0 disarms */
void fk_signal_nth(struct sim *k, int n, int sig);   /* n = 0 disarms */
int fk_ops(const struct sim *k);            /* operations seen since fk_attach */

#endif
