/* boot.pending-reboot, boot.initramfs: the running kernel command line
 * and initramfs against what the boot configuration says. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"
#include "checks/cmdline.h"
#include "checks/grub.h"
#include "base/util.h"

/* Parameters whose presence changes what passthrough sees after a reboot. */
static bool param_matters(const char *tok)
{
	static const char *const names[] = {
		"iommu", "amd_iommu", "intel_iommu", "modprobe.blacklist", "module_blacklist", "pci",
		"pcie_acs_override", "rd.driver.pre", "rd.driver.blacklist", "rd.driver.post",
	};
	static const char *const prefixes[] = {
		"iommu.", "vfio.", "vfio_pci.", "vfio-pci.", "vfio_iommu_type1.", "gim.", "amdgpu.", "kvm_amd.",
		"kvm_intel.", "kvm.",
	};
	size_t nl = av_param_name_len(tok);
	const char *v = tok[nl] ? tok + nl + 1 : "";
	/* The no-ops (cmdline.params) change nothing either way. */
	if ((av_param_name_eq(tok, nl, "amd_iommu", 9) || av_param_name_eq(tok, nl, "iommu", 5))
	    && (strcmp(v, "on") == 0 || strcmp(v, "1") == 0))
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (av_param_name_eq(tok, nl, names[i], strlen(names[i])))
			return true;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i]);
		if (nl > pl && av_param_name_eq(tok, pl, prefixes[i], pl))
			return true;
	}
	return false;
}

/* What boot loaders add around the configured parameters. */
static bool loader_token(const char *tok)
{
	static const char *const names[] = { "BOOT_IMAGE", "initrd" };
	size_t nl = av_param_name_len(tok);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (av_param_name_eq(tok, nl, names[i], strlen(names[i])))
			return true;
	return false;
}

/* grub-mkconfig adds root=, ro and Ubuntu's vt.handoff itself. */
static bool grub_token(const char *tok)
{
	static const char *const names[] = { "root", "ro", "rw", "vt.handoff" };
	size_t nl = av_param_name_len(tok);
	if (loader_token(tok))
		return true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (av_param_name_eq(tok, nl, names[i], strlen(names[i])))
			return true;
	return false;
}

struct source {
	char path[300];          /* what to name in messages */
	char *line;              /* the configured parameters */
	bool (*skip)(const char *tok);
	bool grub;
	int err;                 /* a file that exists but cannot be parsed */
	char err_msg[700];
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir ending in suffix; count or -errno. */
static int list_dir(struct av_ck *c, const char *dir, const char *suffix, char ***out)
{
	*out = NULL;
	DIR *d = av_opendir(c->host, dir);
	if (!d)
		return -errno;
	int n = 0;
	struct dirent *de;
	size_t sl = strlen(suffix);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l <= sl || strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		char **grown = realloc(*out, ((size_t)n + 1) * sizeof(char *));
		char *name = grown ? strdup(de->d_name) : NULL;
		if (!name) {
			free(grown ? grown : *out);
			*out = NULL;
			closedir(d);
			c->err = -ENOMEM;
			return -ENOMEM;
		}
		*out = grown;
		(*out)[n++] = name;
	}
	closedir(d);
	if (n)
		qsort(*out, (size_t)n, sizeof(char *), cmp_str);
	return n;
}

