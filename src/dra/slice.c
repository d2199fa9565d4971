#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dra/names.h"
#include "dra/slice.h"

#define STD "resource.kubernetes.io/"

static const struct av_func *first_func(const struct av_model *m, const struct av_plugin_device *d)
{
	return d->n_funcs > 0 ? &m->funcs[d->funcs[0]] : NULL;
}

void av_dra_slice_device_name(const struct av_model *m, const struct av_resources *r, int i,
                              char *out, size_t size)
{
	const struct av_func *f = first_func(m, &r->devices[i]);
	if (!f) {
		snprintf(out, size, "group-%d", r->devices[i].group);
		return;
	}
	av_dra_device_name(f->role == AV_ROLE_VF ? "vf" : "pf", f->bdf, out, size);
}

int av_dra_slice_find(const struct av_model *m, const struct av_resources *r, const char *name)
{
	char buf[64];
	for (int i = 0; i < r->n_devices; i++) {
		if (!r->devices[i].healthy)
			continue;
		av_dra_slice_device_name(m, r, i, buf, sizeof(buf));
		if (strcmp(buf, name) == 0)
			return i;
	}
	return -1;
}

/* "pci0000:00" from "/sys/devices/pci0000:00/0000:00:01.1/...". */
static bool pcie_root(const struct av_func *f, char *out, size_t size)
{
	const char *pfx = "/sys/devices/";
	if (!f->sysfs_dir || strncmp(f->sysfs_dir, pfx, strlen(pfx)) != 0)
		return false;
	const char *s = f->sysfs_dir + strlen(pfx);
	size_t n = strcspn(s, "/");
	if (n < 4 || strncmp(s, "pci", 3) != 0 || n >= size)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

struct attrs {
	cJSON *obj;
	bool qualified;
	bool failed;
};

static cJSON *put(struct attrs *a, const char *name, const char *type, cJSON *value)
{
	char key[128];
	if (!value) {
		a->failed = true;
		return NULL;
	}
	if (a->qualified && !strchr(name, '/'))
		snprintf(key, sizeof(key), "%s/%s", AV_DRA_DRIVER, name);
	else
		snprintf(key, sizeof(key), "%s", name);
	cJSON *wrap = cJSON_CreateObject();
	if (!wrap || !cJSON_AddItemToObject(wrap, type, value) || !cJSON_AddItemToObject(a->obj, key, wrap)) {
		cJSON_Delete(wrap);
		a->failed = true;
	}
	return wrap;
}

/* A string value longer than the limit would make the API server refuse
 * the slice: cut it (names from pci.ids can be long). */
static void put_string(struct attrs *a, const char *name, const char *s)
{
	char buf[AV_DRA_MAX_STRING + 1];
	size_t n = strlen(s);
	if (n > AV_DRA_MAX_STRING)
		n = AV_DRA_MAX_STRING;
	memcpy(buf, s, n);
	buf[n] = '\0';
	put(a, name, "string", cJSON_CreateString(buf));
}

cJSON *av_dra_slice_attributes(const struct av_model *m, const struct av_resources *r, int i,
                               const struct av_dra_facts *facts, bool qualified)
{
	const struct av_plugin_device *d = &r->devices[i];
	const struct av_func *f = first_func(m, d);
	struct attrs a = { .obj = cJSON_CreateObject(), .qualified = qualified };
	char buf[80];

	if (!a.obj)
		return NULL;
	/* The names AMD's driver uses where it has them (reference 7.2):
	 * type, pciAddr, vendorID, deviceID, productName, iommuGroup,
	 * numaNode, isVF, driverVersion. */
	put_string(&a, "type", "vfio");
	if (f) {
		put_string(&a, "pciAddr", f->bdf);
		put_string(&a, STD "pciBusID", f->bdf);
		if (pcie_root(f, buf, sizeof(buf)))
			put_string(&a, STD "pcieRoot", buf);
		snprintf(buf, sizeof(buf), "0x%04x", f->vendor);
		put_string(&a, "vendorID", buf);
		snprintf(buf, sizeof(buf), "0x%04x", f->device);
		put_string(&a, "deviceID", buf);
		if (f->name && f->name[0])
			put_string(&a, "productName", f->name);
		put(&a, "isVF", "bool", cJSON_CreateBool(f->role == AV_ROLE_VF));
		if (f->role == AV_ROLE_VF && f->physfn >= 0)
			put_string(&a, "parentPF", m->funcs[f->physfn].bdf);
	}
	snprintf(buf, sizeof(buf), "%d", d->group);
	put_string(&a, "iommuGroup", buf);
	if (d->numa_node >= 0)
		put(&a, "numaNode", "int", cJSON_CreateNumber(d->numa_node));
	if (d->hive >= 0 && d->hive < m->n_hives) {
		put_string(&a, "hive", m->hives[d->hive].id);
		if (m->hives[d->hive].xgmi_id)
			put_string(&a, "xgmiHiveID", m->hives[d->hive].xgmi_id);
	}
	put_string(&a, "mode", av_mode_name(m->mode));
	if (m->mode == AV_MODE_VF && facts && facts->gim_version &&
	    av_dra_semver_from(facts->gim_version, buf, sizeof(buf)))
		put(&a, "driverVersion", "version", cJSON_CreateString(buf));
	if (a.failed) {
		cJSON_Delete(a.obj);
		return NULL;
	}
	return a.obj;
}

cJSON *av_dra_slice_devices(const struct av_model *m, const struct av_resources *r,
                            const struct av_dra_facts *facts, int *left_out)
{
	cJSON *arr = cJSON_CreateArray();
	int n = 0;
	char name[64];

	*left_out = 0;
	if (!arr)
		return NULL;
	for (int i = 0; i < r->n_devices; i++) {
		if (!r->devices[i].healthy || r->devices[i].group < 0)
			continue;
		if (n == AV_DRA_MAX_DEVICES) {
			(*left_out)++;
			continue;
		}
		cJSON *dev = cJSON_CreateObject();
		av_dra_slice_device_name(m, r, i, name, sizeof(name));
		cJSON *attrs = av_dra_slice_attributes(m, r, i, facts, false);
		if (!dev || !attrs || !cJSON_AddStringToObject(dev, "name", name) ||
		    !cJSON_AddItemToObject(dev, "attributes", attrs)) {
			cJSON_Delete(attrs);
			cJSON_Delete(dev);
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, dev);
		n++;
	}
	return arr;
}

cJSON *av_dra_slice_object(const char *node, const char *node_uid, const char *name,
                           const char *resource_version, long long generation, cJSON *devices)
{
	cJSON *o = cJSON_CreateObject(), *meta = NULL, *spec = NULL, *pool = NULL;
	char gen_name[300];

	if (!o || !devices)
		goto fail;
	cJSON_AddStringToObject(o, "apiVersion", "resource.k8s.io/v1");
	cJSON_AddStringToObject(o, "kind", "ResourceSlice");
	if (!(meta = cJSON_AddObjectToObject(o, "metadata")))
		goto fail;
	if (name) {
		cJSON_AddStringToObject(meta, "name", name);
	} else {
		/* The name need not say anything; kubelet and consumers find
		 * slices by spec.nodeName and spec.driver. */
		snprintf(gen_name, sizeof(gen_name), "%s-%s-", node, AV_DRA_DRIVER);
		cJSON_AddStringToObject(meta, "generateName", gen_name);
	}
	if (resource_version)
		cJSON_AddStringToObject(meta, "resourceVersion", resource_version);
	if (node_uid) {
		/* Deleted with its Node. */
		cJSON *refs = cJSON_AddArrayToObject(meta, "ownerReferences");
		cJSON *ref = cJSON_CreateObject();
		if (!refs || !ref) {
			cJSON_Delete(ref);
			goto fail;
		}
		cJSON_AddStringToObject(ref, "apiVersion", "v1");
		cJSON_AddStringToObject(ref, "kind", "Node");
		cJSON_AddStringToObject(ref, "name", node);
		cJSON_AddStringToObject(ref, "uid", node_uid);
		cJSON_AddBoolToObject(ref, "controller", true);
		cJSON_AddItemToArray(refs, ref);
	}
	if (!(spec = cJSON_AddObjectToObject(o, "spec")))
		goto fail;
	cJSON_AddStringToObject(spec, "driver", AV_DRA_DRIVER);
	cJSON_AddStringToObject(spec, "nodeName", node);
	if (!(pool = cJSON_AddObjectToObject(spec, "pool")))
		goto fail;
	cJSON_AddStringToObject(pool, "name", node);
	cJSON_AddNumberToObject(pool, "generation", (double)generation);
	cJSON_AddNumberToObject(pool, "resourceSliceCount", 1);
	cJSON_AddItemToObject(spec, "devices", devices);
	return o;
fail:
	cJSON_Delete(devices);
	cJSON_Delete(o);
	return NULL;
}
