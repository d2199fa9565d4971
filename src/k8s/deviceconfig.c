#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "k8s/deviceconfig.h"
#include "k8s/conf.h"
#include "k8s/names.h"
#include "base/textsafe.h"
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
	ret = av_config_from_json(cfg, doc, what, cause);
	cJSON_Delete(doc);
	return ret;
}

static int refuse(char *cause, int rc)
{
	fprintf(stderr, "amdvirt: %s\n", cause ? AV_SAFE(cause) : "out of memory");
	free(cause);
	return rc;
}

int av_k8s_config_resolve(struct av_opts *o)
{
	char *cause = NULL;

	if (o->config.present)
		return AV_EXIT_OK;
	if (o->config_path && o->deviceconfig)
		return refuse(strdup("give --config or --deviceconfig, not both"), AV_EXIT_USAGE);
	if (o->config_path) {
		if (av_config_load(&o->config, o->config_path, &cause) < 0)
			return refuse(cause, AV_EXIT_USAGE);
		return AV_EXIT_OK;
	}
	if (!o->deviceconfig)
		return AV_EXIT_OK;
	if (av_k8s_deviceconfig_ref_check(o->deviceconfig, &cause) < 0)
		return refuse(cause, AV_EXIT_USAGE);
	/* A daemon started from an admin's shell must not follow whatever
	 * cluster ~/.kube/config points at. */
	bool daemon = o->command && strcmp(o->command, "daemon") == 0;
	if (daemon && !av_k8s_conf_wanted(o->kubeconfig))
		return refuse(av_strdup_printf("--deviceconfig %s needs API access: give --kubeconfig, set "
		                               "KUBECONFIG, or run in a pod", o->deviceconfig), AV_EXIT_USAGE);
	if (!o->host && !(o->host = av_host_open(o->root, &cause))) {
		fprintf(stderr, "amdvirt: cannot open host root %s\n", cause ? AV_SAFE(cause) : o->root);
		free(cause);
		return AV_EXIT_USAGE;
	}
	struct av_k8s *k = av_k8s_open(o->host, o->kubeconfig, &cause);
	if (!k)
		return refuse(cause, AV_EXIT_USAGE);
	int r = av_k8s_get_deviceconfig(k, o->deviceconfig, &o->config, &cause);
	av_k8s_free(k);
	if (r < 0) {
		av_config_clear(&o->config);
		return refuse(cause, AV_EXIT_USAGE);
	}
	return AV_EXIT_OK;
}
