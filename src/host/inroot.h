/* Opening paths inside a root directory.
 *
 * Every symlink, absolute ones included, and every ".." resolves as if the
 * root were "/": no path reaches outside it, so a hostile tree cannot send
 * a write (or a read) to the machine that runs amdvirt.  The kernel does it
 * (openat2 with RESOLVE_IN_ROOT, Linux 5.6); where it cannot, a walk one
 * component at a time does the same in user space. */
#ifndef AV_INROOT_H
#define AV_INROOT_H

#include <stdbool.h>
#include <sys/types.h>

/* Opens path under rootfd (leading slashes ignored) as openat(2) would.
 * O_NOFOLLOW refuses a symlink as the last component (-ELOOP); O_CLOEXEC
 * is added.  Returns the descriptor or -errno. */
int av_inroot_open(int rootfd, const char *path, int flags, mode_t mode);

/* The walk instead of openat2: for tests, which must cover both (also
 * AMDVIRT_TEST_NO_OPENAT2=1 in the environment). */
void av_inroot_use_walk(bool walk);
bool av_inroot_walking(void);

#endif
