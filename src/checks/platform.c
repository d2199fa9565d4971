/* platform.virt, kubelet.plugin-dir, guest.device. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/ck.h"

/* True when the "flags" line of cpuinfo lists flag as a whole word. */
static bool has_flag(const char *cpuinfo, const char *flag)
{
	const char *line = strstr(cpuinfo, "\nflags");
	if (!line && strncmp(cpuinfo, "flags", 5) == 0)
		line = cpuinfo;
	if (!line)
		return false;
	const char *colon = strchr(line + 1, ':');
	if (!colon)
		return false;
	size_t fl = strlen(flag);
	const char *end = strchr(colon, '\n');
	for (const char *p = colon + 1; *p && (!end || p < end);) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \t\n");
		if (n == fl && strncmp(p, flag, fl) == 0)
			return true;
		p += n;
	}
	return false;
}

void ck_platform_virt(struct av_ck *c)
{
	char *cpuinfo = NULL;
	ssize_t n = av_read_all(c->host, "/proc/cpuinfo", 16u << 20, &cpuinfo);
	if (n < 0) {
		ck_add(c, AV_CHECK_SKIP, "host", NULL, "/proc/cpuinfo", NULL, "cannot read /proc/cpuinfo: %s",
		       ck_errstr((int)n));
		return;
	}
	bool svm = has_flag(cpuinfo, "svm"), vmx = has_flag(cpuinfo, "vmx");
	bool amd = strstr(cpuinfo, "AuthenticAMD") != NULL;
	free(cpuinfo);
	if (!svm && !vmx) {
		ck_add(c, AV_CHECK_FAIL, "host",
		       amd ? "enable SVM Mode in the BIOS; then load kvm_amd"
		           : "enable Intel VT-x in the BIOS; then load kvm_intel",
		       "/proc/cpuinfo", "no svm or vmx flag",
		       "the CPU does not offer hardware virtualisation (no %s flag)", amd ? "svm" : "svm/vmx");
		return;
	}
	const char *flag = svm ? "svm" : "vmx";
	if (!av_exists(c->host, "/dev/kvm")) {
		ck_add(c, AV_CHECK_FAIL, "host", svm ? "modprobe kvm_amd (and kvm); check the BIOS SVM setting"
		                                     : "modprobe kvm_intel (and kvm); check the BIOS VT-x setting",
		       "/dev/kvm", "missing", "CPU has %s but /dev/kvm does not exist: KVM is not loaded", flag);
		return;
	}
	if (av_host_is_real_root(c->host) && access("/dev/kvm", R_OK | W_OK) != 0) {
		ck_add(c, AV_CHECK_FAIL, "host", "run as root or add the user to the kvm group", "/dev/kvm",
		       "not accessible", "/dev/kvm exists but is not readable and writable by this user");
		return;
	}
	ck_add(c, AV_CHECK_PASS, "host", NULL, "/proc/cpuinfo", flag, "hardware virtualisation (%s) and /dev/kvm",
	       flag);
}

void ck_kubelet_plugin_dir(struct av_ck *c)
{
	static const char dir[] = "/var/lib/kubelet/device-plugins";
	if (av_is_dir(c->host, dir))
		ck_add(c, AV_CHECK_PASS, "host", NULL, dir, "present", "%s exists (the node runs kubelet)", dir);
	else
		ck_add(c, AV_CHECK_WARN, "host",
		       "join the node to the cluster (kubeadm join / k3s agent) before starting amdvirt daemon",
		       dir, "missing", "%s does not exist: kubelet has not run here, so no device plugin can register",
		       dir);
}

void ck_guest_device(struct av_ck *c)
{
	int found = 0;
	for (int i = 0; i < c->m->n_funcs; i++) {
		const struct av_func *f = &c->m->funcs[i];
		if (f->vendor != AV_VENDOR_AMD || !av_func_is_gpu(f))
			continue;
		char path[96];
		ck_dev_path(path, sizeof(path), f->bdf, "device");
		char id[16];
		snprintf(id, sizeof(id), "1002:%04x", f->device);
		if (f->known) {
			found++;
			ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, id, "%s [%s] is visible%s%s", f->known->name, id,
			       f->driver[0] ? ", driver " : ", no driver bound", f->driver);
		} else {
			ck_add(c, AV_CHECK_NOTE, f->bdf, "list its ID in spec.driver.vfioConfig.deviceIDs if it is the GPU you assigned",
			       path, id, "AMD display/accelerator function [%s] with an ID amdvirt does not know", id);
		}
	}
	if (!found)
		ck_add(c, AV_CHECK_FAIL, "host",
		       "check the VM spec (hostDevices/gpus with the right resource name), that the host device "
		       "plugin advertises it, and that the VM is not on a node without GPUs",
		       "/sys/bus/pci/devices", "no AMD GPU function",
		       "no AMD GPU function with a known PF or VF ID is visible in this VM");
}
