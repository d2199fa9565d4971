#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/textsafe.h"
#include "base/util.h"
#include "dra/names.h"
#include "dra/prepare.h"
#include "plugin/alloc.h"

#define CDI_VERSION "0.5.0"
#define POD_CLAIM_NAME "resource.kubernetes.io/pod-claim-name"
#define META_IN_CONTAINER "/var/run/kubernetes.io/dra-device-attributes"

int av_dra_claim_get(struct av_k8s *k, const char *ns, const char *name, cJSON **obj, char **cause)
{
	char path[600], what[400];
	struct av_k8s_response r;
	int ret;

	*obj = NULL;
	snprintf(path, sizeof(path), "/apis/resource.k8s.io/v1/namespaces/%s/resourceclaims/%s", ns, name);
	snprintf(what, sizeof(what), "resourceclaim \"%s/%s\"", ns, name);
	if ((ret = av_k8s_request(k, "GET", path, NULL, NULL, &r, cause)) < 0)
		return ret;
	if (r.status != 200) {
		char *msg = av_k8s_status_cause(k, &r, "get", "resourceclaims", "resource.k8s.io", what);
		ret = r.status == 404 ? -ENOENT : r.status == 401 || r.status == 403 ? -EACCES : -EIO;
		av_k8s_response_clear(&r);
		if (cause) {
			free(*cause);
			*cause = msg;
		} else {
			free(msg);
		}
		return ret;
	}
	*obj = cJSON_Parse(r.body);
	av_k8s_response_clear(&r);
	if (!cJSON_IsObject(*obj)) {
		cJSON_Delete(*obj);
		*obj = NULL;
		av_set_cause(cause, "GET %s: the answer is not a ResourceClaim", path);
		return -EIO;
	}
	return 0;
}

