/* amdvirt kubevirt-config: the KubeVirt CR merge patch that permits the
 * GPU functions this host offers (kubevirt-integration: HostDevices gate and
 * permittedHostDevices.pciHostDevices with an external resource provider). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* Distinct vendor:device pairs of the selected functions, in BDF order of
 * first appearance. */
static cJSON *host_devices(const struct av_model *m, const char *resource)
{
	cJSON *list = cJSON_CreateArray();
	char seen[64][10];
	int n_seen = 0;
	for (int i = 0; list && i < m->n_funcs; i++) {
		const struct av_func *f = &m->funcs[i];
		if (!f->selected || !av_func_is_gpu(f))
			continue;
		char sel[10];
		snprintf(sel, sizeof(sel), "%04x:%04x", f->vendor, f->device);
		bool dup = false;
		for (int k = 0; k < n_seen; k++)
			dup |= strcmp(seen[k], sel) == 0;
		if (dup || n_seen == 64)
			continue;
		snprintf(seen[n_seen++], sizeof(seen[0]), "%s", sel);
		cJSON *e = cJSON_CreateObject();
		if (!e || !cJSON_AddStringToObject(e, "pciVendorSelector", sel)
		    || !cJSON_AddStringToObject(e, "resourceName", resource)
		    || !cJSON_AddBoolToObject(e, "externalResourceProvider", 1)) {
			cJSON_Delete(e);
			cJSON_Delete(list);
			return NULL;
		}
		cJSON_AddItemToArray(list, e);
	}
	return list;
}

static cJSON *patch_for(const struct av_model *m, const char *resource)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *spec = cJSON_AddObjectToObject(root, "spec");
	cJSON *conf = cJSON_AddObjectToObject(spec, "configuration");
	cJSON *dev = cJSON_AddObjectToObject(conf, "developerConfiguration");
	cJSON *gates = cJSON_AddArrayToObject(dev, "featureGates");
	cJSON *permitted = cJSON_AddObjectToObject(conf, "permittedHostDevices");
	cJSON *list = host_devices(m, resource);
	if (!gates || !permitted || !list || cJSON_GetArraySize(list) == 0) {
		cJSON_Delete(list);
		cJSON_Delete(root);
		return NULL;
	}
	cJSON_AddItemToArray(gates, cJSON_CreateString("HostDevices"));
	cJSON_AddItemToObject(permitted, "pciHostDevices", list);
	return root;
}

int av_cmd_kubevirt_config(struct av_cli *cli)
{
	struct av_model m;
	if (cli->n_args > 0) {
		fprintf(stderr, "amdvirt: kubevirt-config: unexpected argument '%s'\n", cli->args[0]);
		return AV_EXIT_USAGE;
	}
	int rc = av_cli_discover(cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	if (m.mode != AV_MODE_VF && m.mode != AV_MODE_PF) {
		fprintf(stderr, "amdvirt: kubevirt-config: this host is in %s mode; KubeVirt passthrough "
		        "needs vf-passthrough or pf-passthrough (see --driver-type)\n", av_mode_name(m.mode));
		av_model_free(&m);
		return AV_EXIT_FAIL;
	}
	/* An empty list in a merge patch would erase the permitted devices
	 * already in the CR, so there is no patch without a device. */
	bool any = false;
	for (int i = 0; i < m.n_funcs; i++)
		any |= m.funcs[i].selected && av_func_is_gpu(&m.funcs[i]);
	if (!any) {
		fprintf(stderr, "amdvirt: kubevirt-config: no GPU function is selected on this host\n");
		av_model_free(&m);
		return AV_EXIT_FAIL;
	}
	cJSON *patch = patch_for(&m, av_resource_name(m.mode, av_cli_naming(cli)));
	char *text = patch ? cJSON_Print(patch) : NULL;
	cJSON_Delete(patch);
	if (text)
		printf("%s\n", text);
	else
		fprintf(stderr, "amdvirt: out of memory\n");
	free(text);
	av_model_free(&m);
	if (!text || fflush(stdout) != 0)
		return AV_EXIT_USAGE;
	return AV_EXIT_OK;
}