static void free_list(char **l, int n)
{
	for (int i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* /etc/default/grub and /etc/default/grub.d/ *.cfg, in the order
 * grub-mkconfig sources them.  Returns 1 when found, 0 when absent. */
static int grub_source(struct av_ck *c, struct source *s)
{
	char *text = NULL;
	ssize_t r = av_read_all(c->host, "/etc/default/grub", 1 << 20, &text);
	if (r == -ENOENT)
		return 0;
	snprintf(s->path, sizeof(s->path), "/etc/default/grub");
	s->skip = grub_token;
	s->grub = true;
	if (r < 0) {
		s->err = (int)r;
		snprintf(s->err_msg, sizeof(s->err_msg), "cannot read /etc/default/grub: %s", ck_errstr((int)r));
		return 1;
	}
	struct av_shvars vars = { 0 };
	int bad = 0;
	int pr = av_grub_source(text, &vars, &bad);
	free(text);
	if (pr == -EINVAL) {
		s->err = pr;
		snprintf(s->err_msg, sizeof(s->err_msg), "/etc/default/grub line %d: unterminated quote", bad);
	}
	char **names = NULL;
	int n = pr == 0 ? list_dir(c, "/etc/default/grub.d", ".cfg", &names) : 0;
	for (int i = 0; i < n && !s->err; i++) {
		char path[300];
		snprintf(path, sizeof(path), "/etc/default/grub.d/%s", names[i]);
		if (av_read_all(c->host, path, 1 << 20, &text) < 0)
			continue;
		pr = av_grub_source(text, &vars, &bad);
		free(text);
		if (pr == -EINVAL) {
			s->err = pr;
			snprintf(s->err_msg, sizeof(s->err_msg), "%s line %d: unterminated quote", path, bad);
		}
		if (pr == 0 && strlen(s->path) + strlen(names[i]) + 24 < sizeof(s->path))
			snprintf(s->path + strlen(s->path), sizeof(s->path) - strlen(s->path), " + grub.d/%s", names[i]);
	}
	free_list(names, n);
	if (pr == -ENOMEM) {
		c->err = -ENOMEM;
		av_shvars_free(&vars);
		return 1;
	}
	const char *l = av_shvars_get(&vars, "GRUB_CMDLINE_LINUX");
	const char *d = av_shvars_get(&vars, "GRUB_CMDLINE_LINUX_DEFAULT");
	s->line = av_strdup_printf("%s%s%s", l ? l : "", l && d ? " " : "", d ? d : "");
	av_shvars_free(&vars);
	if (!s->line)
		c->err = -ENOMEM;
	return 1;
}

struct envlook {
	const char *env;
	char *last;             /* the value handed out last, owned here */
};

static const char *grubenv_lookup(const char *name, void *user)
{
	struct envlook *e = user;
	free(e->last);
	e->last = e->env ? av_grubenv_get(e->env, name) : NULL;
	return e->last;
}

/* The BLS entry of the running kernel.  1 when found. */
static int bls_source(struct av_ck *c, struct source *s)
{
	char **names = NULL;
	int n = list_dir(c, "/boot/loader/entries", ".conf", &names);
	int found = 0;
	for (int i = 0; i < n && !found && c->kver[0]; i++) {
		char path[300], *text = NULL;
		snprintf(path, sizeof(path), "/boot/loader/entries/%s", names[i]);
		if (av_read_all(c->host, path, 1 << 20, &text) < 0)
			continue;
		struct av_bls_entry e;
		if (av_bls_parse(text, &e) < 0) {
			free(text);
			c->err = -ENOMEM;
			break;
		}
		free(text);
		size_t kl = strlen(c->kver), ll = e.linux_path ? strlen(e.linux_path) : 0;
		bool match = (e.version && strcmp(e.version, c->kver) == 0)
		             || (ll >= kl && strcmp(e.linux_path + ll - kl, c->kver) == 0);
		if (match) {
			found = 1;
			snprintf(s->path, sizeof(s->path), "%s", path);
			s->skip = loader_token;
			/* RHEL 8 keeps the options in grubenv as $kernelopts. */
			char *env = NULL;
			if (strchr(e.options, '$'))
				av_read_all(c->host, "/boot/grub2/grubenv", 1 << 16, &env);
			struct envlook look = { .env = env };
			s->line = av_expand_vars(e.options, grubenv_lookup, &look);
			free(look.last);
			free(env);
			if (!s->line)
				c->err = -ENOMEM;
		}
		av_bls_free(&e);
	}
	free_list(names, n > 0 ? n : 0);
	return found;
}

static int kernel_cmdline_source(struct av_ck *c, struct source *s)
{
	ssize_t r = av_read_all(c->host, "/etc/kernel/cmdline", 1 << 16, &s->line);
	if (r == -ENOENT)
		return 0;
	snprintf(s->path, sizeof(s->path), "/etc/kernel/cmdline");
	s->skip = loader_token;
	if (r < 0) {
		s->err = (int)r;
		snprintf(s->err_msg, sizeof(s->err_msg), "cannot read /etc/kernel/cmdline: %s", ck_errstr((int)r));
	}
	return 1;
}

static void join(char *buf, size_t size, const char **toks, int n)
{
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, size - l, "%s%s", i ? " " : "", toks[i]);
	}
}

