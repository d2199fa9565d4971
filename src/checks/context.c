/* What several checks share: config space, /proc/cmdline, the kernel log
 * and the subject sets, each read once per run. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks/ck.h"
#include "host/pcires.h"
#include "base/util.h"

const uint8_t *ck_config(struct av_ck *c, int i, int *len, int *err)
{
	*len = 0;
	if (!c->pcidb) {
		*err = -ENOTSUP;
		return NULL;
	}
	if (!c->cfg[i]) {
		c->cfg[i] = calloc(1, sizeof(*c->cfg[i]));
		if (!c->cfg[i]) {
			c->err = *err = -ENOMEM;
			return NULL;
		}
	}
	struct ck_cfg *cfg = c->cfg[i];
	if (!cfg->loaded) {
		cfg->len = av_pcidb_config(c->pcidb, c->m->funcs[i].bdf, cfg->bytes, sizeof(cfg->bytes));
		cfg->loaded = true;
	}
	if (cfg->len < 0) {
		*err = cfg->len;
		return NULL;
	}
	/* The kernel shows only the header to readers without CAP_SYS_ADMIN. */
	if (cfg->len <= 64) {
		*err = -EACCES;
		return NULL;
	}
	*len = cfg->len;
	*err = 0;
	return cfg->bytes;
}

const uint8_t *ck_config_std(struct av_ck *c, int i, int *len, int *err)
{
	const uint8_t *b = ck_config(c, i, len, err);
	if (b || *err != -EACCES)
		return b;
	/* The header (bus numbers, IDs) is readable by anyone. */
	*len = c->cfg[i]->len;
	*err = 0;
	return c->cfg[i]->bytes;
}

const char *ck_cmdline(struct av_ck *c, int *err)
{
	if (!c->cmdline_loaded) {
		c->cmdline_loaded = true;
		ssize_t n = av_read_all(c->host, "/proc/cmdline", 1 << 16, &c->cmdline);
		c->cmdline_err = n < 0 ? (int)n : 0;
	}
	*err = c->cmdline_err;
	return c->cmdline;
}

const char *ck_cmdline_or_skip(struct av_ck *c)
{
	int err;
	const char *text = ck_cmdline(c, &err);
	if (!text)
		ck_add(c, AV_CHECK_SKIP, "host", NULL, "/proc/cmdline", NULL, "cannot read /proc/cmdline: %s",
		       ck_errstr(err));
	return text;
}

