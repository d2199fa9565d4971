#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "dra/names.h"
#include "dra/publish.h"
#include "dra/slice.h"

#define SLICES "/apis/resource.k8s.io/v1/resourceslices"
#define CONFLICT_TRIES 5

void av_dra_pub_init(struct av_dra_pub *p, struct av_k8s *k, const char *node)
{
	memset(p, 0, sizeof(*p));
	p->k = k;
	p->node = strdup(node);
}

static void forget(struct av_dra_pub *p)
{
	free(p->name);
	free(p->rv);
	free(p->published);
	p->name = p->rv = p->published = NULL;
	p->n_devices = 0;
}

void av_dra_pub_clear(struct av_dra_pub *p)
{
	forget(p);
	free(p->node);
	free(p->node_uid);
	memset(p, 0, sizeof(*p));
}

static int refused(struct av_dra_pub *p, struct av_k8s_response *r, const char *verb,
                   const char *resource, const char *what, char **cause)
{
	char *msg = av_k8s_status_cause(p->k, r, verb, resource, resource[0] == 'n' ? "" : "resource.k8s.io", what);
	int ret = r->status == 401 || r->status == 403 ? -EACCES : r->status == 404 ? -ENOENT : -EIO;
	if (cause) {
		free(*cause);
		*cause = msg;
	} else {
		free(msg);
	}
	av_k8s_response_clear(r);
	return ret;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Takes what the server holds as ours: name, resourceVersion, generation
 * and devices. */
static int adopt(struct av_dra_pub *p, const cJSON *obj)
{
	const char *name = str_at(obj, "metadata", "name"), *rv = str_at(obj, "metadata", "resourceVersion");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "pool"),
	                                                    "generation");
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(spec, "devices");

	forget(p);
	if (!name)
		return -EINVAL;
	p->name = strdup(name);
	p->rv = rv ? strdup(rv) : NULL;
	if (cJSON_IsNumber(gen) && gen->valuedouble > (double)p->generation)
		p->generation = (long long)gen->valuedouble;
	p->published = cJSON_IsArray(devs) ? cJSON_PrintUnformatted(devs) : strdup("[]");
	p->n_devices = cJSON_IsArray(devs) ? cJSON_GetArraySize(devs) : 0;
	return p->name && p->published ? 0 : -ENOMEM;
}

static int node_uid(struct av_dra_pub *p, char **cause)
{
	char path[300], what[300];
	struct av_k8s_response r;
	int ret;

	if (p->node_uid)
		return 0;
	snprintf(path, sizeof(path), "/api/v1/nodes/%s", p->node);
	snprintf(what, sizeof(what), "node \"%s\"", p->node);
	if ((ret = av_k8s_request(p->k, "GET", path, NULL, NULL, &r, cause)) < 0)
		return ret;
	if (r.status != 200)
		return refused(p, &r, "get", "nodes", what, cause);
	cJSON *doc = cJSON_Parse(r.body);
	const char *uid = str_at(doc, "metadata", "uid");
	if (uid)
		p->node_uid = strdup(uid);
	cJSON_Delete(doc);
	av_k8s_response_clear(&r);
	return 0;
}

static int delete_slice(struct av_dra_pub *p, const char *name, char **cause)
{
	char path[400];
	struct av_k8s_response r;
	int ret;

	snprintf(path, sizeof(path), SLICES "/%s", name);
	if ((ret = av_k8s_request(p->k, "DELETE", path, NULL, NULL, &r, cause)) < 0)
		return ret;
	if (r.status != 200 && r.status != 202 && r.status != 404)
		return refused(p, &r, "delete", "resourceslices", name, cause);
	av_k8s_response_clear(&r);
	return 0;
}

/* Lists this node's slices of the driver: the first is ours, the others
 * (a second instance's, an old run's) are deleted. */
