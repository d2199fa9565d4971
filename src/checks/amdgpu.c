/* amdgpu.blacklist: amdgpu kept away from the GPUs, on the command line or
 * in modprobe.d (read through libkmod). */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libkmod.h>

#include "checks/ck.h"
#include "host/modprobe.h"
#include "checks/cmdline.h"

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
			enum av_modprobe_block b = av_modprobe_blocks(text, "amdgpu");
			const char *found = b == AV_MODPROBE_BLACKLIST     ? "blacklist amdgpu in modprobe.d"
			                    : b == AV_MODPROBE_INSTALL_FALSE ? "install amdgpu /bin/false in modprobe.d"
			                                                     : NULL;
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
	struct kmod_ctx *ctx = ck_kmod_ctx(c);
	if (!ctx)
		return NULL;
	/* libkmod adds the blacklist of the running machine's /proc/cmdline;
	 * under another root that could be a blacklist the root does not have. */
	if (!av_host_is_real_root(c->host) && real_cmdline_blacklists_amdgpu())
		return modprobe_d_blacklists_amdgpu(c);
	const char *found = NULL;
	struct kmod_config_iter *it = kmod_config_get_blacklists(ctx);
	while (it && !found && kmod_config_iter_next(it))
		if (strcmp(kmod_config_iter_get_key(it), "amdgpu") == 0)
			found = "blacklist amdgpu in modprobe.d";
	kmod_config_iter_free_iter(it);
	it = kmod_config_get_install_commands(ctx);
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
	/* One line per GPU function; without any, the host line is the answer. */
	for (int i = 0; i < c->m->n_funcs; i++) {
		const struct av_func *f = &c->m->funcs[i];
		if (!av_func_is_gpu(f))
			continue;
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
	const char *how = amdgpu_blacklisted(c);
	bool loaded = ck_module_loaded(c, "amdgpu");
	if (!how && !ck_cmdline_or_skip(c))
		return; /* the blacklist may be on the command line we cannot read */
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
