#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <libkmod.h>

#include "kmod.h"
#include "modprobe.h"
#include "util.h"

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

/* modprobe.d under ROOT, so that a containerised amdvirt honours the
 * host's options and blacklists, not the image's. */
static struct kmod_ctx *open_ctx(struct av_host *host, char **cause)
{
	char rel[256], dir[4096], p1[4096], p2[4096], p3[4096];
	int r = av_kmod_release(host, rel, sizeof(rel));
	if (r < 0) {
		av_set_cause(cause, "kernel release: %s", strerror(-r));
		return NULL;
	}
	char hostdir[300];
	snprintf(hostdir, sizeof(hostdir), "/lib/modules/%s", rel);
	av_host_path(host, hostdir, dir, sizeof(dir));
	const char *conf[] = { av_host_path(host, "/etc/modprobe.d", p1, sizeof(p1)),
	                       av_host_path(host, "/run/modprobe.d", p2, sizeof(p2)),
	                       av_host_path(host, "/lib/modprobe.d", p3, sizeof(p3)), NULL };
	struct kmod_ctx *ctx = kmod_new(dir, av_host_is_real_root(host) ? NULL : conf);
	if (!ctx)
		av_set_cause(cause, "libkmod cannot use %s", dir);
	return ctx;
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
	struct kmod_ctx *ctx = open_ctx(host, cause);
	struct kmod_module *mod = NULL;
	struct kmod_list *list = NULL;
	int r;
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
			r = kmod_module_probe_insert_module(mod, 0, params && *params ? params : NULL, NULL, NULL, NULL);
		}
	}
	if (r < 0)
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
	struct kmod_ctx *ctx = open_ctx(host, cause);
	struct kmod_module *mod = NULL;
	if (!ctx)
		return -ENOENT;
	int r = kmod_module_new_from_name(ctx, module, &mod);
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
