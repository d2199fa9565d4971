#include "config.h"

#include <stdio.h>
#include <string.h>

#include "labels/kubevirt.h"

bool av_kubevirt_mode_ok(const struct av_model *m)
{
	return m->mode == AV_MODE_VF || m->mode == AV_MODE_PF;
}

bool av_kubevirt_has_devices(const struct av_model *m)
{
	for (int i = 0; i < m->n_funcs; i++)
		if (m->funcs[i].selected && av_func_is_gpu(&m->funcs[i]))
			return true;
	return false;
}

int av_kubevirt_selectors(const struct av_model *m, char sel[][10], int max)
{
	int n = 0;
	for (int i = 0; i < m->n_funcs && n < max; i++) {
		const struct av_func *f = &m->funcs[i];
		if (!f->selected || !av_func_is_gpu(f))
			continue;
		char s[10];
		snprintf(s, sizeof(s), "%04x:%04x", f->vendor, f->device);
		bool dup = false;
		for (int k = 0; k < n; k++)
			dup |= strcmp(sel[k], s) == 0;
		if (!dup)
			memcpy(sel[n++], s, sizeof(s));
	}
	return n;
}

cJSON *av_kubevirt_entry(const char *selector, const char *resource)
{
	cJSON *e = cJSON_CreateObject();
	if (!e || !cJSON_AddStringToObject(e, "pciVendorSelector", selector)
	    || !cJSON_AddStringToObject(e, "resourceName", resource)
	    || !cJSON_AddBoolToObject(e, "externalResourceProvider", 1)) {
		cJSON_Delete(e);
		return NULL;
	}
	return e;
}

static cJSON *host_devices(const struct av_model *m, const char *resource)
{
	char sel[AV_KUBEVIRT_MAX_IDS][10];
	int n = av_kubevirt_selectors(m, sel, AV_KUBEVIRT_MAX_IDS);
	cJSON *list = cJSON_CreateArray();
	for (int i = 0; list && i < n; i++) {
		cJSON *e = av_kubevirt_entry(sel[i], resource);
		if (!e) {
			cJSON_Delete(list);
			return NULL;
		}
		cJSON_AddItemToArray(list, e);
	}
	return list;
}

cJSON *av_kubevirt_patch(const struct av_model *m, const char *resource)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *spec = cJSON_AddObjectToObject(root, "spec");
	cJSON *conf = cJSON_AddObjectToObject(spec, "configuration");
	cJSON *dev = cJSON_AddObjectToObject(conf, "developerConfiguration");
	cJSON *gates = cJSON_AddArrayToObject(dev, "featureGates");
	cJSON *permitted = cJSON_AddObjectToObject(conf, "permittedHostDevices");
	cJSON *list = host_devices(m, resource);
	cJSON *gate = cJSON_CreateString("HostDevices");
	if (!gates || !permitted || !list || !gate || cJSON_GetArraySize(list) == 0) {
		cJSON_Delete(gate);
		cJSON_Delete(list);
		cJSON_Delete(root);
		return NULL;
	}
	cJSON_AddItemToArray(gates, gate);
	cJSON_AddItemToObject(permitted, "pciHostDevices", list);
	return root;
}
