#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "k8s/kubevirt.h"
#include "k8s/names.h"
#include "base/textsafe.h"
#include "base/util.h"

/* Reads after a 409 before giving up: each means someone else wrote the
 * CR between our read and our write. */
#define CONFLICT_TRIES 5
#define ROLE_EXAMPLE "k8s/examples/kubevirt-admin-clusterrole.yaml"

int av_kubevirt_ref_parse(const char *ref, struct av_kubevirt_ref *out, char **cause)
{
	const char *given = ref ? ref : AV_KUBEVIRT_DEFAULT;
	const char *slash = strchr(given, '/');
	memset(out, 0, sizeof(*out));
	if (!slash || !av_k8s_label_ok(given, (size_t)(slash - given))
	    || !av_k8s_subdomain_ok(slash + 1, strlen(slash + 1))) {
		av_set_cause(cause, "--kubevirt '%s': use NAMESPACE/NAME (a namespace and a KubeVirt CR "
		             "name, lower-case DNS-1123 names)", AV_SAFE(given));
		return -EINVAL;
	}
	memcpy(out->ns, given, (size_t)(slash - given));
	snprintf(out->name, sizeof(out->name), "%s", slash + 1);
	return 0;
}

void av_kubevirt_apply_clear(struct av_kubevirt_apply *res)
{
	av_kubevirt_merge_clear(&res->merge);
	free(res->resource_version);
	memset(res, 0, sizeof(*res));
}

/* The server's message ("... not found", "the server could not find the
 * requested resource"), when it sent one. */
static bool message_has(const struct av_k8s_response *r, const char *words)
{
	cJSON *doc = r->body ? cJSON_Parse(r->body) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
	bool has = cJSON_IsString(m) && strstr(m->valuestring, words);
	cJSON_Delete(doc);
	return has;
}

static int refused(const struct av_k8s *k, const struct av_k8s_response *r, const char *verb,
                   const struct av_kubevirt_ref *ref, char **cause)
{
	char *msg;
	int err = -EIO;
	if (r->status == 403) {
		msg = av_strdup_printf("forbidden: cannot %s kubevirt %s/%s: RBAC must allow verb \"%s\" on "
		                       "resource \"kubevirts\" in API group \"kubevirt.io\" for %s (see %s)",
		                       verb, ref->ns, ref->name, verb, av_k8s_origin(k), ROLE_EXAMPLE);
		err = -EACCES;
	} else if (r->status == 404 && message_has(r, "could not find the requested resource")) {
		/* No such path at all: the CRD is not there. */
		msg = av_strdup_printf("the API server has no kubevirts.kubevirt.io/v1 (is KubeVirt installed?); "
		                       "nothing changed");
		err = -ENOENT;
	} else if (r->status == 404) {
		msg = av_strdup_printf("KubeVirt CR %s/%s does not exist (kubectl get kubevirt -A lists them; "
		                       "name another with --kubevirt NAMESPACE/NAME); nothing changed",
		                       ref->ns, ref->name);
		err = -ENOENT;
	} else {
		char what[400];
		snprintf(what, sizeof(what), "kubevirt %s/%s", ref->ns, ref->name);
		msg = av_k8s_status_cause(k, r, verb, "kubevirts", "kubevirt.io", what);
		if (r->status == 401)
			err = -EACCES;
	}
	if (cause) {
		free(*cause);
		*cause = msg;
	} else {
		free(msg);
	}
	return err;
}

/* One read and merge.  Returns 0 or -errno with *cause. */
static int read_merge(struct av_k8s *k, const char *path, const struct av_kubevirt_ref *ref,
                      char sel[][10], int n_sel, const char *resource,
                      struct av_kubevirt_apply *res, char **cause)
{
	struct av_k8s_response r;
	int ret = av_k8s_request(k, "GET", path, NULL, NULL, &r, cause);
	if (ret < 0)
		return ret;
	if (r.status != 200) {
		ret = refused(k, &r, "get", ref, cause);
		av_k8s_response_clear(&r);
		return ret;
	}
	cJSON *doc = cJSON_Parse(r.body);
	av_k8s_response_clear(&r);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	if (!cJSON_IsString(rv) || !*rv->valuestring) {
		cJSON_Delete(doc);
		av_set_cause(cause, "GET %s: the answer is not a KubeVirt object with a resourceVersion", path);
		return -EIO;
	}
	av_kubevirt_merge_clear(&res->merge);
	free(res->resource_version);
	res->resource_version = strdup(rv->valuestring);
	char *why = NULL;
	ret = res->resource_version ? av_kubevirt_merge(doc, sel, n_sel, resource, &res->merge, &why) : -ENOMEM;
	cJSON_Delete(doc);
	if (ret == -EINVAL)
		av_set_cause(cause, "kubevirt %s/%s: %s; nothing changed", ref->ns, ref->name, why);
	else if (ret < 0)
		av_set_cause(cause, "out of memory");
	free(why);
	return ret;
}

int av_k8s_kubevirt_apply(struct av_k8s *k, const struct av_kubevirt_ref *ref, char sel[][10],
                          int n_sel, const char *resource, bool dry_run,
                          struct av_kubevirt_apply *res, char **cause)
{
	char path[512];
	int ret;

	memset(res, 0, sizeof(*res));
	/* The names were checked where they were given; this keeps any other
	 * caller from reaching another path. */
	if (!av_k8s_label_ok(ref->ns, strlen(ref->ns)) || !av_k8s_subdomain_ok(ref->name, strlen(ref->name))) {
		av_set_cause(cause, "'%s/%s' is not a KubeVirt CR name", AV_SAFE(ref->ns), AV_SAFE(ref->name));
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/apis/kubevirt.io/v1/namespaces/%s/kubevirts/%s", ref->ns, ref->name);
	for (int tries = 0; tries < CONFLICT_TRIES; tries++) {
		if ((ret = read_merge(k, path, ref, sel, n_sel, resource, res, cause)) < 0)
			return ret;
		cJSON *patch = dry_run ? NULL : av_kubevirt_merge_patch(&res->merge, res->resource_version);
		if (!patch) {
			if (!dry_run && (res->merge.gates_changed || res->merge.pci_changed)) {
				av_set_cause(cause, "out of memory");
				return -ENOMEM;
			}
			return 0;
		}
		char *body = cJSON_PrintUnformatted(patch);
		cJSON_Delete(patch);
		if (!body) {
			av_set_cause(cause, "out of memory");
			return -ENOMEM;
		}
		struct av_k8s_response r;
		ret = av_k8s_request(k, "PATCH", path, "application/merge-patch+json", body, &r, cause);
		free(body);
		if (ret < 0)
			return ret;
		if (r.status == 409) {
			av_k8s_response_clear(&r);
			res->conflicts++;
			continue;
		}
		if (r.status < 200 || r.status > 299)
			ret = refused(k, &r, "patch", ref, cause);
		else
			res->patched = true;
		av_k8s_response_clear(&r);
		return ret;
	}
	av_set_cause(cause, "kubevirt %s/%s kept changing while it was updated (409 Conflict %d times); "
	             "nothing changed, run it again", ref->ns, ref->name, CONFLICT_TRIES);
	return -EIO;
}
