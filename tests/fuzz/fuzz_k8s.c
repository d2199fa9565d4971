/* libFuzzer target for what the labeller reads from outside: kubeconfig
 * YAML (the first byte 'y'), and API server answers: a Node whose labels
 * are diffed against a fixed label set, or a DeviceConfig (anything else). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "host/devconfig.h"
#include "k8s/conf.h"
#include "labels/patch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char k_mode[] = "amd.com/gpu.mode", v_mode[] = "vf-passthrough";
static char k_id[] = "beta.amd.com/gpu.device-id.74b5", v_id[] = "8";
static struct av_label items[] = { { k_id, v_id }, { k_mode, v_mode } };
static const struct av_labels desired = { .items = items, .n = 2 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	char *cause = NULL;

	if (data[0] == 'y') {
		struct av_k8s_conf c;
		if (av_k8s_conf_kubeconfig_text(text, size - 1, "/k", "fuzz", &c, &cause) == 0)
			av_k8s_conf_clear(&c);
	} else {
		cJSON *doc = cJSON_Parse(text);
		const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
		cJSON *patch = NULL;
		struct av_config cfg;
		memset(&cfg, 0, sizeof(cfg));
		if (av_config_from_json(&cfg, doc, "fuzz", &cause) == 0)
			av_labels_patch(cJSON_GetObjectItemCaseSensitive(meta, "labels"), &desired, &cfg,
			                "1", &patch, NULL, NULL);
		cJSON_Delete(patch);
		av_config_clear(&cfg);
		cJSON_Delete(doc);
	}
	free(cause);
	free(text);
	return 0;
}
