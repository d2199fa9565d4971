/* Isolation and binding: group.isolation, pf.vfs-disabled, vf.binding,
 * pf.reset, pf.boot-vga, device.in-use. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/ck.h"
#include "host/holders.h"
#include "base/util.h"

static bool dma_safe(const struct av_func *f)
{
	return !f->driver[0] || av_func_on(f, "vfio-pci") || av_func_on(f, "pci-stub");
}

static void group_isolation_one(struct av_ck *c, int idx, const struct av_func *f)
{
	const struct av_group *g = av_model_group(c->m, f->iommu_group);
	char path[64];
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", f->iommu_group);
	if (!g) {
		ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, NULL, NULL, "no IOMMU group (see iommu.group)");
		return;
	}
	char host_users[300] = "", vfio_bridges[200] = "", shared[200] = "";
	for (int k = 0; k < g->n_members; k++) {
		const struct av_func *o = &c->m->funcs[g->members[k]];
		if (o == f)
			continue;
		if (o->is_bridge) {
			if (av_func_on(o, "vfio-pci"))
				snprintf(vfio_bridges + strlen(vfio_bridges), sizeof(vfio_bridges) - strlen(vfio_bridges),
				         "%s%s", vfio_bridges[0] ? ", " : "", o->bdf);
			continue;
		}
		if (!dma_safe(o))
			snprintf(host_users + strlen(host_users), sizeof(host_users) - strlen(host_users), "%s%s (%s)",
			         host_users[0] ? ", " : "", o->bdf, o->driver);
		else
			snprintf(shared + strlen(shared), sizeof(shared) - strlen(shared), "%s%s",
			         shared[0] ? ", " : "", o->bdf);
	}
	char v[16];
	snprintf(v, sizeof(v), "%d members", g->n_members);
	if (host_users[0])
		ck_add(c, AV_CHECK_FAIL, f->bdf, "bind the whole group (amdvirt bind binds every endpoint of the "
		       "group), or move the card to a slot with its own group (ACS)", path, v,
		       "IOMMU group %d also holds %s on a host driver: the group is not viable", g->id, host_users);
	else if (vfio_bridges[0])
		ck_add(c, AV_CHECK_WARN, f->bdf, "unbind the bridge from vfio-pci and let pcieport have it", path, v,
		       "bridge %s in group %d is on vfio-pci: it loses AER and hotplug", vfio_bridges, g->id);
	else if (shared[0] && f->role == AV_ROLE_VF)
		ck_add(c, AV_CHECK_WARN, f->bdf, "enable ACS in the BIOS so each VF gets its own group", path, v,
		       "VF shares IOMMU group %d with %s: they can only go to the same VM", g->id, shared);
	else if (shared[0])
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "group %d is viable; %s go%s to the VM with it", g->id,
		       shared, strchr(shared, ',') ? "" : "es");
	else
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "alone in IOMMU group %d (bridges aside)", g->id);
}

void ck_group_isolation(struct av_ck *c)
{
	ck_each(c, ck_targets, "GPU function to check", group_isolation_one);
}

static void pf_vfs_disabled_one(struct av_ck *c, int idx, const struct av_func *f)
{
	char path[96], v[16];
	ck_dev_path(path, sizeof(path), f->bdf, "sriov_numvfs");
	snprintf(v, sizeof(v), "%d", f->sriov_num);
	if (f->sriov_total < 0)
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, NULL, NULL, "not SR-IOV capable: no VFs to disable");
	else if (f->sriov_num > 0)
		ck_add(c, AV_CHECK_FAIL, f->bdf,
		       av_func_on(f, "gim") ? "unload gim (amdvirt gim unload) or keep this PF from it with "
		                              "driver_override=vfio-pci"
		                            : "echo 0 > sriov_numvfs before binding to vfio-pci",
		       path, v, "PF has %d VF%s enabled: vfio-pci refuses a PF with VFs", f->sriov_num,
		       f->sriov_num == 1 ? "" : "s");
	else
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "no VFs enabled");
}

void ck_pf_vfs_disabled(struct av_ck *c)
{
	ck_each(c, ck_pf_targets, "GPU PF to pass through", pf_vfs_disabled_one);
}

void ck_vf_binding(struct av_ck *c)
{
	int *p = NULL, n = ck_vf_pfs(c, &p), lines = 0;
	for (int i = 0; i < n; i++) {
		const struct av_func *pf = &c->m->funcs[p[i]];
		char path[96], want_s[16] = "";
		long want = -1;
		if (av_read_text(c->host, ck_dev_path(path, sizeof(path), pf->bdf, "sriov_vf_device"), want_s,
		                 sizeof(want_s)) > 0)
			want = strtol(want_s, NULL, 16);
		if (pf->n_vfs == 0 && av_func_on(pf, "gim")) {
			lines++;
			const char *cause = ck_vf_blocker(c, p[i]);
			ck_dev_path(path, sizeof(path), pf->bdf, "sriov_numvfs");
			if (cause)
				ck_add(c, AV_CHECK_SKIP, pf->bdf, NULL, path, "0", "PF on gim has no VFs (see %s)", cause);
			else
				ck_add(c, AV_CHECK_FAIL, pf->bdf, "see gim.log and gim.params for why gim enabled no VFs", path,
				       "0", "PF is on gim but has no VFs");
		}
		for (int k = 0; k < pf->n_vfs; k++) {
			const struct av_func *f = &c->m->funcs[pf->vfs[k]];
			ck_dev_path(path, sizeof(path), f->bdf, "driver");
			const char *drv = f->driver[0] ? f->driver : "none";
			lines++;
			if (av_func_on(f, "amdgpu"))
				ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, drv, "VF is on amdgpu (see amdgpu.blacklist)");
			else if (f->driver[0] && !av_func_on(f, "vfio-pci"))
				ck_add(c, AV_CHECK_FAIL, f->bdf, "amdvirt bind --all", path, drv, "VF is bound to %s, not vfio-pci",
				       f->driver);
			else if (want >= 0 && want != f->device)
				ck_add(c, AV_CHECK_WARN, f->bdf, "check the VBIOS; VFs of one PF share one device ID", path, drv,
				       "VF device ID %04x differs from the PF's sriov_vf_device %04lx", f->device, want);
			else if (!f->driver[0])
				ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, drv, "VF unbound (amdvirt bind takes it)%s",
				       pf->sriov_autoprobe == 0 ? "; PF autoprobe off" : "");
			else
				ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, drv, "VF on vfio-pci");
		}
	}
	if (!lines)
		ck_no_subjects(c, "GPU VF");
	free(p);
}

static void pf_reset_one(struct av_ck *c, int idx, const struct av_func *f)
{
	char path[96], v[128];
	ck_dev_path(path, sizeof(path), f->bdf, "reset_method");
	ssize_t r = av_read_text(c->host, path, v, sizeof(v));
	if (r == -ENOENT) {
		/* Since 5.15 the kernel hides reset_method and reset when the
		 * device has no method; before, only reset_method is missing. */
		char rpath[96];
		if (av_exists(c->host, ck_dev_path(rpath, sizeof(rpath), f->bdf, "reset")))
			ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, NULL,
			       "%s does not exist (kernel older than 5.15)", path);
		else
			ck_add(c, AV_CHECK_FAIL, f->bdf, "check the kernel log for reset quirks; the GPU cannot be "
			       "reused safely between VMs", path, "absent",
			       "the kernel offers no reset method (no reset_method or reset attribute)");
		return;
	}
	if (r < 0) {
		ck_add(c, AV_CHECK_SKIP, f->bdf, NULL, path, NULL, "cannot read %s: %s", path, ck_errstr((int)r));
		return;
	}
	bool good = false, bus = false;
	for (char *tok = v; *tok;) {
		size_t l = strcspn(tok, " ");
		good |= (l == 3 && !strncmp(tok, "flr", 3)) || (l == 15 && !strncmp(tok, "device_specific", 15))
		        || (l == 6 && !strncmp(tok, "af_flr", 6));
		bus |= l == 3 && !strncmp(tok, "bus", 3);
		tok += l;
		while (*tok == ' ')
			tok++;
	}
	if (good)
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "can be reset between VMs (%s)", v);
	else if (!v[0])
		ck_add(c, AV_CHECK_FAIL, f->bdf, "check the kernel log for reset quirks; the GPU cannot be reused "
		       "safely between VMs", path, "(empty)", "no reset method: the device cannot be reset between VMs");
	else
		ck_add(c, AV_CHECK_WARN, f->bdf, bus ? "a bus reset also resets the other functions behind the same "
		       "bridge; keep them in the same VM" : "prefer a board whose firmware supports FLR", path, v,
		       "no FLR or device-specific reset, only \"%s\"", v);
}

