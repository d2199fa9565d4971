/* Kernel modules through libkmod, against ROOT: vfio.modules,
 * amdgpu.blacklist, gim.installed, gim.loaded.
 *
 * libkmod reads /proc/modules, /sys/module and /proc/cmdline of the
 * machine it runs on, whatever kmod_new() was given, so the loaded state
 * and command-line blacklists are read from ROOT here; libkmod answers what
 * is installed (its indexes under ROOT/lib/modules/KVER) and what
 * modprobe.d under ROOT blacklists. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libkmod.h>

#include "checks/ck.h"
#include "checks/cmdline.h"
#include "util.h"

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

void ck_kmod_free(struct av_ck *c)
{
	if (!c->kmod)
		return;
	kmod_unref(c->kmod->ctx);
	free(c->kmod->proc_modules);
	free(c->kmod);
	c->kmod = NULL;
}

static void underscore(char *dst, const char *src, size_t size)
{
	snprintf(dst, size, "%s", src);
	for (char *p = dst; *p; p++)
		if (*p == '-')
			*p = '_';
}

bool ck_module_loaded(struct av_ck *c, const char *name)
{
	char n[64], path[128];
	underscore(n, name, sizeof(n));
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
		if (bl > nl + 3 && av_param_name_eq(base, nl, name, nl) && strncmp(base + nl, ".ko", 3) == 0
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
	underscore(n, name, sizeof(n));
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
				if (!version && strcmp(kmod_module_info_get_key(l), "version") == 0)
					version = strdup(kmod_module_info_get_value(l));
			kmod_module_info_free_list(info);
		}
		kmod_module_unref(mod);
	}
	if (!version) {
		char *data = NULL;
		ssize_t n = av_read_all(c->host, path, 256u << 20, &data);
		if (n > 0)
			version = scan_modinfo(data, (size_t)n, "version");
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

static bool real_cmdline_blacklists_amdgpu(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/cmdline", "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	struct av_cmdline cmd;
	if (av_cmdline_parse(buf, &cmd) < 0)
		return true;
	bool hit = av_cmdline_has_item(&cmd, "modprobe.blacklist", "amdgpu");
	av_cmdline_free(&cmd);
	return hit;
}

/* The same reading of modprobe.d that libkmod does, for that case. */
static const char *modprobe_d_blacklists_amdgpu(struct av_ck *c)
{
	static const char *const dirs[] = {
		"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/lib/modprobe.d",
		"/usr/lib/modprobe.d",
	};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		DIR *d = av_opendir(c->host, dirs[i]);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			size_t l = strlen(de->d_name);
			if (l < 6 || strcmp(de->d_name + l - 5, ".conf") != 0)
				continue;
			char path[PATH_MAX], *text = NULL;
			snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name);
			if (av_read_all(c->host, path, 1 << 20, &text) < 0)
				continue;
			const char *found = NULL;
			char *save = NULL;
			for (char *line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
				char w1[32], w2[64], w3[64] = "";
				int n = sscanf(line, "%31s %63s %63s", w1, w2, w3);
				if (n >= 2 && strcmp(w1, "blacklist") == 0 && strcmp(w2, "amdgpu") == 0)
					found = "blacklist amdgpu in modprobe.d";
				else if (n == 3 && strcmp(w1, "install") == 0 && strcmp(w2, "amdgpu") == 0
				         && (strstr(w3, "/false") || strstr(w3, "/true")))
					found = "install amdgpu /bin/false in modprobe.d";
			}
			free(text);
			if (found) {
				closedir(d);
				return found;
			}
		}
		if (d)
			closedir(d);
	}
	return NULL;
}

