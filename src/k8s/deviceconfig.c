#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "k8s/deviceconfig.h"
#include "k8s/names.h"
#include "base/util.h"

int av_k8s_get_deviceconfig(struct av_k8s *k, const char *ref, struct av_config *cfg,
                            char **cause)
{
	if (av_k8s_deviceconfig_ref_check(ref, cause) < 0)
		return -EINVAL;
	const char *slash = strchr(ref, '/');
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
	if (av_config_text_check(r.body, r.len, what, cause) < 0) {
		av_k8s_response_clear(&r);
		return -EINVAL;
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