static const cJSON *at(const cJSON *o, const char *a, const char *b, const char *c)
{
	o = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		o = cJSON_GetObjectItemCaseSensitive(o, b);
	if (c)
		o = cJSON_GetObjectItemCaseSensitive(o, c);
	return o;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Why device i (or the function bdf, when i < 0) is not usable. */
static void why_not(const struct av_model *m, const struct av_resources *r, int i, const char *bdf,
                    char *buf, size_t size)
{
	int f = av_model_find(m, bdf);
	if (f < 0) {
		snprintf(buf, size, "%s is not on the host", bdf);
		return;
	}
	const struct av_func *fn = &m->funcs[f];
	if (!av_func_on(fn, "vfio-pci")) {
		snprintf(buf, size, "%s is on %s, not vfio-pci", bdf, fn->driver[0] ? fn->driver : "no driver");
		return;
	}
	const struct av_group *g = av_model_group(m, fn->iommu_group);
	if (g && !g->vfio_node)
		snprintf(buf, size, "/dev/vfio/%d is missing", g->id);
	else if (g && !g->viable)
		snprintf(buf, size, "IOMMU group %d is not viable (a member is on a host driver)", g->id);
	else
		snprintf(buf, size, "%s is not a device amdvirt serves in mode %s", bdf, av_mode_name(m->mode));
	(void)r;
	(void)i;
}

struct hostview {
	struct av_model m;
	struct av_resources r;
	bool have;
};

static void view_clear(struct hostview *v)
{
	if (v->have) {
		av_resources_clear(&v->r);
		av_model_free(&v->m);
	}
	v->have = false;
}

static int view_read(const struct av_dra_env *env, struct hostview *v)
{
	view_clear(v);
	int r = env->read_host(env->user, &v->m, &v->r);
	v->have = r == 0;
	return r;
}

/* Brings the device named name to vfio-pci with the `bind` plan, under the
 * actions' lock and with their rollback. */
static int bind_device(const struct av_dra_env *env, struct hostview *v, const char *bdf,
                       char *why, size_t size)
{
	struct av_plan plan;
	const char *bdfs[] = { bdf };
	char *cause = NULL;
	int r = av_plan_bind(&v->m, bdfs, 1, env->bind_opts, &plan);
	if (r < 0)
		return r;
	if (plan.n_refusals) {
		snprintf(why, size, "cannot bind %s to vfio-pci: %s", bdf, plan.refusals[0]);
		av_plan_clear(&plan);
		return -EPERM;
	}
	r = av_plan_execute(env->host, &plan, NULL, &cause);
	av_plan_clear(&plan);
	if (r < 0) {
		snprintf(why, size, "binding %s to vfio-pci failed (rolled back): %s", bdf,
		         cause ? cause : av_strerror(-r));
		free(cause);
		return r;
	}
	return view_read(env, v);
}

static bool add_node(cJSON *nodes, const char *path)
{
	cJSON *n = cJSON_CreateObject();
	if (!n)
		return false;
	cJSON_AddStringToObject(n, "path", path);
	cJSON_AddStringToObject(n, "permissions", "rwm");
	cJSON_AddItemToArray(nodes, n);
	return true;
}

static int write_json(const struct av_dra_env *env, struct av_dra_claim *out, const char *path, cJSON *doc)
{
	char *text = doc ? cJSON_Print(doc) : NULL;
	if (!text)
		return -ENOMEM;
	int r = av_write_atomic(env->host, path, text, strlen(text));
	free(text);
	if (r == 0)
		r = av_dra_strv_push(&out->files, &out->n_files, path);
	return r;
}

/* One CDI spec for the claim's VFIO devices: /dev/vfio/vfio (and
 * /dev/iommu) once, each device its group node (and its iommufd node). */
static int write_vfio_spec(const struct av_dra_env *env, const struct hostview *v, const int *idx,
                           struct av_dra_claim *out)
{
	cJSON *spec = cJSON_CreateObject(), *edits, *nodes, *devs;
	char path[256], name[160], id[256];
	int r = -ENOMEM;

	if (!spec)
		return -ENOMEM;
	cJSON_AddStringToObject(spec, "cdiVersion", CDI_VERSION);
	cJSON_AddStringToObject(spec, "kind", AV_DRA_DRIVER "/vfio");
	if (!(edits = cJSON_AddObjectToObject(spec, "containerEdits")) ||
	    !(nodes = cJSON_AddArrayToObject(edits, "deviceNodes")) || !add_node(nodes, "/dev/vfio/vfio") ||
	    (v->m.have_iommufd && !add_node(nodes, "/dev/iommu")) ||
	    !(devs = cJSON_AddArrayToObject(spec, "devices")))
		goto out;
	for (int i = 0; i < out->n_devs; i++) {
		struct av_alloc_grant g;
		cJSON *d = cJSON_CreateObject(), *de, *dn;
		if (!d)
			goto out;
		cJSON_AddItemToArray(devs, d);
		/* The same nodes the device plugin's Allocate hands out. */
		if (av_alloc_grant(&v->r, &v->m, &idx[i], 1, &g) < 0)
			goto out;
		snprintf(name, sizeof(name), "%s-%s", out->uid, out->devs[i].device);
		cJSON_AddStringToObject(d, "name", name);
		bool ok = (de = cJSON_AddObjectToObject(d, "containerEdits")) &&
		          (dn = cJSON_AddArrayToObject(de, "deviceNodes"));
		for (int k = 0; ok && k < g.n_specs; k++)
			if (strcmp(g.specs[k].path, "/dev/vfio/vfio") != 0 && strcmp(g.specs[k].path, "/dev/iommu") != 0)
				ok = add_node(dn, g.specs[k].path);
		av_alloc_grant_clear(&g);
		snprintf(id, sizeof(id), "%s/vfio=%s", AV_DRA_DRIVER, name);
		if (!ok || av_dra_strv_push(&out->devs[i].cdi, &out->devs[i].n_cdi, id) < 0)
			goto out;
	}
	snprintf(path, sizeof(path), AV_DRA_CDI_DIR "/%s-vfio_%s.json", AV_DRA_DRIVER, out->uid);
	r = write_json(env, out, path, spec);
out:
	cJSON_Delete(spec);
	return r;
}

/* The KEP-5304 file for one request and the CDI spec that mounts it. */
static int write_metadata(const struct av_dra_env *env, const struct hostview *v, const int *idx,
                          const cJSON *claim, const char *request, struct av_dra_claim *out)
{
	const char *pod_claim = str(at(claim, "metadata", "annotations", NULL), POD_CLAIM_NAME);
	const cJSON *gen = at(claim, "metadata", "generation", NULL);
	char dir[512], file[600], cpath[600], spec_path[400], dev_name[200], id[300];
	int first = -1, r = -ENOMEM;

	if (pod_claim && !av_dra_dns_label_ok(pod_claim))
		pod_claim = NULL;
	cJSON *doc = cJSON_CreateObject(), *meta, *reqs, *req, *devs;
	if (!doc)
		return -ENOMEM;
	cJSON_AddStringToObject(doc, "kind", "DeviceMetadata");
	cJSON_AddStringToObject(doc, "apiVersion", "metadata.resource.k8s.io/v1alpha1");
	if (!(meta = cJSON_AddObjectToObject(doc, "metadata")))
		goto out;
	cJSON_AddStringToObject(meta, "name", out->name);
	cJSON_AddStringToObject(meta, "namespace", out->namespace_);
	cJSON_AddStringToObject(meta, "uid", out->uid);
	cJSON_AddNumberToObject(meta, "generation", cJSON_IsNumber(gen) ? gen->valuedouble : 1);
	if (pod_claim)
		cJSON_AddStringToObject(doc, "podClaimName", pod_claim);
	if (!(reqs = cJSON_AddArrayToObject(doc, "requests")) || !(req = cJSON_CreateObject()))
		goto out;
	cJSON_AddItemToArray(reqs, req);
	cJSON_AddStringToObject(req, "name", request);
	if (!(devs = cJSON_AddArrayToObject(req, "devices")))
		goto out;
	for (int i = 0; i < out->n_devs; i++) {
		if (strcmp(out->devs[i].request, request) != 0)
			continue;
		if (first < 0)
			first = i;
		cJSON *d = cJSON_CreateObject();
		cJSON *attrs = av_dra_slice_attributes(&v->m, &v->r, idx[i], &env->facts, true);
		if (!d || !attrs) {
			cJSON_Delete(d);
			cJSON_Delete(attrs);
			goto out;
		}
		cJSON_AddItemToArray(devs, d);
		cJSON_AddStringToObject(d, "driver", AV_DRA_DRIVER);
		cJSON_AddStringToObject(d, "pool", out->devs[i].pool);
		cJSON_AddStringToObject(d, "name", out->devs[i].device);
		cJSON_AddItemToObject(d, "attributes", attrs);
	}
	snprintf(dir, sizeof(dir), AV_DRA_METADATA_DIR "/%s_%s", out->namespace_, out->name);
	if (out->n_dirs == 0 && av_dra_strv_push(&out->dirs, &out->n_dirs, dir) < 0)
		goto out;
	snprintf(dir, sizeof(dir), AV_DRA_METADATA_DIR "/%s_%s/%s", out->namespace_, out->name, request);
	snprintf(file, sizeof(file), "%s/metadata.json", dir);
	/* Deepest first: Unprepare removes them in this order. */
	if (av_dra_strv_push(&out->dirs, &out->n_dirs, dir) < 0 || (r = write_json(env, out, file, doc)) < 0)
		goto out;
	cJSON_Delete(doc);

	if (pod_claim)
		snprintf(cpath, sizeof(cpath), META_IN_CONTAINER "/resourceclaimtemplates/%s/%s/%s-metadata.json",
		         pod_claim, request, AV_DRA_DRIVER);
	else
		snprintf(cpath, sizeof(cpath), META_IN_CONTAINER "/resourceclaims/%s/%s/%s-metadata.json",
		         out->name, request, AV_DRA_DRIVER);
	snprintf(dev_name, sizeof(dev_name), "%s_%s", out->uid, request);
	r = -ENOMEM;
	cJSON *d, *edits, *mounts, *mnt, *opts;
	if (!(doc = cJSON_CreateObject()))
		return -ENOMEM;
	cJSON_AddStringToObject(doc, "cdiVersion", CDI_VERSION);
	cJSON_AddStringToObject(doc, "kind", AV_DRA_DRIVER "/metadata");
	if (!(devs = cJSON_AddArrayToObject(doc, "devices")) || !(d = cJSON_CreateObject()))
		goto out;
	cJSON_AddItemToArray(devs, d);
	cJSON_AddStringToObject(d, "name", dev_name);
	if (!(edits = cJSON_AddObjectToObject(d, "containerEdits")) ||
	    !(mounts = cJSON_AddArrayToObject(edits, "mounts")) || !(mnt = cJSON_CreateObject()))
		goto out;
	cJSON_AddItemToArray(mounts, mnt);
	cJSON_AddStringToObject(mnt, "hostPath", file);
	cJSON_AddStringToObject(mnt, "containerPath", cpath);
	if (!(opts = cJSON_AddArrayToObject(mnt, "options")))
		goto out;
	cJSON_AddItemToArray(opts, cJSON_CreateString("ro"));
	cJSON_AddItemToArray(opts, cJSON_CreateString("bind"));
	snprintf(spec_path, sizeof(spec_path), AV_DRA_CDI_DIR "/%s_metadata_%s_%s.json", AV_DRA_DRIVER,
	         out->uid, request);
	if ((r = write_json(env, out, spec_path, doc)) < 0)
		goto out;
	snprintf(id, sizeof(id), "%s/metadata=%s", AV_DRA_DRIVER, dev_name);
	if (first >= 0)
		r = av_dra_strv_push(&out->devs[first].cdi, &out->devs[first].n_cdi, id);
out:
	cJSON_Delete(doc);
	return r;
}

/* The allocation's results of this driver: out->devs. */
static int read_results(const struct av_dra_env *env, const cJSON *obj, struct av_dra_claim *out)
{
	const cJSON *results = at(obj, "status", "allocation", "devices"), *it;
	results = cJSON_GetObjectItemCaseSensitive(results, "results");
	if (!cJSON_IsArray(results))
		return av_dra_claim_fail(out, "claim %s/%s is not allocated (no status.allocation.devices.results)",
		                         out->namespace_, out->name);
	cJSON_ArrayForEach(it, results) {
		const char *drv = str(it, "driver"), *req = str(it, "request");
		const char *pool = str(it, "pool"), *dev = str(it, "device");
		char base[64];
		if (!drv || strcmp(drv, AV_DRA_DRIVER) != 0)
			continue;
		if (!req || !pool || !dev)
			return av_dra_claim_fail(out, "claim %s/%s: a result without request, pool or device",
			                         out->namespace_, out->name);
		/* A subrequest ("gpu/vf") serves its request ("gpu"): kubelet
		 * matches containers against that. */
		snprintf(base, sizeof(base), "%.*s", (int)strcspn(req, "/"), req);
		if (!av_dra_dns_label_ok(base))
			return av_dra_claim_fail(out, "claim %s/%s: request name '%s' is not a DNS label",
			                         out->namespace_, out->name, AV_SAFE(req));
		if (strcmp(pool, env->node) != 0)
			return av_dra_claim_fail(out, "claim %s/%s: device %s is in pool %s, not this node's %s",
			                         out->namespace_, out->name, AV_SAFE(dev), AV_SAFE(pool), env->node);
		if (av_dra_claim_dev_add(out, base, pool, dev, NULL) < 0)
			return -ENOMEM;
	}
	if (out->n_devs == 0)
		return av_dra_claim_fail(out, "claim %s/%s allocates no device of %s", out->namespace_, out->name,
		                         AV_DRA_DRIVER);
	return 0;
}

int av_dra_prepare(const struct av_dra_env *env, const char *ns, const char *name,
                   const char *uid, const cJSON *obj, struct av_dra_claim *out)
{
	struct hostview v = { 0 };
	int *idx = NULL, r;
	char why[512];

	memset(out, 0, sizeof(*out));
	out->uid = strdup(uid);
	out->namespace_ = strdup(ns);
	out->name = strdup(name);
	if (!out->uid || !out->namespace_ || !out->name)
		return -ENOMEM;
	const char *got_uid = str(at(obj, "metadata", NULL, NULL), "uid");
	if (!got_uid || strcmp(got_uid, uid) != 0)
		return av_dra_claim_fail(out, "claim %s/%s has uid %s, not %s (deleted and created again?)", ns,
		                         name, got_uid ? AV_SAFE(got_uid) : "(none)", uid);
	if ((r = read_results(env, obj, out)) < 0 || out->error)
		return r;
	if ((r = view_read(env, &v)) < 0) {
		r = av_dra_claim_fail(out, "cannot read the host: %s", av_strerror(-r));
		goto done;
	}
	if (!(idx = calloc((size_t)out->n_devs, sizeof(int)))) {
		r = -ENOMEM;
		goto done;
	}
	for (int i = 0; i < out->n_devs; i++) {
		const char *dev = out->devs[i].device;
		char bdf[13];
		idx[i] = av_dra_slice_find(&v.m, &v.r, dev);
		if (idx[i] >= 0)
			continue;
		if (!av_dra_bdf_from_name(dev, bdf)) {
			r = av_dra_claim_fail(out, "device %s is not one of %s's", AV_SAFE(dev), AV_DRA_DRIVER);
			goto done;
		}
		why_not(&v.m, &v.r, -1, bdf, why, sizeof(why));
		if (!env->bind_opts) {
			r = av_dra_claim_fail(out, "device %s is not ready for a VM: %s (driver management is off)",
			                      dev, why);
			goto done;
		}
		r = bind_device(env, &v, bdf, why, sizeof(why));
		if (r == -ENOMEM)
			goto done;
		if (r < 0 || (idx[i] = av_dra_slice_find(&v.m, &v.r, dev)) < 0) {
			if (r == 0)
				why_not(&v.m, &v.r, -1, bdf, why, sizeof(why));
			r = av_dra_claim_fail(out, "device %s: %s", dev, why);
			goto done;
		}
		/* A bind re-read the host: earlier indexes are stale. */
		for (int k = 0; k < i; k++)
			if ((idx[k] = av_dra_slice_find(&v.m, &v.r, out->devs[k].device)) < 0) {
				r = av_dra_claim_fail(out, "device %s left vfio-pci while the claim was prepared",
				                      out->devs[k].device);
				goto done;
			}
	}
	for (int i = 0; i < out->n_devs; i++) {
		const struct av_plugin_device *pd = &v.r.devices[idx[i]];
		free(out->devs[i].bdf);
		if (!(out->devs[i].bdf = strdup(pd->n_funcs ? v.m.funcs[pd->funcs[0]].bdf : ""))) {
			r = -ENOMEM;
			goto done;
		}
	}
	r = write_vfio_spec(env, &v, idx, out);
	for (int i = 0; r == 0 && i < out->n_devs; i++) {
		bool seen = false;
		for (int k = 0; k < i; k++)
			seen |= strcmp(out->devs[k].request, out->devs[i].request) == 0;
		if (!seen)
			r = write_metadata(env, &v, idx, obj, out->devs[i].request, out);
	}
	if (r < 0 && r != -ENOMEM) {
		char *cause = NULL;
		av_dra_unprepare(env->host, out, &cause);
		free(cause);
		r = av_dra_claim_fail(out, "cannot write the claim's files: %s", av_strerror(-r));
	}
done:
	free(idx);
	view_clear(&v);
	return r;
}

/* rmdir inside the root; a directory still holding something stays. */
static int remove_dir(struct av_host *host, const char *path)
{
	const char *slash = strrchr(path, '/');
	char parent[600];
	if (!slash || slash == path)
		return 0;
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	int fd = av_open_dir(host, parent, false);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	int r = unlinkat(fd, slash + 1, AT_REMOVEDIR) < 0 ? -errno : 0;
	close(fd);
	return r == -ENOENT || r == -ENOTEMPTY || r == -EEXIST ? 0 : r;
}

int av_dra_unprepare(struct av_host *host, const struct av_dra_claim *c, char **cause)
{
	int ret = 0;
	for (int i = 0; i < c->n_files; i++) {
		int r = av_unlink(host, c->files[i]);
		if (r < 0 && ret == 0) {
			av_set_cause(cause, "cannot remove %s: %s", c->files[i], av_strerror(-r));
			ret = r;
		}
	}
	for (int i = c->n_dirs - 1; i >= 0; i--) {
		int r = remove_dir(host, c->dirs[i]);
		if (r < 0 && ret == 0) {
			av_set_cause(cause, "cannot remove %s: %s", c->dirs[i], av_strerror(-r));
			ret = r;
		}
	}
	return ret;
}