static int klog_from_kernel(char **out)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	if (size <= 0)
		return -errno ? -errno : -EIO;
	char *buf = malloc((size_t)size + 1);
	if (!buf)
		return -ENOMEM;
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (n < 0) {
		int e = errno;
		free(buf);
		return -e;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

const char *ck_klog(struct av_ck *c, const char **source, int *err)
{
	if (!c->klog_loaded) {
		c->klog_loaded = true;
		int first = 0;
		if (av_host_is_real_root(c->host)) {
			first = klog_from_kernel(&c->klog);
			if (!first)
				c->klog_source = strdup("the kernel ring buffer");
		}
		/* Saved boot logs; a fake host keeps its ring buffer as a file. */
		static const char *const files[] = { "/dev/kmsg", "/var/log/dmesg", "/var/log/kern.log" };
		for (size_t i = 0; !c->klog && i < sizeof(files) / sizeof(files[0]); i++) {
			if (i == 0 && av_host_is_real_root(c->host))
				continue;
			int fd = av_open(c->host, files[i], O_RDONLY | O_NONBLOCK, 0);
			struct stat st;
			bool regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
			if (fd >= 0)
				close(fd);
			if (!regular)
				continue;
			if (av_read_all(c->host, files[i], 64u << 20, &c->klog) >= 0)
				c->klog_source = strdup(files[i]);
		}
		if (c->klog && !c->klog_source) {
			free(c->klog);
			c->klog = NULL;
			c->err = -ENOMEM;
		}
		c->klog_err = c->klog ? 0 : first ? first : -ENOENT;
	}
	*source = c->klog_source;
	*err = c->klog_err;
	return c->klog;
}

bool ck_cpu_is_amd(struct av_ck *c)
{
	char buf[4096];
	if (av_read_text(c->host, "/proc/cpuinfo", buf, sizeof(buf)) < 0)
		return true; /* the GPUs this tool serves sit mostly in AMD hosts */
	return strstr(buf, "AuthenticAMD") != NULL || strstr(buf, "Intel") == NULL;
}

static int collect(struct av_ck *c, int **out, bool (*want)(struct av_ck *, const struct av_func *))
{
	int n = 0;
	*out = NULL;
	for (int i = 0; i < c->m->n_funcs; i++)
		if (want(c, &c->m->funcs[i]) && av_int_push(out, &n, i) < 0) {
			c->err = -ENOMEM;
			return n;
		}
	return n;
}

/* What the mode selects, plus any GPU function already handed to
 * vfio-pci: on a mixed host those are passthrough targets too. */
static bool is_selected(struct av_ck *c, const struct av_func *f)
{
	(void)c;
	return f->selected || (av_func_is_gpu(f) && av_func_on(f, "vfio-pci"));
}

static bool is_gpu_pf(struct av_ck *c, const struct av_func *f)
{
	(void)c;
	return f->role == AV_ROLE_PF;
}

static bool is_vf_pf(struct av_ck *c, const struct av_func *f)
{
	(void)c;
	if (f->role != AV_ROLE_PF)
		return false;
	if (av_func_on(f, "gim"))
		return true;
	/* A PF kept for whole-GPU passthrough on a vf host is not gim's. */
	if (av_func_on(f, "vfio-pci") || strcmp(f->driver_override, "vfio-pci") == 0)
		return false;
	return f->known && !f->known->is_vf && f->known->partner;
}

int ck_targets(struct av_ck *c, int **out)
{
	int n = collect(c, out, is_selected);
	if (n == 0 && c->m->mode == AV_MODE_NONE) {
		free(*out);
		n = collect(c, out, is_gpu_pf);
	}
	return n;
}

int ck_vf_pfs(struct av_ck *c, int **out)
{
	return collect(c, out, is_vf_pf);
}

int ck_pf_targets(struct av_ck *c, int **out)
{
	int n = 0;
	*out = NULL;
	if (c->m->mode == AV_MODE_PF)
		for (int i = 0; i < c->m->n_funcs; i++)
			if (c->m->funcs[i].selected && c->m->funcs[i].role == AV_ROLE_PF
			    && av_int_push(out, &n, i) < 0)
				c->err = -ENOMEM;
	if (n == 0 && c->m->mode != AV_MODE_PF) {
		free(*out);
		n = collect(c, out, is_gpu_pf);
	}
	return n;
}

int ck_phys_gpus(struct av_ck *c, int **out)
{
	int *t = NULL, n = ck_targets(c, &t), k = 0;
	*out = NULL;
	char *seen = calloc((size_t)c->m->n_funcs + 1, 1);
	if (!seen) {
		free(t);
		c->err = -ENOMEM;
		return 0;
	}
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[t[i]];
		int p = f->role == AV_ROLE_VF ? f->physfn : t[i];
		if (p >= 0 && !seen[p]) {
			seen[p] = 1;
			if (av_int_push(out, &k, p) < 0)
				c->err = -ENOMEM;
		}
	}
	free(t);
	free(seen);
	if (k == 0) {
		free(*out);
		k = collect(c, out, c->m->mode == AV_MODE_VF ? is_vf_pf : is_gpu_pf);
	}
	/* Keep BDF order: the set came from targets in index order anyway. */
	for (int a = 1; a < k; a++)
		for (int b = a; b > 0 && (*out)[b - 1] > (*out)[b]; b--) {
			int x = (*out)[b];
			(*out)[b] = (*out)[b - 1];
			(*out)[b - 1] = x;
		}
	return k;
}

void ck_cfg_skip(struct av_ck *c, const char *subject, const char *bdf, int err)
{
	char path[96];
	ck_dev_path(path, sizeof(path), bdf, "config");
	if (err == -EACCES)
		ck_add(c, AV_CHECK_SKIP, subject, NULL, path, "64 bytes",
		       "%s: extended config space is readable only by root", path);
	else if (err == -ENOTSUP)
		ck_add(c, AV_CHECK_SKIP, subject, NULL, path, NULL, "libpci is not available to read %s", path);
	else
		ck_add(c, AV_CHECK_SKIP, subject, NULL, path, NULL, "cannot read %s: %s", path, ck_errstr(err));
}

const uint8_t *ck_config_for(struct av_ck *c, const char *subject, int i, bool std, int *len)
{
	int err;
	const uint8_t *cfg = std ? ck_config_std(c, i, len, &err) : ck_config(c, i, len, &err);
	if (!cfg)
		ck_cfg_skip(c, subject, c->m->funcs[i].bdf, err);
	return cfg;
}

int ck_read_resources(struct av_ck *c, const char *bdf, struct av_resource *res, int max, char *why,
                          size_t why_size)
{
	char path[96], *text = NULL;
	ck_dev_path(path, sizeof(path), bdf, "resource");
	ssize_t r = av_read_all(c->host, path, 1 << 16, &text);
	if (r < 0) {
		snprintf(why, why_size, "cannot read %s: %s", path, ck_errstr((int)r));
		return (int)r;
	}
	int bad = 0;
	int n = av_resource_parse(text, res, max, &bad);
	free(text);
	if (n < 0)
		snprintf(why, why_size, "%s line %d is not \"start end flags\"", path, bad);
	return n;
}

int ck_sysfs_int(struct av_ck *c, const char *bdf, const char *attr, long *out)
{
	char path[96];
	return av_read_long(c->host, ck_dev_path(path, sizeof(path), bdf, attr), 10, out);
}
