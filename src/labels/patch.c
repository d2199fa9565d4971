#include "config.h"

#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "labels/patch.h"

static int diff(const cJSON *current, const struct av_labels *desired,
                const struct av_config *cfg, cJSON *labels, int *n_set, int *n_removed)
{
	for (int i = 0; i < desired->n; i++) {
		const struct av_label *l = &desired->items[i];
		const cJSON *have = cJSON_GetObjectItemCaseSensitive(current, l->key);
		if (cJSON_IsString(have) && strcmp(have->valuestring, l->value) == 0)
			continue;
		if (!cJSON_AddStringToObject(labels, l->key, l->value))
			return -ENOMEM;
		(*n_set)++;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, current) {
		if (!item->string || !av_label_owned(item->string, cfg))
			continue;
		if (av_labels_get(desired, item->string))
			continue;
		if (!cJSON_AddNullToObject(labels, item->string))
			return -ENOMEM;
		(*n_removed)++;
	}
	return 0;
}

int av_labels_patch(const cJSON *current, const struct av_labels *desired,
                    const struct av_config *cfg, const char *resource_version,
                    cJSON **patch, int *n_set, int *n_removed)
{
	int set = 0, removed = 0;
	*patch = NULL;
	cJSON *root = cJSON_CreateObject();
	cJSON *meta = root ? cJSON_AddObjectToObject(root, "metadata") : NULL;
	cJSON *labels = meta ? cJSON_AddObjectToObject(meta, "labels") : NULL;
	if (!labels || diff(cJSON_IsObject(current) ? current : NULL, desired, cfg,
	                    labels, &set, &removed) < 0) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	if (set + removed == 0) {
		cJSON_Delete(root);
		root = NULL;
	} else if (resource_version
	           && !cJSON_AddStringToObject(meta, "resourceVersion", resource_version)) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	*patch = root;
	if (n_set)
		*n_set = set;
	if (n_removed)
		*n_removed = removed;
	return 0;
}