void ck_pf_reset(struct av_ck *c)
{
	ck_each(c, ck_pf_targets, "GPU PF to pass through", pf_reset_one);
}

static void pf_boot_vga_one(struct av_ck *c, int idx, const struct av_func *f)
{
	char path[96];
	ck_dev_path(path, sizeof(path), f->bdf, "boot_vga");
	if (f->boot_vga)
		ck_add(c, AV_CHECK_WARN, f->bdf, "use the BMC/onboard VGA for the console (BIOS primary display), "
		       "or keep this GPU on the host", path, "1", "the host console uses this GPU (boot_vga 1)");
	else
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, av_exists(c->host, path) ? "0" : "absent",
		       "not the boot VGA device");
}

void ck_pf_boot_vga(struct av_ck *c)
{
	ck_each(c, ck_pf_targets, "GPU PF to pass through", pf_boot_vga_one);
}

/* Processes holding /dev/vfio/<group> open: their group's VM is running.
 * One pass over /proc/PID/fd for the whole run, none when the holders
 * were read on this model (host/holders.c, cluster/kubelet.c). */
int ck_group_holder(struct av_ck *c, int group)
{
	const struct av_vfio_users *u = c->m->vfio_scanned ? &c->m->vfio : &c->vfio;
	if (!c->m->vfio_scanned && !c->vfio_scanned) {
		c->vfio_scanned = true;
		if (av_vfio_users_scan(c->host, &c->vfio) < 0)
			c->err = -ENOMEM;
	}
	for (int i = 0; i < u->n; i++)
		if (u->v[i].group == group)
			return u->v[i].pid;
	return -1;
}

