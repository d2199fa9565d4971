/* iommu.firmware, iommu.kernel, iommu.group, iommu.irq-remap, vfio.noiommu,
 * iommu.domain. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"
#include "checks/cmdline.h"

static int count_entries(struct av_ck *c, const char *dir)
{
	DIR *d = av_opendir(c->host, dir);
	if (!d)
		return -errno;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

void ck_iommu_firmware(struct av_ck *c)
{
	static const char tables[] = "/sys/firmware/acpi/tables";
	bool amd = ck_cpu_is_amd(c);
	bool ivrs = av_exists(c->host, "/sys/firmware/acpi/tables/IVRS");
	bool dmar = av_exists(c->host, "/sys/firmware/acpi/tables/DMAR");
	if (ivrs || dmar) {
		const char *t = ivrs ? "IVRS" : "DMAR";
		char path[64];
		snprintf(path, sizeof(path), "%s/%s", tables, t);
		ck_add(c, AV_CHECK_PASS, "host", NULL, path, "present", "ACPI %s table present (%s)", t,
		       ivrs ? "AMD-Vi" : "Intel VT-d");
		return;
	}
	if (!av_is_dir(c->host, tables)) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, tables, "missing",
		       "%s does not exist: no ACPI tables to inspect", tables);
		return;
	}
	ck_add(c, AV_CHECK_FAIL, "host",
	       amd ? "enable IOMMU (AMD-Vi / \"IOMMU\" under AMD CBS > NBIO) in the BIOS"
	           : "enable VT-d in the BIOS",
	       amd ? "/sys/firmware/acpi/tables/IVRS" : "/sys/firmware/acpi/tables/DMAR", "missing",
	       "no ACPI %s table: the firmware does not describe an IOMMU (disabled in the BIOS)",
	       amd ? "IVRS" : "DMAR");
}

void ck_iommu_kernel(struct av_ck *c)
{
	int units = count_entries(c, "/sys/class/iommu");
	int groups = count_entries(c, "/sys/kernel/iommu_groups");
	char value[64];
	snprintf(value, sizeof(value), "%d groups", groups < 0 ? 0 : groups);
	if (units > 0 && groups > 0) {
		ck_add(c, AV_CHECK_PASS, "host", NULL, "/sys/kernel/iommu_groups", value,
		       "kernel IOMMU active: %d unit%s, %d groups", units, units == 1 ? "" : "s", groups);
		return;
	}
	bool amd = ck_cpu_is_amd(c);
	const char *hint = amd ? "remove amd_iommu=off / iommu=off from the kernel command line and enable "
	                         "IOMMU in the BIOS (amd_iommu=on is not needed: AMD-Vi is on by default)"
	                       : "add intel_iommu=on to the kernel command line and enable VT-d in the BIOS";
	if (units <= 0)
		ck_add(c, AV_CHECK_FAIL, "host", hint, "/sys/class/iommu", "empty",
		       "no IOMMU is active in the kernel: /sys/class/iommu is %s", units < 0 ? "missing" : "empty");
	else
		ck_add(c, AV_CHECK_FAIL, "host", hint, "/sys/kernel/iommu_groups", value,
		       "IOMMU units exist but /sys/kernel/iommu_groups has no groups: DMA translation is off");
}

static void iommu_group_one(struct av_ck *c, int idx, const struct av_func *f)
{
	char path[96];
	ck_dev_path(path, sizeof(path), f->bdf, "iommu_group");
	if (!c->m->iommu_enabled) {
		ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, NULL, "the kernel IOMMU is off (see iommu.kernel)");
	} else if (f->iommu_group >= 0) {
		char v[16];
		snprintf(v, sizeof(v), "%d", f->iommu_group);
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "in IOMMU group %d", f->iommu_group);
	} else {
		ck_add(c, AV_CHECK_FAIL, f->bdf,
		       "the function sits behind a bridge the IOMMU does not cover; check the BIOS "
		       "IOMMU setting and the kernel log for AMD-Vi/DMAR errors",
		       path, "missing", "has no IOMMU group: vfio cannot take it");
	}
}

void ck_iommu_group(struct av_ck *c)
{
	ck_each(c, ck_targets, "GPU function to check", iommu_group_one);
}

/* Remapped interrupt chips in /proc/interrupts ("IR-PCI-MSI", "AMD-IR-0",
 * "INTEL-IR-0") prove remapping without needing the kernel log. */
