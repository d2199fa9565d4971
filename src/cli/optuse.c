/* The options each command uses (doc/amdvirt.1, OPTIONS says the same).
 *
 * Every command reads the host and the node configuration, so the host
 * and configuration options are every command's; --kubeconfig goes with
 * --deviceconfig.  The rest belong to the commands that act on them. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/optuse.h"

/* Bit order; aliases share their option's bit. */
static const struct {
	const char *name;
	const char *alias;
} names[] = {
	{ "root", NULL }, { "demo", NULL }, { "driver-type", "driver_type" }, { "config", NULL },
	{ "deviceconfig", NULL }, { "kubeconfig", NULL }, { "json", NULL }, { "quiet", "q" },
	{ "all", NULL }, { "dry-run", NULL }, { "force", NULL }, { "guest", NULL },
	{ "readonly", NULL }, { "apply", NULL }, { "resource-naming", NULL }, { "node-name", NULL },
	{ "param", NULL }, { "module-path", NULL }, { "bind", NULL }, { "resync", NULL },
	{ "kubevirt", NULL }, { "dra", NULL },
};

#define COMMON "root demo driver-type config deviceconfig kubeconfig "

static const struct {
	const char *command;
	const char *options;    /* space-separated long names */
} uses[] = {
	{ "list", COMMON "resource-naming json" },
	{ "check", COMMON "json quiet all guest resource-naming node-name" },
	{ "console", COMMON "resource-naming readonly force" },
	{ "daemon", COMMON "resource-naming node-name resync dry-run force module-path param dra" },
	{ "labels", COMMON "node-name apply json" },
	{ "kubevirt-config", COMMON "resource-naming apply kubevirt dry-run json" },
	{ "bind", COMMON "all dry-run force json quiet" },
	{ "unbind", COMMON "all dry-run force json quiet" },
	{ "gim", COMMON "dry-run force json quiet param module-path bind" },
};

static int bit(const char *name)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(names[i].name, name) == 0 || (names[i].alias && strcmp(names[i].alias, name) == 0))
			return (int)i;
	return -1;
}

void av_optuse_note(struct av_optuse *u, const char *name)
{
	static const char *const anywhere[] = { "check", "daemon", "help", "version" };
	if (!name)
		return;
	int b = bit(name);
	if (b >= 0) {
		u->seen |= 1ULL << b;
		return;
	}
	for (size_t i = 0; i < sizeof(anywhere) / sizeof(*anywhere); i++)
		if (strcmp(anywhere[i], name) == 0)
			return;
	if (!u->unlisted)
		u->unlisted = name;
}

bool av_optuse_accepts(const char *command, const char *name)
{
	int b = bit(name);
	if (b < 0)
		return false;
	const char *canon = names[b].name;
	size_t n = strlen(canon);
	for (size_t i = 0; i < sizeof(uses) / sizeof(*uses); i++) {
		if (strcmp(uses[i].command, command) != 0)
			continue;
		for (const char *p = uses[i].options; (p = strstr(p, canon)) != NULL; p += n)
			if ((p == uses[i].options || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
				return true;
		return false;
	}
	return false;
}

int av_optuse_check(const struct av_optuse *u, const char *command)
{
	if (u->unlisted) {
		fprintf(stderr, "amdvirt: %s: --%s is not an option of %s\n", command, u->unlisted, command);
		return -1;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (!(u->seen & (1ULL << i)) || av_optuse_accepts(command, names[i].name))
			continue;
		fprintf(stderr, "amdvirt: %s: --%s is not an option of %s\n", command, names[i].name, command);
		return -1;
	}
	return 0;
}
