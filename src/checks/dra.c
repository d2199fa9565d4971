/* dra.prepared: every device the DRA driver prepared for a claim
 * (ROOT/var/lib/amdvirt/dra-claims.json) is still on vfio-pci with its
 * /dev/vfio group node: kubelet already handed it to a VM's pod, whose
 * QEMU opens it with managed='no' and fails on a device a host driver took
 * back.  No result at all where the DRA driver never ran. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "checks/ck.h"
#include "host/draclaims.h"

static void judge(struct av_ck *c, const struct av_dra_claim *cl, const struct av_dra_dev *d)
{
	char path[128], node[32], seen[160], hint[256];
	int idx = d->bdf[0] ? av_model_find(c->m, d->bdf) : -1;
	if (idx < 0) {
		ck_add(c, AV_CHECK_FAIL, d->bdf[0] ? d->bdf : "host", "the pod using the claim cannot start its VM; "
		       "delete the pod so that the claim is allocated again", AV_DRA_STATE, NULL,
		       "device %s of claim %s/%s is gone from the host", d->device, cl->namespace_, cl->name);
		return;
	}
	const struct av_func *f = &c->m->funcs[idx];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", f->bdf);
	snprintf(node, sizeof(node), "/dev/vfio/%d", f->iommu_group);
	snprintf(seen, sizeof(seen), "%s", f->driver[0] ? f->driver : "no driver");
	if (!av_func_on(f, "vfio-pci")) {
		snprintf(hint, sizeof(hint), "amdvirt bind %s puts it back on vfio-pci", f->bdf);
		ck_add(c, AV_CHECK_FAIL, f->bdf, hint, path, seen, "prepared for claim %s/%s (%s) but on %s, not vfio-pci",
		       cl->namespace_, cl->name, d->device, seen);
	} else if (f->iommu_group < 0 || !av_exists(c->host, node)) {
		ck_add(c, AV_CHECK_FAIL, f->bdf, "load vfio-pci's group nodes (modprobe vfio-pci)", node, NULL,
		       "prepared for claim %s/%s (%s) but %s is missing", cl->namespace_, cl->name, d->device, node);
	} else {
		ck_add(c, AV_CHECK_PASS, f->bdf, NULL, path, seen, "prepared for claim %s/%s (%s), on vfio-pci",
		       cl->namespace_, cl->name, d->device);
	}
}

void ck_dra_prepared(struct av_ck *c)
{
	struct av_dra_claims rec;
	char *cause = NULL, path[4096];
	if (av_dra_claims_load(c->host, &rec, &cause) < 0) {
		ck_add(c, AV_CHECK_FAIL, "host", "Unprepare cannot remove the claims' files: move the file aside and "
		       "remove what it names by hand", av_host_path(c->host, AV_DRA_STATE, path, sizeof(path)), NULL,
		       "%s", cause ? cause : "cannot read the DRA record");
		free(cause);
		return;
	}
	if (!rec.present)
		return;
	int judged = 0;
	for (int i = 0; i < rec.n; i++)
		for (int k = 0; k < rec.v[i].n_devs; k++, judged++)
			judge(c, &rec.v[i], &rec.v[i].devs[k]);
	if (!judged)
		ck_add(c, AV_CHECK_PASS, "host", NULL, AV_DRA_STATE, NULL, "no claim is prepared by the DRA driver");
	av_dra_claims_clear(&rec);
}
