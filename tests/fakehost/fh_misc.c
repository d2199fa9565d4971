/* The rest of the host: /proc, device nodes, firmware tables, CPU and NUMA
 * nodes, boot configuration, and the kubelet's directory. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fh.h"

#define RO 0444
#define RW 0644

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (b->p && b->len + (size_t)n < b->cap)
			break;
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	b->len += (size_t)n;
}

static int sb_put(struct fh_host *h, const char *path, struct sbuf *b, int mode)
{
	int r = fh_put(h, h->rootfd, path, b->p ? b->p : "", b->len, mode);

	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	return r;
}

static const char cpu_flags[] =
	"fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx "
	"fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good "
	"nopl nonstop_tsc cpuid extd_apicid aperfmperf rapl pni pclmulqdq monitor ssse3 fma cx16 "
	"pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy";
static const char cpu_flags_svm[] = " svm";
static const char cpu_flags2[] =
	" extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs skinit wdt tce topoext "
	"perfctr_core perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 hw_pstate ssbd mba "
	"ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 erms invpcid cqm rdt_a avx512f "
	"avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl "
	"xsaveopt xsavec xgetbv1 xsaves avx512_bf16 clzero irperf xsaveerptr rdpru wbnoinvd "
	"amd_ppin cppc arat";
static const char cpu_flags_virt[] =
	" npt lbrv svm_lock nrip_save tsc_scale vmcb_clean flushbyasid decodeassists pausefilter "
	"pfthreshold avic v_vmsave_vmload vgif x2avic v_spec_ctrl vnmi";
static const char cpu_flags3[] =
	" avx512vbmi umip pku ospke avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg "
	"avx512_vpopcntdq la57 rdpid overflow_recov succor smca fsrm flush_l1d";

static int proc(struct fh_host *h)
{
	struct sbuf b = { 0 };
	int per = h->cpus / h->sockets;

	if (fh_mkdirs(h, h->rootfd, "proc/sys/kernel") < 0 ||
	    fh_putf(h, h->rootfd, "proc/cmdline", RO, "%s\n", h->cmdline) < 0 ||
	    fh_putf(h, h->rootfd, "proc/sys/kernel/hostname", RW, "%s\n", h->hostname) < 0 ||
	    fh_putf(h, h->rootfd, "proc/sys/kernel/osrelease", RO, "%s\n", h->release) < 0 ||
	    fh_putf(h, h->rootfd, "proc/version", RO, "Linux version %s (buildd@lcy02-amd64-001) "
		    "(x86_64-linux-gnu-gcc-13 (Ubuntu 13.2.0-23ubuntu4) 13.2.0) #45-Ubuntu SMP "
		    "PREEMPT_DYNAMIC\n", h->release) < 0)
		return -h->err;
	for (int c = 0; c < h->cpus; c++) {
		/* SVM switched off in the BIOS hides the flag and its features. */
		sb_printf(&b, "processor\t: %d\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"
			  "model\t\t: 17\nmodel name\t: %s\nstepping\t: 1\nmicrocode\t: 0xa101148\n"
			  "cpu MHz\t\t: 2400.000\ncache size\t: 1024 KB\nphysical id\t: %d\n"
			  "siblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\napicid\t\t: %d\n"
			  "initial apicid\t: %d\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 16\n"
			  "wp\t\t: yes\nflags\t\t: %s%s%s%s%s\n"
			  "bugs\t\t: sysret_ss_attrs spectre_v1 spectre_v2 spec_store_bypass srso\n"
			  "bogomips\t: 4792.86\nTLB size\t: 3584 4K pages\nclflush size\t: 64\n"
			  "cache_alignment\t: 64\naddress sizes\t: 52 bits physical, 57 bits virtual\n"
			  "power management: ts ttp tm hwpstate cpb eff_freq_ro [13] [14]\n\n",
			  c, h->cpu_model, per ? c / per : 0, per, per ? c % per : c, per, c, c, cpu_flags,
			  h->svm ? cpu_flags_svm : "", cpu_flags2, h->svm ? cpu_flags_virt : "",
			  cpu_flags3);
	}
	if (sb_put(h, "proc/cpuinfo", &b, RO) < 0)
		return -h->err;
	/* Top-level windows only: each root complex's two apertures. */
	sb_printf(&b, "00000000-00000fff : Reserved\n00001000-0009ffff : System RAM\n");
	for (int r = 0; r < h->n_rcs; r++)
		sb_printf(&b, "%08llx-%08llx : PCI Bus %04x:%02x\n",
			  (unsigned long long)h->rcs[r].mem32_base,
			  (unsigned long long)h->rcs[r].mem32_end - 1, (unsigned)h->rcs[r].domain,
			  (unsigned)h->rcs[r].bus);
	for (int r = 0; r < h->n_rcs; r++)
		sb_printf(&b, "%08llx-%08llx : PCI Bus %04x:%02x\n",
			  (unsigned long long)h->rcs[r].pref_base,
			  (unsigned long long)h->rcs[r].pref_end - 1, (unsigned)h->rcs[r].domain,
			  (unsigned)h->rcs[r].bus);
	return sb_put(h, "proc/iomem", &b, 0400);
}

