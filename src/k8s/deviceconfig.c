#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "k8s/deviceconfig.h"
#include "util.h"

/* Namespaces and object names are DNS labels / subdomains; anything else
 * would change the meaning of the URL path. */
static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return false;
	return true;
}

int av_k8s_get_deviceconfig(struct av_k8s *k, const char *ref, struct av_config *cfg,
                            char **cause)
{
	const char *slash = strchr(ref, '/');
	if (!slash || !name_ok(ref, (size_t)(slash - ref)) || !name_ok(slash + 1, strlen(slash + 1))) {
		av_set_cause(cause, "--deviceconfig %s: expected NAMESPACE/NAME", ref);
		return -EINVAL;
	}
	char path[640], what[300];
	snprintf(path, sizeof(path), "/apis/amd.com/v1alpha1/namespaces/%.*s/deviceconfigs/%s",
	         (int)(slash - ref), ref, slash + 1);
	snprintf(what, sizeof(what), "deviceconfig %s", ref);

	struct av_k8s_response r;
	int ret = av_k8s_request(k, "GET", path, NULL, NULL, &r, cause);
	if (ret < 0)
		return ret;
	if (r.status != 200) {
		char *msg = av_k8s_status_cause(k, &r, "get", "deviceconfigs", "amd.com", what);
		if (r.status == 404) {
			free(msg);
			msg = av_strdup_printf("%s not found (is the amd.com/v1alpha1 DeviceConfig "
			                       "resource installed?)", what);
		}
		if (cause) {
			free(*cause);
			*cause = msg;
		} else {
			free(msg);
		}
		ret = r.status == 401 || r.status == 403 ? -EACCES : r.status == 404 ? -ENOENT : -EIO;
		av_k8s_response_clear(&r);
		return ret;
	}
	cJSON *doc = cJSON_Parse(r.body);
	av_k8s_response_clear(&r);
	if (!doc) {
		av_set_cause(cause, "%s: the answer is not JSON", what);
		return -EINVAL;
	}
	ret = av_config_from_json(cfg, doc, ref, cause);
	cJSON_Delete(doc);
	return ret;
}