static int read_back(struct av_dra_pub *p, char **cause)
{
	char path[512];
	struct av_k8s_response r;
	int ret;

	snprintf(path, sizeof(path), SLICES "?fieldSelector=spec.nodeName%%3D%s%%2Cspec.driver%%3D%s",
	         p->node, AV_DRA_DRIVER);
	if ((ret = av_k8s_request(p->k, "GET", path, NULL, NULL, &r, cause)) < 0)
		return ret;
	if (r.status != 200)
		return refused(p, &r, "list", "resourceslices", "resourceslices", cause);
	cJSON *doc = cJSON_Parse(r.body);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items"), *it;
	av_k8s_response_clear(&r);
	if (!cJSON_IsArray(items)) {
		cJSON_Delete(doc);
		av_set_cause(cause, "GET %s: the answer is not a ResourceSliceList", path);
		return -EIO;
	}
	const cJSON *mine = NULL;
	/* Ours by name when we know it, else the first. */
	cJSON_ArrayForEach(it, items) {
		const char *name = str_at(it, "metadata", "name");
		if (!mine || (p->name && name && strcmp(name, p->name) == 0))
			mine = it;
	}
	ret = 0;
	cJSON_ArrayForEach(it, items) {
		const char *name = str_at(it, "metadata", "name");
		if (it != mine && name && av_dra_dns_subdomain_ok(name) && (ret = delete_slice(p, name, cause)) < 0)
			break;
	}
	if (ret == 0) {
		if (mine)
			ret = adopt(p, mine);
		else
			forget(p);
	}
	cJSON_Delete(doc);
	return ret;
}

static int write_slice(struct av_dra_pub *p, const cJSON *devices, char **cause)
{
	cJSON *devs = cJSON_Duplicate(devices, true);
	cJSON *obj = av_dra_slice_object(p->node, p->node_uid, p->name, p->rv, p->generation + 1, devs);
	char *body = obj ? cJSON_PrintUnformatted(obj) : NULL;
	char path[400];
	struct av_k8s_response r;
	bool create = p->name == NULL;
	int ret;

	cJSON_Delete(obj);
	if (!body) {
		av_set_cause(cause, "out of memory");
		return -ENOMEM;
	}
	if (create)
		snprintf(path, sizeof(path), SLICES);
	else
		snprintf(path, sizeof(path), SLICES "/%s", p->name);
	ret = av_k8s_request(p->k, create ? "POST" : "PUT", path, "application/json", body, &r, cause);
	free(body);
	if (ret < 0)
		return ret;
	if (r.status == 409 || (!create && r.status == 404)) {
		/* Someone changed or removed it since it was read. */
		av_k8s_response_clear(&r);
		return -EAGAIN;
	}
	if (r.status != 200 && r.status != 201)
		return refused(p, &r, create ? "create" : "update", "resourceslices",
		               p->name ? p->name : "resourceslice", cause);
	cJSON *doc = cJSON_Parse(r.body);
	av_k8s_response_clear(&r);
	ret = doc ? adopt(p, doc) : -EIO;
	cJSON_Delete(doc);
	if (ret < 0)
		av_set_cause(cause, "%s %s: the answer is not a ResourceSlice", create ? "POST" : "PUT", path);
	return ret;
}

int av_dra_pub_sync(struct av_dra_pub *p, const cJSON *devices, bool verify,
                    enum av_dra_pub_did *did, char **cause)
{
	char *want = cJSON_PrintUnformatted(devices);
	int ret = 0;
	bool had = p->name != NULL;

	*did = AV_PUB_NOTHING;
	if (!want || !p->node) {
		free(want);
		av_set_cause(cause, "out of memory");
		return -ENOMEM;
	}
	/* An owner reference is a courtesy (the slice goes with its Node);
	 * without `get nodes` the slice is still published. */
	if (!p->node_uid)
		node_uid(p, NULL);
	for (int tries = 0; tries < CONFLICT_TRIES; tries++) {
		if ((verify || tries > 0 || !had) && (ret = read_back(p, cause)) < 0)
			break;
		if (p->name && p->published && strcmp(p->published, want) == 0) {
			ret = 0;
			if (!had && tries == 0)
				*did = AV_PUB_NOTHING;
			break;
		}
		bool create = p->name == NULL;
		ret = write_slice(p, devices, cause);
		if (ret == -EAGAIN)
			continue;
		if (ret == 0)
			*did = !create ? AV_PUB_UPDATED : had ? AV_PUB_RECREATED : AV_PUB_CREATED;
		break;
	}
	if (ret == -EAGAIN)
		av_set_cause(cause, "the ResourceSlice kept changing (409 Conflict %d times)", CONFLICT_TRIES);
	free(want);
	return ret == -EAGAIN ? -EIO : ret;
}
