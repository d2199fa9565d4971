/* Kernel modules through libkmod, against ROOT: vfio.modules,
 * amdgpu.blacklist, gim.installed, gim.loaded.
 *
 * libkmod reads /proc/modules, /sys/module and /proc/cmdline of the
 * machine it runs on, whatever kmod_new() was given, so the loaded state
 * and command-line blacklists are read from ROOT here; libkmod answers what
 * is installed (its indexes under ROOT/lib/modules/KVER) and what
 * modprobe.d under ROOT blacklists. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libkmod.h>

#include "checks/ck.h"
#include "host/modprobe.h"
#include "checks/cmdline.h"
#include "base/util.h"

struct ck_kmod {
	struct kmod_ctx *ctx;
	char moddir[PATH_MAX];       /* ROOT/lib/modules/KVER */
	char *proc_modules;
};

static void quiet_log(void *data, int priority, const char *file, int line, const char *fn,
                      const char *format, va_list args)
{
	(void)data, (void)priority, (void)file, (void)line, (void)fn, (void)format, (void)args;
}

static struct ck_kmod *kmod_get(struct av_ck *c)
{
	if (c->kmod)
		return c->kmod;
	c->kmod = calloc(1, sizeof(*c->kmod));
	if (!c->kmod) {
		c->err = -ENOMEM;
		return NULL;
	}
	struct ck_kmod *k = c->kmod;
	if (av_read_all(c->host, "/proc/modules", 8u << 20, &k->proc_modules) < 0)
		k->proc_modules = NULL;
	if (!c->kver[0])
		return k;
	char rel[200];
	snprintf(rel, sizeof(rel), "/lib/modules/%s", c->kver);
	av_host_path(c->host, rel, k->moddir, sizeof(k->moddir));
	static const char *const dirs[] = {
		"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d",
		"/usr/lib/modprobe.d",
	};
	char paths[5][PATH_MAX];
	const char *cfg[6];
	for (size_t i = 0; i < 5; i++) {
		av_host_path(c->host, dirs[i], paths[i], sizeof(paths[i]));
		cfg[i] = paths[i];
	}
	cfg[5] = NULL;
	k->ctx = kmod_new(k->moddir, cfg);
	if (k->ctx)
		kmod_set_log_fn(k->ctx, quiet_log, NULL);
	return k;
}

struct kmod_ctx *ck_kmod_ctx(struct av_ck *c)
{
	struct ck_kmod *k = kmod_get(c);
	return k ? k->ctx : NULL;
}

void ck_kmod_free(struct av_ck *c)
{
	if (!c->kmod)
		return;
	kmod_unref(c->kmod->ctx);
	free(c->kmod->proc_modules);
	free(c->kmod);
	c->kmod = NULL;
}

bool ck_module_loaded(struct av_ck *c, const char *name)
{
	char n[64], path[128];
	av_module_name(n, name, sizeof(n));
	struct ck_kmod *k = kmod_get(c);
	if (k && k->proc_modules) {
		size_t nl = strlen(n);
		for (const char *p = k->proc_modules; *p;) {
			if (strncmp(p, n, nl) == 0 && p[nl] == ' ')
				return true;
			p += strcspn(p, "\n");
			if (*p)
				p++;
		}
	}
	snprintf(path, sizeof(path), "/sys/module/%s/initstate", n);
	return av_exists(c->host, path);
}

/* modules.dep lines are "kernel/drivers/vfio/vfio.ko.zst: deps". */
static bool find_in_list(const char *text, const char *name, bool dep, char *path, size_t size)
{
	size_t nl = strlen(name);
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, dep ? ":\n" : "\n");
		const char *base = p;
		for (const char *q = p; q < p + len; q++)
			if (*q == '/')
				base = q + 1;
		size_t bl = (size_t)(p + len - base);
		/* "gim.ko" itself (uncompressed, as Debian's dkms installs it)
		 * or "gim.ko.zst" and the like. */
		if (bl >= nl + 3 && av_param_name_eq(base, nl, name, nl) && strncmp(base + nl, ".ko", 3) == 0
		    && (bl == nl + 3 || base[nl + 3] == '.')) {
			if (path)
				snprintf(path, size, "%.*s", (int)len, p);
			return true;
		}
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return false;
}

