#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <libkmod.h>

#include "actions/kmod.h"
#include "host/modprobe.h"
#include "base/util.h"

static const struct av_kmod_ops *ops;
static void *ops_user;

void av_kmod_set_ops(const struct av_kmod_ops *o, void *user)
{
	ops = o;
	ops_user = user;
}

int av_kmod_release(struct av_host *host, char *buf, size_t size)
{
	struct utsname u;
	if (!av_host_is_real_root(host) && av_read_text(host, "/proc/sys/kernel/osrelease", buf, size) > 0)
		return 0;
	if (uname(&u) < 0)
		return -errno;
	snprintf(buf, size, "%s", u.release);
	return 0;
}

static const char *const conf_dirs[] = { AV_MODPROBE_DIRS };
#define N_CONF_DIRS (sizeof(conf_dirs) / sizeof(conf_dirs[0]))

/* modprobe.d under ROOT, so that a containerised amdvirt honours the
 * host's options and blacklists, not the image's. */
static struct kmod_ctx *open_ctx(struct av_host *host, char **cause)
{
	char rel[256], dir[4096], paths[N_CONF_DIRS][PATH_MAX];
	const char *conf[N_CONF_DIRS + 1];
	int r = av_kmod_release(host, rel, sizeof(rel));
	if (r < 0) {
		av_set_cause(cause, "kernel release: %s", strerror(-r));
		return NULL;
	}
	char hostdir[300];
	snprintf(hostdir, sizeof(hostdir), "/lib/modules/%s", rel);
	av_host_path(host, hostdir, dir, sizeof(dir));
	for (size_t i = 0; i < N_CONF_DIRS; i++)
		conf[i] = av_host_path(host, conf_dirs[i], paths[i], sizeof(paths[i]));
	conf[N_CONF_DIRS] = NULL;
	struct kmod_ctx *ctx = kmod_new(dir, av_host_is_real_root(host) ? NULL : conf);
	if (!ctx)
		av_set_cause(cause, "libkmod cannot use %s", dir);
	return ctx;
}

/* Modules go into the running kernel whatever the root: a root that runs
 * another kernel (a snapshot, another machine's disk) is not the machine
 * they would change.  -EXDEV with *cause when that is so. */
static int same_kernel(struct av_host *host, const char *doing, const char *module, char **cause)
{
	char rel[256], path[PATH_MAX];
	struct utsname u;
	if (av_host_is_real_root(host))
		return 0;
	int r = av_kmod_release(host, rel, sizeof(rel));
	if (r == 0 && uname(&u) < 0)
		r = -errno;
	if (r < 0) {
		av_set_cause(cause, "%s %s: kernel release: %s", doing, module, strerror(-r));
		return r;
	}
	if (strcmp(rel, u.release) == 0)
		return 0;
	av_set_cause(cause, "%s %s: %s says the root runs kernel %s, but this machine runs %s: modules would go into "
	             "the running kernel, so amdvirt changes none for this root",
	             doing, module, av_host_path(host, "/proc/sys/kernel/osrelease", path, sizeof(path)), rel, u.release);
	return -EXDEV;
}

/* modprobe would run an "install" (or "remove") line instead of loading:
 * a command from the tree, run as root on this machine.  Under a root
 * other than "/" amdvirt refuses, naming the file and the line.  -EPERM
 * with *cause when there is one. */
static int no_command(struct av_host *host, const char *verb, const char *doing, const char *module,
                      const char *asked, char **cause)
{
	if (av_host_is_real_root(host))
		return 0;
	for (size_t i = 0; i < N_CONF_DIRS; i++) {
		DIR *d = av_opendir(host, conf_dirs[i]);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			size_t l = strlen(de->d_name), len;
			char path[PATH_MAX], full[PATH_MAX], *text = NULL;
			const char *line;
			if (l < 6 || strcmp(de->d_name + l - 5, ".conf") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", conf_dirs[i], de->d_name);
			if (av_read_all(host, path, 1 << 20, &text) < 0)
				continue;
			line = av_modprobe_command(text, verb, module, &len);
			if (line)
				av_set_cause(cause, "%s %s: %s: '%.*s': amdvirt runs no modprobe.d command under a root "
				             "other than / (it would run on this machine)",
				             doing, asked, av_host_path(host, path, full, sizeof(full)), (int)len, line);
			free(text);
			if (line) {
				closedir(d);
				return -EPERM;
			}
		}
		if (d)
			closedir(d);
	}
	return 0;
}