static int irq_remap_seen(struct av_ck *c, const char **where)
{
	char *text = NULL;
	if (av_read_all(c->host, "/proc/interrupts", 16u << 20, &text) >= 0) {
		bool ir = strstr(text, "IR-PCI-MSI") || strstr(text, "AMD-IR") || strstr(text, "INTEL-IR")
		          || strstr(text, "IR-IO-APIC");
		free(text);
		if (ir) {
			*where = "/proc/interrupts";
			return 1;
		}
	}
	const char *src;
	int err;
	const char *log = ck_klog(c, &src, &err);
	if (!log)
		return -1;
	*where = src;
	if (strstr(log, "Interrupt remapping enabled") || strstr(log, "Enabled IRQ remapping")
	    || strstr(log, "IRQ remapping enabled"))
		return 1;
	return 0;
}

static bool yes(const char *v)
{
	return v && (v[0] == 'Y' || v[0] == 'y' || v[0] == '1');
}

void ck_iommu_irq_remap(struct av_ck *c)
{
	static const char unsafe_path[] = "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";
	char v[16] = "";
	bool unsafe = av_read_text(c->host, unsafe_path, v, sizeof(v)) >= 0 && yes(v);
	if (!c->m->iommu_enabled) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, NULL, NULL, "the kernel IOMMU is off (see iommu.kernel)");
		return;
	}
	if (unsafe) {
		ck_add(c, AV_CHECK_FAIL, "host",
		       "remove allow_unsafe_interrupts=1 (modprobe.d or the kernel command line); enable "
		       "x2APIC / interrupt remapping in the BIOS instead",
		       unsafe_path, v, "vfio allows unsafe interrupts: a guest could inject host interrupts");
		return;
	}
	const char *where = NULL;
	int seen = irq_remap_seen(c, &where);
	if (seen > 0) {
		ck_add(c, AV_CHECK_PASS, "host", NULL, where, "remapping enabled", "interrupt remapping is enabled");
	} else if (seen == 0) {
		ck_add(c, AV_CHECK_FAIL, "host",
		       "enable x2APIC and interrupt remapping in the BIOS; do not rely on allow_unsafe_interrupts",
		       where, "no remapping message",
		       "no sign of interrupt remapping in %s: vfio will refuse to assign devices", where);
	} else {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, "/proc/interrupts", NULL,
		       "/proc/interrupts shows no remapped chip and the kernel log is not readable "
		       "(needs root / CAP_SYSLOG)");
	}
}

void ck_vfio_noiommu(struct av_ck *c)
{
	static const char path[] = "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode";
	static const char hint[] = "remove enable_unsafe_noiommu_mode from modprobe.d and the kernel command "
	                           "line, then reload vfio (or reboot)";
	char v[16];
	if (av_read_text(c->host, path, v, sizeof(v)) >= 0) {
		if (yes(v))
			ck_add(c, AV_CHECK_FAIL, "host", hint, path, v,
			       "vfio runs in no-IOMMU mode: devices are not isolated and guests can DMA anywhere");
		else
			ck_add(c, AV_CHECK_PASS, "host", NULL, path, v, "vfio no-IOMMU mode is off");
		return;
	}
	int err;
	const char *cl = ck_cmdline(c, &err);
	struct av_cmdline cmd = { 0 };
	if (cl && av_cmdline_parse(cl, &cmd) == 0) {
		const char *val = av_cmdline_get(&cmd, "vfio.enable_unsafe_noiommu_mode");
		if (val && (yes(val) || !*val)) {
			ck_add(c, AV_CHECK_FAIL, "host", hint, "/proc/cmdline", val,
			       "vfio.enable_unsafe_noiommu_mode is set on the kernel command line");
			av_cmdline_free(&cmd);
			return;
		}
	}
	av_cmdline_free(&cmd);
	ck_add(c, AV_CHECK_PASS, "host", NULL, path, "absent", "vfio is not loaded and no-IOMMU mode is not requested");
}

void ck_iommu_domain(struct av_ck *c)
{
	if (!c->m->iommu_enabled) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, NULL, NULL, "the kernel IOMMU is off (see iommu.kernel)");
		return;
	}
	int *t = NULL, n = ck_targets(c, &t);
	const struct av_group *g = NULL;
	for (int i = 0; i < n && !g; i++)
		g = av_model_group(c->m, c->m->funcs[t[i]].iommu_group);
	free(t);
	if (!g && c->m->n_groups)
		g = &c->m->groups[0];
	char path[64];
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/type", g ? g->id : 0);
	if (!g || !g->type[0]) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, path, NULL, "%s is not readable (kernel older than 5.11?)", path);
	} else if (strcmp(g->type, "identity") == 0) {
		ck_add(c, AV_CHECK_NOTE, "host", "nothing to do: iommu=pt only affects host drivers", path, g->type,
		       "default domain is identity (iommu=pt): host DMA bypasses translation, assigned "
		       "devices are still isolated by vfio");
	} else {
		ck_add(c, AV_CHECK_PASS, "host", NULL, path, g->type, "default domain type %s (translated)", g->type);
	}
}