static bool module_loaded(struct fh_host *h, const char *name)
{
	return fh_module_loaded(h, name);
}

static int dev_nodes(struct fh_host *h)
{
	char path[64];
	int minor = 0;
	struct sbuf b = { 0 };
	const cJSON *it;
	int seq = 1;

	if (fh_mkdirs(h, h->rootfd, "dev") < 0)
		return -h->err;
	if (h->kvm && fh_put(h, h->rootfd, "dev/kvm", "", 0, 0660) < 0)
		return -h->err;
	if (h->iommufd && fh_put(h, h->rootfd, "dev/iommu", "", 0, 0660) < 0)
		return -h->err;
	if (module_loaded(h, "gim") &&
	    (fh_put(h, h->rootfd, "dev/gim-smi0", "", 0, 0600) < 0 ||
	     fh_put(h, h->rootfd, "dev/amdgv-cmd-handle", "", 0, 0600) < 0))
		return -h->err;
	if (module_loaded(h, "vfio")) {
		if (fh_mkdirs(h, h->rootfd, "dev/vfio") < 0 ||
		    fh_put(h, h->rootfd, "dev/vfio/vfio", "", 0, 0666) < 0)
			return -h->err;
		/* A group node appears once a member is bound to vfio. */
		for (int i = 0; i < h->n_devs; i++) {
			const struct fh_dev *d = &h->devs[i];

			if (d->group < 0 || !d->driver || strcmp(d->driver, "vfio-pci"))
				continue;
			snprintf(path, sizeof(path), "dev/vfio/%d", d->group);
			if (fh_put(h, h->rootfd, path, "", 0, 0600) < 0)
				return -h->err;
			if (!h->vfio_cdev)
				continue;
			snprintf(path, sizeof(path), "dev/vfio/devices/vfio%d", minor++);
			if (fh_mkdirs(h, h->rootfd, "dev/vfio/devices") < 0 ||
			    fh_put(h, h->rootfd, path, "", 0, 0600) < 0)
				return -h->err;
		}
	}
	/* The kernel log, in /dev/kmsg's record format. */
	if (h->iommu) {
		sb_printf(&b, "6,%d,1200000,-;pci 0000:00:00.2: AMD-Vi: IOMMU performance counters "
			  "supported\n", seq++);
		if (h->irq_remap)
			sb_printf(&b, "6,%d,1210000,-;AMD-Vi: Interrupt remapping enabled\n", seq++);
		sb_printf(&b, "6,%d,1220000,-;AMD-Vi: Virtual APIC enabled\n", seq++);
	}
	cJSON_ArrayForEach(it, h->dmesg) {
		if (!cJSON_IsString(it))
			return fh_fail(h, EINVAL, "kernel.dmesg: expected strings");
		sb_printf(&b, "6,%d,%d,-;%s\n", seq, 5000000 + seq * 1000, it->valuestring);
		seq++;
	}
	return sb_put(h, "dev/kmsg", &b, 0644);
}

/* An ACPI table header (plus the IVRS IVinfo word): enough for a reader
 * that checks the signature and length. */
static int acpi_table(struct fh_host *h)
{
	unsigned char t[48] = { 0 };
	unsigned sum = 0;
	char path[64];

	if (!h->firmware)
		return 0;
	memcpy(t, h->firmware, strlen(h->firmware) < 4 ? strlen(h->firmware) : 4);
	t[4] = sizeof(t);
	t[8] = 2;
	memcpy(t + 10, "AMD   ", 6);
	memcpy(t + 16, "AmdTable", 8);
	t[24] = 1;
	memcpy(t + 28, "AMD ", 4);
	t[32] = 1;
	t[36] = 0x43;   /* IVinfo: 64-bit VA, 48-bit PA, EFRSup */
	t[37] = 0x30;
	t[38] = 0x20;
	for (size_t i = 0; i < sizeof(t); i++)
		sum += t[i];
	t[9] = (unsigned char)(0x100 - (sum & 0xff));
	snprintf(path, sizeof(path), "sys/firmware/acpi/tables/%.4s", h->firmware);
	if (fh_mkdirs(h, h->rootfd, "sys/firmware/acpi/tables") < 0)
		return -h->err;
	return fh_put(h, h->rootfd, path, t, sizeof(t), 0400);
}