enum ck_mod_state ck_module_state(struct av_ck *c, const char *name, char *path, size_t path_size)
{
	char n[64], sys[128];
	av_module_name(n, name, sizeof(n));
	if (path && path_size)
		path[0] = '\0';
	struct ck_kmod *k = kmod_get(c);
	if (!k)
		return CK_MOD_MISSING;
	bool installed = false, builtin = false;
	if (k->ctx) {
		struct kmod_module *mod = NULL;
		if (kmod_module_new_from_name_lookup(k->ctx, n, &mod) == 0 && mod) {
			const char *p = kmod_module_get_path(mod);
			if (p) {
				installed = true;
				/* Messages name host paths, not ROOT-prefixed ones. */
				const char *root = av_host_root(c->host);
				size_t rl = av_host_is_real_root(c->host) ? 0 : strlen(root);
				if (path)
					snprintf(path, path_size, "%s", strncmp(p, root, rl) == 0 ? p + rl : p);
			} else {
				builtin = true;
			}
			kmod_module_unref(mod);
		}
	}
	if (!installed && !builtin && c->kver[0]) {
		char rel[256], *text = NULL;
		snprintf(rel, sizeof(rel), "/lib/modules/%s/modules.dep", c->kver);
		if (av_read_all(c->host, rel, 32u << 20, &text) >= 0) {
			char found[PATH_MAX];
			if (find_in_list(text, n, true, found, sizeof(found))) {
				installed = true;
				if (path)
					snprintf(path, path_size, "/lib/modules/%s/%s", c->kver, found);
			}
			free(text);
		}
		snprintf(rel, sizeof(rel), "/lib/modules/%s/modules.builtin", c->kver);
		if (!installed && av_read_all(c->host, rel, 8u << 20, &text) >= 0) {
			builtin = find_in_list(text, n, false, NULL, 0);
			free(text);
		}
	}
	if (ck_module_loaded(c, n))
		return CK_MOD_LOADED;
	snprintf(sys, sizeof(sys), "/sys/module/%s", n);
	if (builtin || av_is_dir(c->host, sys))
		return CK_MOD_BUILTIN;
	return installed ? CK_MOD_INSTALLED : CK_MOD_MISSING;
}

/* modinfo strings are NUL-separated "key=value" in .modinfo; a raw scan
 * finds them in uncompressed modules when libkmod cannot parse the file. */
static char *scan_modinfo(const char *data, size_t len, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i + kl + 1 < len; i++) {
		if ((i == 0 || data[i - 1] == '\0') && memcmp(data + i, key, kl) == 0 && data[i + kl] == '=') {
			const char *v = data + i + kl + 1;
			size_t vl = strnlen(v, len - (i + kl + 1));
			return strndup(v, vl);
		}
	}
	return NULL;
}

char *ck_module_installed_version(struct av_ck *c, const char *name)
{
	return ck_module_installed_info(c, name, "version");
}

char *ck_module_installed_info(struct av_ck *c, const char *name, const char *key)
{
	char path[PATH_MAX];
	enum ck_mod_state st = ck_module_state(c, name, path, sizeof(path));
	if (st == CK_MOD_MISSING || !path[0])
		return NULL;
	struct ck_kmod *k = c->kmod;
	char full[PATH_MAX];
	av_host_path(c->host, path, full, sizeof(full));
	char *version = NULL;
	struct kmod_module *mod = NULL;
	if (k && k->ctx && kmod_module_new_from_path(k->ctx, full, &mod) == 0) {
		struct kmod_list *info = NULL, *l;
		if (kmod_module_get_info(mod, &info) >= 0) {
			kmod_list_foreach(l, info)
				if (!version && strcmp(kmod_module_info_get_key(l), key) == 0)
					version = strdup(kmod_module_info_get_value(l));
			kmod_module_info_free_list(info);
		}
		kmod_module_unref(mod);
	}
	if (!version) {
		char *data = NULL;
		ssize_t n = av_read_all(c->host, path, 256u << 20, &data);
		if (n > 0)
			version = scan_modinfo(data, (size_t)n, key);
		free(data);
	}
	return version;
}

static const char *state_name(enum ck_mod_state s)
{
	switch (s) {
	case CK_MOD_LOADED: return "loaded";
	case CK_MOD_BUILTIN: return "built in";
	case CK_MOD_INSTALLED: return "installed";
	case CK_MOD_MISSING: break;
	}
	return "missing";
}