static void device_in_use_one(struct av_ck *c, int idx, const struct av_func *f)
{
	char path[96], v[32];
	ck_dev_path(path, sizeof(path), f->bdf, "enable");
	int pid = f->iommu_group >= 0 && av_func_on(f, "vfio-pci") ? ck_group_holder(c, f->iommu_group) : -1;
	if (av_func_on(f, "vfio-pci") && f->enable_count > 0) {
		char who[32] = "";
		if (pid > 0)
			snprintf(who, sizeof(who), ", pid %d", pid);
		snprintf(v, sizeof(v), "%d", f->enable_count);
		ck_add(c, AV_CHECK_NOTE, f->bdf, "stop the VM before rebinding or unloading gim", path, v,
		       "assigned to a running VM (enabled by vfio%s)", who);
	} else if (pid > 0) {
		snprintf(v, sizeof(v), "pid %d", pid);
		ck_add(c, AV_CHECK_NOTE, f->bdf, "stop the VM before rebinding or unloading gim", "/dev/vfio", v,
		       "/dev/vfio/%d is open by pid %d: assigned to a running VM", f->iommu_group, pid);
	} else {
		snprintf(v, sizeof(v), "%d", f->enable_count < 0 ? 0 : f->enable_count);
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, v, "not in use by a VM");
	}
}

void ck_device_in_use(struct av_ck *c)
{
	ck_each(c, ck_targets, "GPU function to check", device_in_use_one);
}
