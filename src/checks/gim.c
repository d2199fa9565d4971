/* gim.bound, gim.params, gim.log, gim.nodes: the GIM driver's hold on the
 * PFs and its configuration (amd/MxGPU-Virtualization gim_shim). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"
#include "base/util.h"

static void bound_vf_mode(struct av_ck *c)
{
	int *p = NULL, n = ck_vf_pfs(c, &p);
	if (!n)
		ck_no_subjects(c, "GPU PF that gim supports");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
		char path[96];
		ck_dev_path(path, sizeof(path), f->bdf, "driver");
		const char *drv = f->driver[0] ? f->driver : "none";
		if (av_func_on(f, "gim"))
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, drv, "PF on gim");
		else if (av_func_on(f, "amdgpu"))
			ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, drv, "PF is on amdgpu (see amdgpu.blacklist)");
		else
			ck_add(c, AV_CHECK_FAIL, f->bdf,
			       f->driver[0] ? "unbind it and load gim (amdvirt gim load), or set driver_override=vfio-pci "
			                      "if it is meant for whole-GPU passthrough"
			                    : "load gim while the PF is unbound (amdvirt gim load); check gim.log",
			       path, drv, "PF is %s%s, not on gim: it has no VFs to assign",
			       f->driver[0] ? "bound to " : "unbound", f->driver);
	}
	free(p);
}

static void bound_pf_mode(struct av_ck *c)
{
	int *p = NULL, n = ck_pf_targets(c, &p);
	if (!n)
		ck_no_subjects(c, "GPU PF to pass through");
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
		char path[96];
		ck_dev_path(path, sizeof(path), f->bdf, "driver");
		const char *drv = f->driver[0] ? f->driver : "none";
		if (av_func_on(f, "vfio-pci"))
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, drv, "PF on vfio-pci");
		else if (av_func_on(f, "gim"))
			ck_add(c, AV_CHECK_FAIL, f->bdf,
			       "set driver_override=vfio-pci on PFs meant for whole-GPU passthrough before gim loads "
			       "(gim binds every PF it is offered), then amdvirt bind",
			       path, drv, "PF is held by gim, not vfio-pci");
		else if (av_func_on(f, "amdgpu"))
			ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, drv, "PF is on amdgpu (see amdgpu.blacklist)");
		else
			ck_add(c, AV_CHECK_FAIL, f->bdf, "amdvirt bind --all", path, drv, "PF is %s%s, not on vfio-pci",
			       f->driver[0] ? "bound to " : "unbound", f->driver);
	}
	free(p);
}

void ck_gim_bound(struct av_ck *c)
{
	if (c->m->mode == AV_MODE_PF)
		bound_pf_mode(c);
	else
		bound_vf_mode(c);
}

/* "1,1,4" -> values; returns count or -EINVAL. */
static int parse_int_list(const char *s, long *out, int max)
{
	int n = 0;
	while (*s && n < max) {
		char *end;
		errno = 0;
		long v = strtol(s, &end, 10);
		if (end == s || errno)
			return -EINVAL;
		out[n++] = v;
		s = end;
		while (*s == ' ')
			s++;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return n;
}

struct gim_config {
	long vf_num;             /* -1 when absent */
	char bad[200];           /* first problem, "" when fine */
};

/* /etc/gim_config: key=value lines gim reads and rewrites itself. */
static int read_gim_config(struct av_ck *c, struct gim_config *gc)
{
	static const char *const persistent[] = { "vf_num", "accelerator_partition_mode", "memory_partition_mode" };
	char *text = NULL;
	gc->vf_num = -1;
	gc->bad[0] = '\0';
	ssize_t r = av_read_all(c->host, "/etc/gim_config", 1 << 16, &text);
	if (r < 0)
		return (int)r;
	int line = 0;
	for (char *p = text; *p && !gc->bad[0];) {
		line++;
		size_t len = strcspn(p, "\n");
		char *l = p;
		p += len;
		if (*p)
			*p++ = '\0';
		while (isspace((unsigned char)*l))
			l++;
		if (!*l || *l == '#')
			continue;
		char *eq = strchr(l, '=');
		if (!eq) {
			snprintf(gc->bad, sizeof(gc->bad), "line %d is not key=value: '%.40s'", line, l);
			break;
		}
		*eq = '\0';
		bool known = false;
		for (size_t k = 0; k < sizeof(persistent) / sizeof(persistent[0]); k++)
			known |= strcmp(l, persistent[k]) == 0;
		if (!known) {
			snprintf(gc->bad, sizeof(gc->bad), "unknown key '%.40s' on line %d (gim truncates the file)", l,
			         line);
			break;
		}
		long v;
		if (strcmp(l, "vf_num") == 0) {
			if (av_parse_long(eq + 1, 10, &v) < 0)
				snprintf(gc->bad, sizeof(gc->bad), "vf_num on line %d is not a number", line);
			else
				gc->vf_num = v;
		}
	}
	free(text);
	return 0;
}

void ck_gim_params(struct av_ck *c)
{
	static const char param[] = "/sys/module/gim/parameters/vf_num";
	char buf[256] = "";
	long vals[64];
	int nv = 0;
	bool have_param = av_read_text(c->host, param, buf, sizeof(buf)) >= 0;
	if (have_param && (nv = parse_int_list(buf, vals, 64)) < 0) {
		ck_add(c, AV_CHECK_WARN, "host", NULL, param, buf, "%s is not a list of numbers: '%.60s'", param, buf);
		return;
	}
	struct gim_config gc;
	int gr = read_gim_config(c, &gc);
	if (gr == 0 && gc.bad[0])
		ck_add(c, AV_CHECK_WARN, "host", "keep only vf_num, accelerator_partition_mode and memory_partition_mode "
		       "in /etc/gim_config", "/etc/gim_config", NULL, "/etc/gim_config: %s", gc.bad);
	/* Whether gim is loaded is gim.loaded's question, answered from
	 * /proc/modules and /sys/module; a missing parameter file does not
	 * say it (a loaded gim given no vf_num uses /etc/gim_config or its
	 * default). */
	if (!have_param && gr < 0 && !ck_module_loaded(c, "gim")) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, param, NULL,
		       "gim is not loaded and /etc/gim_config does not exist (see gim.loaded)");
		return;
	}
	int *p = NULL, n = ck_vf_pfs(c, &p);
	for (int i = 0; i < n; i++) {
		const struct av_func *f = &c->m->funcs[p[i]];
		/* vf_num is one value per GPU in probe order; a 0 defers to
		 * /etc/gim_config, and gim's default is 1. */
		long want = i < nv ? vals[i] : nv == 1 ? vals[0] : 0;
		const char *from = param;
		if (want == 0 && gc.vf_num > 0) {
			want = gc.vf_num;
			from = "/etc/gim_config";
		}
		if (want == 0) {
			want = 1;
			from = "gim's default";
		}
		char v[32], mode[16] = "", mpath[96];
		snprintf(v, sizeof(v), "%ld", want);
		ck_dev_path(mpath, sizeof(mpath), f->bdf, "spatial_partition_mode");
		av_read_text(c->host, mpath, mode, sizeof(mode));
		const char *ev = strcmp(from, "gim's default") ? from : param;
		if (want < 1 || want > 31) {
			ck_add(c, AV_CHECK_WARN, f->bdf, "vf_num must be 1..31", ev, v, "vf_num %ld (%s) is out of range",
			       want, from);
		} else if (f->sriov_total > 0 && want > f->sriov_total) {
			ck_add(c, AV_CHECK_WARN, f->bdf, "lower vf_num to at most sriov_totalvfs", ev, v,
			       "vf_num %ld (%s) exceeds sriov_totalvfs %d: gim will refuse (\"exceeds the vf limit\")",
			       want, from, f->sriov_total);
		} else if (want > 1 && strcmp(mode, "SPX") == 0) {
			ck_add(c, AV_CHECK_WARN, f->bdf, "set a CPX/NPS partition mode with amd-smi first, then reload gim",
			       ev, v, "vf_num %ld (%s) with spatial partition mode SPX: more than one VF needs a "
			       "partitioned GPU", want, from);
		} else if (av_func_on(f, "gim") && f->sriov_num != want) {
			const char *cause = f->sriov_num < want ? ck_vf_blocker(c, p[i]) : NULL;
			ck_add(c, AV_CHECK_WARN, f->bdf, "see gim.log for why gim enabled another number of VFs", ev, v,
			       "gim was asked for %ld VF%s (%s) but the PF has %d%s%s%s", want, want == 1 ? "" : "s", from,
			       f->sriov_num, cause ? " (see " : "", cause ? cause : "", cause ? ")" : "");
		} else {
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, ev, v, "vf_num %ld (%s)%s%s", want, from,
			       mode[0] ? ", partition mode " : "", mode);
		}
	}
	if (!n)
		ck_no_subjects(c, "GPU PF that gim supports");
	free(p);
}