void ck_vfio_modules(struct av_ck *c)
{
	static const char *const mods[] = { "vfio", "vfio_pci", "vfio_iommu_type1" };
	enum ck_mod_state st[3];
	char missing[128] = "", states[200] = "";
	for (int i = 0; i < 3; i++) {
		st[i] = ck_module_state(c, mods[i], NULL, 0);
		if (c->err)
			return;
		/* iommufd can stand in for the type1 container backend. */
		if (i == 2 && st[i] == CK_MOD_MISSING && ck_module_state(c, "iommufd", NULL, 0) != CK_MOD_MISSING)
			continue;
		if (st[i] == CK_MOD_MISSING)
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
			         missing[0] ? ", " : "", mods[i]);
		snprintf(states + strlen(states), sizeof(states) - strlen(states), "%s%s %s", i ? ", " : "", mods[i],
		         state_name(st[i]));
	}
	char moddir[200];
	snprintf(moddir, sizeof(moddir), "/lib/modules/%s", c->kver[0] ? c->kver : "KVER");
	if (missing[0]) {
		char hint[300];
		snprintf(hint, sizeof(hint), "install the kernel's extra modules (Ubuntu: linux-modules-extra-%s; "
		         "RHEL: kernel-modules) or build with CONFIG_VFIO_PCI", c->kver[0] ? c->kver : "$(uname -r)");
		ck_add(c, AV_CHECK_FAIL, "host", hint, moddir, states, "not available for kernel %s: %s",
		       c->kver[0] ? c->kver : "(unknown)", missing);
		return;
	}
	bool vfio_up = st[0] == CK_MOD_LOADED || st[0] == CK_MOD_BUILTIN;
	if (vfio_up && !c->m->have_vfio_container && !c->m->have_iommufd) {
		ck_add(c, AV_CHECK_FAIL, "host", "check that udev/devtmpfs is running; reload vfio", "/dev/vfio/vfio",
		       "missing", "vfio is %s but /dev/vfio/vfio does not exist", state_name(st[0]));
		return;
	}
	ck_add(c, AV_CHECK_PASS, "host", NULL, vfio_up ? "/dev/vfio/vfio" : moddir, states, "%s%s", states,
	       vfio_up ? "" : " (amdvirt bind loads vfio-pci)");
}

void ck_gim_installed(struct av_ck *c)
{
	char path[PATH_MAX];
	enum ck_mod_state st = ck_module_state(c, "gim", path, sizeof(path));
	if (c->err)
		return;
	char hint[300];
	snprintf(hint, sizeof(hint), "install gim-dkms for kernel %s (dkms status shows what is built)",
	         c->kver[0] ? c->kver : "$(uname -r)");
	if (path[0]) {
		char *v = ck_module_installed_version(c, "gim");
		ck_add(c, AV_CHECK_PASS, "host", NULL, path, v ? v : "unknown version", "gim %s installed for %s",
		       v ? v : "(no version)", c->kver);
		free(v);
	} else if (st == CK_MOD_LOADED) {
		ck_add(c, AV_CHECK_WARN, "host", hint, "/sys/module/gim", "loaded",
		       "gim is loaded but not installed for %s: it will be gone after a reboot", c->kver);
	} else {
		char dir[200];
		snprintf(dir, sizeof(dir), "/lib/modules/%s", c->kver[0] ? c->kver : "KVER");
		ck_add(c, AV_CHECK_FAIL, "host", hint, dir, "no gim module", "gim is not installed for kernel %s",
		       c->kver[0] ? c->kver : "(unknown: no /proc/sys/kernel/osrelease)");
	}
}

/* Versions compare up to a '+' build suffix, as the node label does. */
static bool version_eq(const char *a, const char *b)
{
	size_t la = strcspn(a, "+"), lb = strcspn(b, "+");
	return la == lb && strncmp(a, b, la) == 0;
}

void ck_gim_loaded(struct av_ck *c)
{
	if (!ck_module_loaded(c, "gim")) {
		ck_add(c, AV_CHECK_WARN, "host", "amdvirt gim load (or modprobe gim); add gim to "
		       "/etc/modules-load.d/ so it loads at boot: it has no modalias", "/sys/module/gim", "missing",
		       "gim is not loaded");
		return;
	}
	char loaded[64] = "";
	av_read_text(c->host, "/sys/module/gim/version", loaded, sizeof(loaded));
	char *installed = ck_module_installed_version(c, "gim");
	const char *want = c->m->config ? c->m->config->version : NULL;
	char msg[400] = "";
	if (installed && loaded[0] && !version_eq(installed, loaded))
		snprintf(msg, sizeof(msg), "loaded gim %s differs from the installed %s", loaded, installed);
	/* Same version string, different build: a rebuilt DKMS module. */
	char src[64] = "";
	char *isrc = NULL;
	if (!msg[0] && av_read_text(c->host, "/sys/module/gim/srcversion", src, sizeof(src)) > 0
	    && (isrc = ck_module_installed_info(c, "gim", "srcversion")) && strcmp(src, isrc) != 0)
		snprintf(msg, sizeof(msg), "loaded gim (srcversion %s) is not the installed build (srcversion %s)", src,
		         isrc);
	free(isrc);
	if (want && loaded[0] && !version_eq(want, loaded))
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%sloaded gim %s is not the configured "
		         "spec.driver.version %s", msg[0] ? "; " : "", loaded, want);
	if (msg[0])
		ck_add(c, AV_CHECK_WARN, "host", "reload gim when no VM uses a VF (amdvirt gim unload; amdvirt gim load), "
		       "or install the configured version", "/sys/module/gim/version", loaded, "%s", msg);
	else
		ck_add(c, AV_CHECK_PASS, "host", NULL, "/sys/module/gim/version", loaded[0] ? loaded : "unknown",
		       "gim %s is loaded%s", loaded[0] ? loaded : "(no version file)",
		       installed ? " and matches the installed module" : "");
	free(installed);
}
