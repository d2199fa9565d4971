/* Module loading: libkmod against ROOT/lib/modules/KVER, behind a table of
 * operations that the test suite's fake kernel replaces. */
#ifndef AV_ACTIONS_KMOD_H
#define AV_ACTIONS_KMOD_H

#include "host/host.h"

struct av_kmod_ops {
	/* module is a name ("vfio-pci") or a .ko path; params "a=1 b=2" or "".
	 * Return 0 (also when already loaded or built in) or -errno with *cause. */
	int (*load)(struct av_host *host, const char *module, const char *params, char **cause, void *user);
	int (*unload)(struct av_host *host, const char *module, char **cause, void *user);
};

/* NULL restores libkmod. */
void av_kmod_set_ops(const struct av_kmod_ops *ops, void *user);
int av_kmod_load(struct av_host *host, const char *module, const char *params, char **cause);
int av_kmod_unload(struct av_host *host, const char *module, char **cause);
/* The release whose modules ROOT provides: ROOT/proc/sys/kernel/osrelease
 * under a root other than "/", else uname.  Returns 0 or -errno. */
int av_kmod_release(struct av_host *host, char *buf, size_t size);

#endif