/* Lines libgv and gim_shim print when SR-IOV setup fails. */
static const char *const gim_errors[] = {
	"gim error", "exceeds the vf limit", "No GPUIOV caps", "Failed to resize VF BAR",
	"Failed to properly enable SRIOV", "ASIC has no SRIOV support", "Only SRIOV stride = 1",
	"not enough MMIO resources for SR-IOV", "IOV BARS not allocated",
};

/* A "dddd:bb:dd.f" in the line, or "". */
static void bdf_in(const char *line, size_t len, char out[AV_BDF_LEN])
{
	out[0] = '\0';
	for (size_t i = 0; i + 12 <= len; i++) {
		char cand[AV_BDF_LEN];
		memcpy(cand, line + i, 12);
		cand[12] = '\0';
		if (av_bdf_valid(cand)) {
			memcpy(out, cand, AV_BDF_LEN);
			return;
		}
	}
}

void ck_gim_log(struct av_ck *c)
{
	const char *src;
	int err;
	const char *log = ck_klog(c, &src, &err);
	if (!log) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, "/dev/kmsg", NULL,
		       "the kernel log is not readable (needs root / CAP_SYSLOG): %s", ck_errstr(err));
		return;
	}
	/* One result per subject, with the first matching line as evidence. */
	char subjects[16][AV_BDF_LEN + 4];
	int counts[16] = { 0 };
	char first[16][240];
	int ns = 0;
	for (const char *p = log; *p;) {
		size_t len = strcspn(p, "\n");
		bool hit = false;
		for (size_t k = 0; k < sizeof(gim_errors) / sizeof(gim_errors[0]) && !hit; k++) {
			size_t kl = strlen(gim_errors[k]);
			for (size_t i = 0; i + kl <= len && !hit; i++)
				hit = strncasecmp(p + i, gim_errors[k], kl) == 0;
		}
		if (hit) {
			/* /dev/kmsg records start "prio,seq,usec,flags;". */
			const char *semi = memchr(p, ';', len);
			if (semi && p[0] >= '0' && p[0] <= '9' && strspn(p, "0123456789,-cm+") == (size_t)(semi - p)) {
				len -= (size_t)(semi + 1 - p);
				p = semi + 1;
			}
			char bdf[AV_BDF_LEN];
			bdf_in(p, len, bdf);
			const char *subj = bdf[0] ? bdf : "host";
			int s = 0;
			while (s < ns && strcmp(subjects[s], subj) != 0)
				s++;
			if (s == ns && ns < 16) {
				snprintf(subjects[ns], sizeof(subjects[ns]), "%s", subj);
				snprintf(first[ns], sizeof(first[ns]), "%.*s", (int)(len < 239 ? len : 239), p);
				ns++;
			}
			if (s < 16)
				counts[s]++;
		}
		p += len;
		if (*p)
			p++;
	}
	for (int s = 0; s < ns; s++)
		ck_add(c, AV_CHECK_WARN, subjects[s], "fix the cause named in the line (BIOS SR-IOV/ARI/Above 4G, vf_num, "
		       "partition mode), then reload gim", src, first[s], "%d gim error line%s in the kernel log: %s",
		       counts[s], counts[s] == 1 ? "" : "s", first[s]);
	if (!ns)
		ck_add(c, AV_CHECK_PASS, "host", NULL, src, NULL, "no gim error in %s", src);
}

void ck_gim_nodes(struct av_ck *c)
{
	static const char *const nodes[] = { "/dev/gim-smi0", "/dev/amdgv-cmd-handle" };
	if (!ck_module_loaded(c, "gim")) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, "/sys/module/gim", "missing", "gim is not loaded (see gim.loaded)");
		return;
	}
	char missing[80] = "";
	for (size_t i = 0; i < 2; i++)
		if (!av_exists(c->host, nodes[i]))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s", missing[0] ? ", " : "",
			         nodes[i]);
	if (missing[0])
		ck_add(c, AV_CHECK_WARN, "host", "check udev rules for the gim device nodes; reload gim", missing, "missing",
		       "gim is loaded but %s missing: amd-smi cannot talk to it", missing);
	else
		ck_add(c, AV_CHECK_PASS, "host", NULL, nodes[0], "present", "/dev/gim-smi0 and /dev/amdgv-cmd-handle exist");
}
