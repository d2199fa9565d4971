#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "k8s/names.h"
#include "k8s/node.h"
#include "labels/patch.h"
#include "base/textsafe.h"
#include "base/util.h"

/* Fresh reads after a 409 before giving up: each one means someone else
 * wrote the Node between our read and our write, which is rare. */
#define CONFLICT_TRIES 5

static int refused(const struct av_k8s *k, const struct av_k8s_response *r, const char *verb,
                   const char *what, char **cause)
{
	char *msg = av_k8s_status_cause(k, r, verb, "nodes", "", what);
	if (cause) {
		free(*cause);
		*cause = msg;
	} else {
		free(msg);
	}
	if (r->status == 401 || r->status == 403)
		return -EACCES;
	return r->status == 404 ? -ENOENT : -EIO;
}

/* The node's labels and resourceVersion from a GET answer. */
static int parse_node(const char *body, cJSON **doc, const cJSON **labels, const char **rv)
{
	*doc = cJSON_Parse(body);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(*doc, "metadata");
	if (!cJSON_IsObject(meta))
		return -EINVAL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	*rv = cJSON_IsString(v) ? v->valuestring : NULL;
	*labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
	return 0;
}

int av_k8s_apply_labels(struct av_k8s *k, const char *node, const struct av_labels *desired,
                        const struct av_config *cfg, struct av_apply_result *res, char **cause)
{
	char path[512], what[300];
	struct av_k8s_response r;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	/* Callers check the name where it is given; this keeps any other
	 * caller from sending a path that reaches another object. */
	if (!av_k8s_subdomain_ok(node, strlen(node))) {
		av_set_cause(cause, "'%s' is not a node name", AV_SAFE(node));
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/api/v1/nodes/%s", node);
	snprintf(what, sizeof(what), "node \"%s\"", node);
	for (int tries = 0; tries < CONFLICT_TRIES; tries++) {
		if ((ret = av_k8s_request(k, "GET", path, NULL, NULL, &r, cause)) < 0)
			return ret;
		if (r.status != 200) {
			ret = refused(k, &r, "get", what, cause);
			av_k8s_response_clear(&r);
			return ret;
		}
		cJSON *doc, *patch = NULL;
		const cJSON *labels;
		const char *rv;
		if (parse_node(r.body, &doc, &labels, &rv) < 0) {
			av_set_cause(cause, "GET %s: the answer is not a Node object", path);
			ret = -EIO;
		} else {
			ret = av_labels_patch(labels, desired, cfg, rv, &patch, &res->n_set, &res->n_removed);
		}
		cJSON_Delete(doc);
		av_k8s_response_clear(&r);
		if (ret < 0 || !patch)
			return ret == -ENOMEM ? (av_set_cause(cause, "out of memory"), ret) : ret;

		free(res->patch);
		res->patch = cJSON_PrintUnformatted(patch);
		cJSON_Delete(patch);
		if (!res->patch) {
			av_set_cause(cause, "out of memory");
			return -ENOMEM;
		}
		if ((ret = av_k8s_request(k, "PATCH", path, "application/merge-patch+json",
		                          res->patch, &r, cause)) < 0)
			return ret;
		long status = r.status;
		if (status == 409) {
			av_k8s_response_clear(&r);
			continue;
		}
		if (status < 200 || status > 299)
			ret = refused(k, &r, "patch", what, cause);
		av_k8s_response_clear(&r);
		return ret;
	}
	av_set_cause(cause, "%s kept changing while its labels were updated (409 Conflict %d times)",
	             what, CONFLICT_TRIES);
	return -EIO;
}

void av_apply_result_clear(struct av_apply_result *res)
{
	free(res->patch);
	memset(res, 0, sizeof(*res));
}