/* amdgpu kept from loading by the kernel command line or modprobe.d. */
static const char *amdgpu_blacklisted(struct av_ck *c)
{
	int err;
	const char *text = ck_cmdline(c, &err);
	struct av_cmdline cmd = { 0 };
	if (text && av_cmdline_parse(text, &cmd) == 0) {
		bool hit = av_cmdline_has_item(&cmd, "modprobe.blacklist", "amdgpu");
		bool hard = av_cmdline_has_item(&cmd, "module_blacklist", "amdgpu");
		av_cmdline_free(&cmd);
		if (hard)
			return "module_blacklist=amdgpu on the kernel command line";
		if (hit)
			return "modprobe.blacklist=amdgpu on the kernel command line";
	}
	struct ck_kmod *k = kmod_get(c);
	if (!k || !k->ctx)
		return NULL;
	/* libkmod adds the blacklist of the running machine's /proc/cmdline;
	 * under another root that could be a blacklist the root does not have. */
	if (!av_host_is_real_root(c->host) && real_cmdline_blacklists_amdgpu())
		return modprobe_d_blacklists_amdgpu(c);
	const char *found = NULL;
	struct kmod_config_iter *it = kmod_config_get_blacklists(k->ctx);
	while (it && !found && kmod_config_iter_next(it))
		if (strcmp(kmod_config_iter_get_key(it), "amdgpu") == 0)
			found = "blacklist amdgpu in modprobe.d";
	kmod_config_iter_free_iter(it);
	it = kmod_config_get_install_commands(k->ctx);
	while (it && !found && kmod_config_iter_next(it)) {
		const char *v = kmod_config_iter_get_value(it);
		if (strcmp(kmod_config_iter_get_key(it), "amdgpu") == 0 && v
		    && (strstr(v, "/false") || strstr(v, "/true")))
			found = "install amdgpu /bin/false in modprobe.d";
	}
	kmod_config_iter_free_iter(it);
	return found;
}

void ck_amdgpu_blacklist(struct av_ck *c)
{
	int n = 0;
	for (int i = 0; i < c->m->n_funcs; i++) {
		const struct av_func *f = &c->m->funcs[i];
		if (!av_func_is_gpu(f))
			continue;
		n++;
		char path[96];
		ck_dev_path(path, sizeof(path), f->bdf, "driver");
		if (av_func_on(f, "amdgpu"))
			ck_add(c, AV_CHECK_FAIL, f->bdf,
			       "unbind it (amdvirt bind / echo BDF > /sys/bus/pci/drivers/amdgpu/unbind), add "
			       "modprobe.blacklist=amdgpu, rebuild the initramfs and reboot: an amdgpu reset loses "
			       "gim's SR-IOV BAR state",
			       path, "amdgpu", "%s %s is bound to amdgpu", f->role == AV_ROLE_VF ? "VF" : "PF", f->bdf);
		else
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, f->driver[0] ? f->driver : "none",
			       "not on amdgpu (%s)", f->driver[0] ? f->driver : "unbound");
	}
	if (!n)
		ck_no_subjects(c, "AMD GPU function");
	const char *how = amdgpu_blacklisted(c);
	bool loaded = ck_module_loaded(c, "amdgpu");
	if (!how)
		ck_add(c, AV_CHECK_WARN, "host",
		       "add modprobe.blacklist=amdgpu to the kernel command line (or `blacklist amdgpu` in "
		       "/etc/modprobe.d/amdvirt.conf), rebuild the initramfs and reboot",
		       "/proc/cmdline", loaded ? "amdgpu loaded" : "not blacklisted",
		       "amdgpu is not blacklisted: at boot it claims every AMD GPU and VF before gim or vfio-pci%s",
		       loaded ? " (it is loaded now)" : "");
	else if (loaded)
		ck_add(c, AV_CHECK_NOTE, "host", "unload it when no GPU needs it: modprobe -r amdgpu", "/proc/modules",
		       "amdgpu", "amdgpu is blacklisted (%s) but loaded, probably by an explicit modprobe", how);
	else
		ck_add(c, AV_CHECK_PASS, "host", NULL, strstr(how, "command line") ? "/proc/cmdline" : "/etc/modprobe.d",
		       how, "amdgpu is kept away: %s", how);
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