/* grub.cfg older than the files it is generated from. */
static const char *stale_grub_cfg(struct av_ck *c)
{
	static const char *const cfgs[] = { "/boot/grub/grub.cfg", "/boot/grub2/grub.cfg" };
	long long src = av_mtime(c->host, "/etc/default/grub");
	char **names = NULL;
	int n = list_dir(c, "/etc/default/grub.d", ".cfg", &names);
	for (int i = 0; i < n; i++) {
		char path[300];
		snprintf(path, sizeof(path), "/etc/default/grub.d/%s", names[i]);
		long long t = av_mtime(c->host, path);
		if (t > src)
			src = t;
	}
	free_list(names, n > 0 ? n : 0);
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		long long t = av_mtime(c->host, cfgs[i]);
		if (t >= 0 && src >= 0 && t < src)
			return cfgs[i];
	}
	return NULL;
}

void ck_boot_pending_reboot(struct av_ck *c)
{
	const char *text = ck_cmdline_or_skip(c);
	if (!text)
		return;
	struct source bls = { .err = 0 }, kcl = { .err = 0 }, grub = { .err = 0 };
	bool have_bls = bls_source(c, &bls) > 0;
	bool have_kcl = !have_bls && kernel_cmdline_source(c, &kcl) > 0;
	bool have_grub = grub_source(c, &grub) > 0;
	struct source *s = have_bls ? &bls : have_kcl ? &kcl : have_grub ? &grub : NULL;
	struct av_cmdline run = { 0 }, conf = { 0 }, gconf = { 0 };
	const char **missing = NULL, **extra = NULL, **unsynced = NULL;
	int n_missing = 0, n_extra = 0, n_unsynced = 0;

	if (c->err)
		goto out;
	if (!s) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, "/etc/default/grub", "missing",
		       "no boot configuration found (/etc/default/grub, /boot/loader/entries for %s, "
		       "/etc/kernel/cmdline)", c->kver[0] ? c->kver : "the running kernel");
		goto out;
	}
	if (s->err) {
		ck_add(c, AV_CHECK_SKIP, "host", "fix the file; `sh -n FILE` shows shell syntax errors", s->path, NULL,
		       "%s", s->err_msg);
		goto out;
	}
	if (av_cmdline_parse(text, &run) < 0 || av_cmdline_parse(s->line, &conf) < 0)
		goto oom;
	n_missing = av_cmdline_minus(&conf, &run, s->skip, &missing);
	n_extra = av_cmdline_minus(&run, &conf, s->skip, &extra);
	if (n_missing < 0 || n_extra < 0)
		goto oom;
	/* With BLS, /etc/default/grub only reaches the entries through
	 * grub2-mkconfig --update-bls-cmdline or grubby. */
	if (s == &bls && have_grub && !grub.err) {
		if (av_cmdline_parse(grub.line, &gconf) < 0)
			goto oom;
		n_unsynced = av_cmdline_minus(&gconf, &conf, grub_token, &unsynced);
		if (n_unsynced < 0)
			goto oom;
	}
	const char *stale = have_grub && s == &grub ? stale_grub_cfg(c) : NULL;

	bool matters = false;
	for (int i = 0; i < n_missing; i++)
		matters |= param_matters(missing[i]);
	for (int i = 0; i < n_unsynced; i++)
		matters |= param_matters(unsynced[i]);
	char a[600], b[600], u[600], msg[2200] = "";
	join(a, sizeof(a), missing, n_missing);
	join(b, sizeof(b), extra, n_extra);
	join(u, sizeof(u), unsynced, n_unsynced);
	if (n_missing)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "configured in %s but not active: %s",
		         s->path, a);
	if (n_extra)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%sactive but not configured (lost at next "
		         "boot): %s", msg[0] ? "; " : "", b);
	if (n_unsynced)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%sin /etc/default/grub but not in the boot "
		         "entry: %s", msg[0] ? "; " : "", u);
	if (stale)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "%s%s is older than /etc/default/grub "
		         "(not regenerated)", msg[0] ? "; " : "", stale);

	if (!msg[0]) {
		ck_add(c, AV_CHECK_PASS, "host", NULL, s->path, s->line, "the running command line matches %s", s->path);
		goto out;
	}
	char hint[400];
	if (s == &grub)
		snprintf(hint, sizeof(hint), "%sreboot to apply the configured parameters%s",
		         stale || n_missing ? "run update-grub (Debian/Ubuntu) or grub2-mkconfig -o "
		                              "/boot/grub2/grub.cfg (RHEL), then " : "",
		         n_extra ? "; add the active-only ones to GRUB_CMDLINE_LINUX if they must stay" : "");
	else if (s == &bls)
		snprintf(hint, sizeof(hint), "%sreboot to apply the configured parameters",
		         n_unsynced ? "grubby --update-kernel=ALL --args=\"...\" (or grub2-mkconfig "
		                      "--update-bls-cmdline), then " : "");
	else
		snprintf(hint, sizeof(hint), "run kernel-install / proxmox-boot-tool refresh, then reboot");
	/* A pending passthrough parameter means the host is not yet in the
	 * state it was configured for: provisioning must reboot first. */
	ck_add(c, matters ? AV_CHECK_FAIL : AV_CHECK_WARN, "host", hint, s->path, s->line, "%s", msg);
	goto out;
