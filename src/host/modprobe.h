/* Kernel module names and modprobe.d lines, read the way the kernel and
 * kmod read them: for the checks (is amdgpu kept away?), the daemon's
 * blacklist file, and loading modules. */
#ifndef AV_MODPROBE_H
#define AV_MODPROBE_H

#include <stddef.h>

/* The name as /sys/module spells it: '-' and '_' are one in module names. */
void av_module_name(char *dst, const char *src, size_t size);

enum av_modprobe_block {
	AV_MODPROBE_NONE,
	AV_MODPROBE_BLACKLIST,       /* "blacklist MODULE" */
	AV_MODPROBE_INSTALL_FALSE,   /* "install MODULE /bin/false" (or /bin/true) */
};

/* What in a modprobe.d file's text keeps module from loading. */
enum av_modprobe_block av_modprobe_blocks(const char *text, const char *module);

/* The first "VERB MODULE ..." line of a modprobe.d file's text (verb
 * "install" or "remove"; '-' and '_' alike in the name, as kmod reads
 * them): where it starts, its length in *len.  NULL when there is none. */
const char *av_modprobe_command(const char *text, const char *verb, const char *module, size_t *len);

/* Where libkmod and the checks read modprobe.d, under ROOT. */
#define AV_MODPROBE_DIRS \
	"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d", \
	"/usr/lib/modprobe.d"

#endif