static int system_nodes(struct fh_host *h)
{
	int nodes = h->numa ? h->sockets : 1, per = h->cpus / nodes;
	char path[96];

	if (fh_mkdirs(h, h->rootfd, "sys/devices/system/cpu") < 0 ||
	    fh_putf(h, h->rootfd, "sys/devices/system/cpu/online", RO, "0-%d\n", h->cpus - 1) < 0 ||
	    fh_putf(h, h->rootfd, "sys/devices/system/cpu/possible", RO, "0-%d\n", h->cpus - 1) < 0 ||
	    fh_mkdirs(h, h->rootfd, "sys/devices/system/node") < 0 ||
	    fh_putf(h, h->rootfd, "sys/devices/system/node/online", RO,
		    nodes > 1 ? "0-%d\n" : "%d\n", nodes - 1) < 0 ||
	    fh_putf(h, h->rootfd, "sys/devices/system/node/possible", RO,
		    nodes > 1 ? "0-%d\n" : "%d\n", nodes - 1) < 0)
		return -h->err;
	for (int n = 0; n < nodes; n++) {
		int last = n == nodes - 1 ? h->cpus - 1 : (n + 1) * per - 1;

		snprintf(path, sizeof(path), "sys/devices/system/node/node%d", n);
		if (fh_mkdirs(h, h->rootfd, path) < 0)
			return -h->err;
		snprintf(path, sizeof(path), "sys/devices/system/node/node%d/cpulist", n);
		if (fh_putf(h, h->rootfd, path, RO, "%d-%d\n", n * per, last) < 0)
			return -h->err;
	}
	return 0;
}

static int boot(struct fh_host *h)
{
	char path[256];

	if (fh_mkdirs(h, h->rootfd, "etc/default") < 0 ||
	    fh_mkdirs(h, h->rootfd, "etc/modprobe.d") < 0 ||
	    fh_mkdirs(h, h->rootfd, "boot/grub") < 0 ||
	    fh_putf(h, h->rootfd, "etc/hostname", RW, "%s\n", h->hostname) < 0 ||
	    fh_putf(h, h->rootfd, "etc/os-release", RW,
		    "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\n"
		    "VERSION=\"24.04.1 LTS (Noble Numbat)\"\nID=ubuntu\nID_LIKE=debian\n") < 0 ||
	    fh_putf(h, h->rootfd, "etc/default/grub", RW,
		    "# If you change this file, run 'update-grub' afterwards to update\n"
		    "# /boot/grub/grub.cfg.\n\nGRUB_DEFAULT=0\nGRUB_TIMEOUT_STYLE=hidden\n"
		    "GRUB_TIMEOUT=0\nGRUB_DISTRIBUTOR=`( . /etc/os-release; echo ${NAME:-Ubuntu} ) "
		    "2>/dev/null || echo Ubuntu`\nGRUB_CMDLINE_LINUX_DEFAULT=\"%s\"\n"
		    "GRUB_CMDLINE_LINUX=\"\"\n", h->grub_cmdline) < 0)
		return -h->err;
	/* grub.cfg is written after /etc/default/grub: regenerated, not stale. */
	if (fh_putf(h, h->rootfd, "boot/grub/grub.cfg", 0600,
		    "### BEGIN /etc/grub.d/10_linux ###\nmenuentry 'Ubuntu' --class ubuntu {\n"
		    "\tlinux\t/boot/vmlinuz-%s root=UUID=3b8f1c2e-6a4d-4e0b-9f1a-2c7d5e8a9b10 ro %s\n"
		    "\tinitrd\t/boot/initrd.img-%s\n}\n### END /etc/grub.d/10_linux ###\n",
		    h->release, h->grub_cmdline, h->release) < 0)
		return -h->err;
	snprintf(path, sizeof(path), "boot/vmlinuz-%s", h->release);
	if (fh_put(h, h->rootfd, path, "", 0, 0600) < 0)
		return -h->err;
	snprintf(path, sizeof(path), "boot/initrd.img-%s", h->release);
	if (fh_put(h, h->rootfd, path, "", 0, 0644) < 0)
		return -h->err;
	snprintf(path, sizeof(path), "lib/modules/%s/kernel", h->release);
	return fh_mkdirs(h, h->rootfd, path);
}

int fh_write_misc(struct fh_host *h)
{
	if (proc(h) < 0 || dev_nodes(h) < 0 || acpi_table(h) < 0 || system_nodes(h) < 0 ||
	    boot(h) < 0 || fh_mkdirs(h, h->rootfd, "run") < 0)
		return -h->err;
	if (h->kubelet && fh_mkdirs(h, h->rootfd, "var/lib/kubelet/device-plugins") < 0)
		return -h->err;
	return 0;
}