oom:
	c->err = -ENOMEM;
out:
	free(missing);
	free(extra);
	free(unsynced);
	av_cmdline_free(&run);
	av_cmdline_free(&conf);
	av_cmdline_free(&gconf);
	free(bls.line);
	free(kcl.line);
	free(grub.line);
}

void ck_boot_initramfs(struct av_ck *c)
{
	if (!c->kver[0]) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, "/proc/sys/kernel/osrelease", NULL,
		       "cannot tell the running kernel: /proc/sys/kernel/osrelease is not readable");
		return;
	}
	static const char *const patterns[][2] = {
		{ "/boot/initrd.img-", "" }, { "/boot/initramfs-", ".img" }, { "/boot/initrd-", "" },
		{ "/boot/initramfs-", "" },
	};
	char img[300] = "";
	long long img_t = -1;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]) && img_t < 0; i++) {
		snprintf(img, sizeof(img), "%s%s%s", patterns[i][0], c->kver, patterns[i][1]);
		img_t = av_mtime(c->host, img);
	}
	char **names = NULL;
	int n = list_dir(c, "/etc/modprobe.d", ".conf", &names);
	char newest[300] = "";
	long long newest_t = -1;
	for (int i = 0; i < n; i++) {
		char path[300];
		snprintf(path, sizeof(path), "/etc/modprobe.d/%s", names[i]);
		long long t = av_mtime(c->host, path);
		if (t > newest_t) {
			newest_t = t;
			snprintf(newest, sizeof(newest), "%s", path);
		}
	}
	free_list(names, n > 0 ? n : 0);
	if (img_t < 0) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, "/boot", NULL, "no initramfs for %s found in /boot", c->kver);
	} else if (newest_t < 0) {
		ck_add(c, AV_CHECK_PASS, "host", NULL, img, NULL, "no /etc/modprobe.d/*.conf to carry into %s", img);
	} else if (newest_t > img_t) {
		char hint[400];
		snprintf(hint, sizeof(hint), "rebuild it: update-initramfs -u -k %s (Debian/Ubuntu) or dracut -f "
		         "--kver %s (RHEL), then reboot", c->kver, c->kver);
		ck_add(c, AV_CHECK_WARN, "host", hint, newest, "newer than the initramfs",
		       "%s changed after %s was built: blacklists and options may not apply at early boot",
		       newest, img);
	} else {
		ck_add(c, AV_CHECK_PASS, "host", NULL, img, NULL, "%s is newer than every /etc/modprobe.d/*.conf", img);
	}
}