/* libkmod's hook for an install command, under a root other than "/":
 * one the scan above did not see (a dependency's, a soft dependency's)
 * is refused all the same. */
struct refused {
	char module[64];
	char cmd[256];
};

static int refuse_install(struct kmod_module *mod, const char *cmdline, void *data)
{
	struct refused *rf = data;
	const char *name = kmod_module_get_name(mod);
	snprintf(rf->module, sizeof(rf->module), "%s", name ? name : "?");
	snprintf(rf->cmd, sizeof(rf->cmd), "%s", cmdline ? cmdline : "");
	return -EPERM;
}

static bool is_path(const char *module)
{
	size_t n = strlen(module);
	return strchr(module, '/') || (n > 3 && strcmp(module + n - 3, ".ko") == 0)
	       || (n > 6 && strstr(module, ".ko."));
}

/* ROOT/sys/module/NAME exists for a loaded or built-in module ('-' and
 * '_' are one in module names, sysfs spells them '_'). */
static bool already_loaded(struct av_host *host, const char *module)
{
	char name[64], path[128];
	av_module_name(name, module, sizeof(name));
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return strlen(module) < sizeof(name) && av_exists(host, path);
}

static int kmod_load(struct av_host *host, const char *module, const char *params, char **cause)
{
	/* What modprobe would find and skip: answered without the module
	 * index, which a container may not have mounted. */
	if (!is_path(module) && already_loaded(host, module))
		return 0;
	int r = same_kernel(host, "loading", module, cause);
	if (r == 0 && !is_path(module))
		r = no_command(host, "install", "loading", module, module, cause);
	if (r < 0)
		return r;
	struct kmod_ctx *ctx = open_ctx(host, cause);
	struct kmod_module *mod = NULL;
	struct kmod_list *list = NULL;
	struct refused rf = { "", "" };
	if (!ctx)
		return -ENOENT;
	if (is_path(module)) {
		/* A file from a driver image: no dependency resolution, so the
		 * plan loads what it needs (vfio-pci) first. */
		r = kmod_module_new_from_path(ctx, module, &mod);
		if (r == 0)
			r = kmod_module_insert_module(mod, 0, params && *params ? params : NULL);
		if (r == -EEXIST)
			r = 0;
	} else {
		r = kmod_module_new_from_lookup(ctx, module, &list);
		if (r == 0 && !list)
			r = -ENOENT;
		if (r == 0) {
			mod = kmod_module_get_module(list);
			r = kmod_module_probe_insert_module(mod, 0, params && *params ? params : NULL,
			                                    av_host_is_real_root(host) ? NULL : refuse_install, &rf, NULL);
		}
	}
	if (r < 0 && rf.module[0]) {
		if (no_command(host, "install", "loading", rf.module, module, cause) == 0)
			av_set_cause(cause, "loading %s: modprobe.d under %s says 'install %s %s': amdvirt runs no "
			             "modprobe.d command under a root other than / (it would run on this machine)",
			             module, av_host_root(host), rf.module, rf.cmd);
	} else if (r < 0)
		av_set_cause(cause, "loading %s: %s", module,
		             r == -ENOENT ? "no such module for this kernel" : strerror(-r));
	else if (r > 0) {
		av_set_cause(cause, "loading %s: blacklisted", module);
		r = -EPERM;
	}
	kmod_module_unref(mod);
	kmod_module_unref_list(list);
	kmod_unref(ctx);
	return r;
}

static int kmod_unload(struct av_host *host, const char *module, char **cause)
{
	int r = same_kernel(host, "unloading", module, cause);
	if (r == 0)
		r = no_command(host, "remove", "unloading", module, module, cause);
	if (r < 0)
		return r;
	struct kmod_ctx *ctx = open_ctx(host, cause);
	struct kmod_module *mod = NULL;
	if (!ctx)
		return -ENOENT;
	r = kmod_module_new_from_name(ctx, module, &mod);
	if (r == 0)
		r = kmod_module_remove_module(mod, 0);
	if (r < 0)
		av_set_cause(cause, "unloading %s: %s", module, r == -EBUSY ? "in use" : strerror(-r));
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return r;
}

int av_kmod_load(struct av_host *host, const char *module, const char *params, char **cause)
{
	if (ops)
		return ops->load(host, module, params, cause, ops_user);
	return kmod_load(host, module, params, cause);
}

int av_kmod_unload(struct av_host *host, const char *module, char **cause)
{
	if (ops)
		return ops->unload(host, module, cause, ops_user);
	return kmod_unload(host, module, cause);
}
