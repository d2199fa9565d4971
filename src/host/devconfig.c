#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "host/devconfig.h"
#include "base/util.h"

#define CONFIG_MAX_SIZE (1 << 20)

/* Fetches an optional member of the given JSON type.  Returns 1 when found,
 * 0 when absent or null, -EINVAL (with *cause naming the field) when it has
 * another type. */
static int member(const cJSON *obj, const char *key, int type, const char *field,
                  const char *what, const cJSON **out, char **cause)
{
	*out = NULL;
	if (!obj)
		return 0;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v || cJSON_IsNull(v))
		return 0;
	if ((v->type & 0xff) != type && !(type == cJSON_True && cJSON_IsBool(v))) {
		static const struct { int type; const char *name; } names[] = {
			{ cJSON_True, "a boolean" }, { cJSON_Number, "a number" },
			{ cJSON_String, "a string" }, { cJSON_Array, "an array" },
			{ cJSON_Object, "an object" },
		};
		const char *want = "?";
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i].type == type)
				want = names[i].name;
		av_set_cause(cause, "%s: %s must be %s", what, field, want);
		return -EINVAL;
	}
	*out = v;
	return 1;
}

static int dup_string(const cJSON *obj, const char *key, const char *field, const char *what,
                      char **out, char **cause)
{
	const cJSON *v;
	int r = member(obj, key, cJSON_String, field, what, &v, cause);
	if (r <= 0)
		return r;
	*out = strdup(v->valuestring);
	return *out ? 1 : -ENOMEM;
}

static int string_array(const cJSON *arr, const char *field, const char *what,
                        char ***out, int *n, char **cause)
{
	int count = cJSON_GetArraySize(arr);
	char **list = calloc((size_t)count + 1, sizeof(char *));
	if (!list)
		return -ENOMEM;
	int i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it)) {
			av_set_cause(cause, "%s: %s[%d] must be a string", what, field, i);
			goto fail;
		}
		if (!(list[i++] = strdup(it->valuestring)))
			goto fail;
	}
	*out = list;
	*n = count;
	return 0;
fail:
	for (int k = 0; k < i; k++)
		free(list[k]);
	free(list);
	return cause && *cause ? -EINVAL : -ENOMEM;
}

static int parse_driver(struct av_config *cfg, const cJSON *driver, const char *what, char **cause)
{
	const cJSON *v, *sub;
	int r;

	if ((r = member(driver, "enable", cJSON_True, "spec.driver.enable", what, &v, cause)) < 0)
		return r;
	if (r) {
		cfg->driver_enable = cJSON_IsTrue(v);
		cfg->driver_enable_set = true;
	}
	if ((r = dup_string(driver, "driverType", "spec.driver.driverType", what, &cfg->driver_type, cause)) < 0)
		return r;
	if (cfg->driver_type && strcmp(cfg->driver_type, "container") && strcmp(cfg->driver_type, "vf-passthrough")
	    && strcmp(cfg->driver_type, "pf-passthrough")) {
		av_set_cause(cause, "%s: spec.driver.driverType '%s' is not container, vf-passthrough or pf-passthrough",
		             what, cfg->driver_type);
		return -EINVAL;
	}
	if ((r = dup_string(driver, "version", "spec.driver.version", what, &cfg->version, cause)) < 0)
		return r;
	if ((r = member(driver, "blacklist", cJSON_True, "spec.driver.blacklist", what, &v, cause)) < 0)
		return r;
	if (r) {
		cfg->blacklist = cJSON_IsTrue(v);
		cfg->blacklist_set = true;
	}

	if ((r = member(driver, "vfioConfig", cJSON_Object, "spec.driver.vfioConfig", what, &sub, cause)) < 0)
		return r;
	if ((r = member(sub, "deviceIDs", cJSON_Array, "spec.driver.vfioConfig.deviceIDs", what, &v, cause)) < 0)
		return r;
	if (r) {
		char **ids;
		int n;
		if ((r = string_array(v, "spec.driver.vfioConfig.deviceIDs", what, &ids, &n, cause)) < 0)
			return r;
		cfg->device_ids = calloc((size_t)n + 1, sizeof(uint16_t));
		for (int i = 0; i < n && cfg->device_ids; i++) {
			if (av_parse_hex16(ids[i], &cfg->device_ids[i]) < 0 && !r) {
				av_set_cause(cause, "%s: spec.driver.vfioConfig.deviceIDs[%d] '%s' is not a 4-digit hex device ID",
				             what, i, ids[i]);
				r = -EINVAL;
			}
		}
		for (int i = 0; i < n; i++)
			free(ids[i]);
		free(ids);
		if (!cfg->device_ids)
			return -ENOMEM;
		cfg->n_device_ids = n;
		if (r < 0)
			return r;
	}

	if ((r = member(driver, "kernelModuleConfig", cJSON_Object, "spec.driver.kernelModuleConfig", what, &sub, cause)) < 0)
		return r;
	if ((r = member(sub, "parameters", cJSON_Array, "spec.driver.kernelModuleConfig.parameters", what, &v, cause)) < 0)
		return r;
	if (r && (r = string_array(v, "spec.driver.kernelModuleConfig.parameters", what,
	                           &cfg->module_params, &cfg->n_module_params, cause)) < 0)
		return r;
	return 0;
}

static int parse_amdvirt(struct av_config *cfg, const cJSON *ext, const char *what, char **cause)
{
	const cJSON *v;
	int r;

	if ((r = dup_string(ext, "resourceNaming", "spec.amdvirt.resourceNaming", what, &cfg->resource_naming, cause)) < 0)
		return r;
	if (cfg->resource_naming && strcmp(cfg->resource_naming, "single") && strcmp(cfg->resource_naming, "mixed")) {
		av_set_cause(cause, "%s: spec.amdvirt.resourceNaming '%s' is not single or mixed", what, cfg->resource_naming);
		return -EINVAL;
	}
	char *vendor = NULL;
	if ((r = dup_string(ext, "vendorID", "spec.amdvirt.vendorID", what, &vendor, cause)) < 0)
		return r;
	if (vendor) {
		r = av_parse_hex16(vendor, &cfg->vendor_id);
		if (r < 0)
			av_set_cause(cause, "%s: spec.amdvirt.vendorID '%s' is not a 4-digit hex vendor ID", what, vendor);
		free(vendor);
		if (r < 0)
			return r;
	}
	if ((r = member(ext, "hives", cJSON_Array, "spec.amdvirt.hives", what, &v, cause)) <= 0)
		return r;
	int n = cJSON_GetArraySize(v);
	cfg->hives = calloc((size_t)n + 1, sizeof(char **));
	cfg->hive_sizes = calloc((size_t)n + 1, sizeof(int));
	if (!cfg->hives || !cfg->hive_sizes)
		return -ENOMEM;
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		char field[64];
		snprintf(field, sizeof(field), "spec.amdvirt.hives[%d]", cfg->n_hives);
		if (!cJSON_IsArray(it)) {
			av_set_cause(cause, "%s: %s must be an array of PCI addresses", what, field);
			return -EINVAL;
		}
		char **list;
		int count;
		if ((r = string_array(it, field, what, &list, &count, cause)) < 0)
			return r;
		cfg->hives[cfg->n_hives] = list;
		cfg->hive_sizes[cfg->n_hives++] = count;
		for (int i = 0; i < count; i++) {
			char bdf[13];
			if (av_bdf_normalise(list[i], bdf) < 0) {
				av_set_cause(cause, "%s: %s[%d] '%s' is not a PCI address (dddd:bb:dd.f)",
				             what, field, i, list[i]);
				return -EINVAL;
			}
			free(list[i]);
			if (!(list[i] = strdup(bdf)))
				return -ENOMEM;
		}
	}
	return 0;
}

/* cJSON turns \u0000 into a NUL inside a C string, which would read as
 * the string's prefix ("vf-passthrough\u0000xyz" as vf-passthrough); no
 * DeviceConfig field may hold one, so the text is refused first. */
int av_config_text_check(const char *text, size_t len, const char *what, char **cause)
{
	bool in_string = false;
	int line = 1;
	for (size_t i = 0; i < len; i++) {
		const char *bad = NULL;
		if (text[i] == '\0')
			bad = "a NUL byte";
		else if (text[i] == '\n')
			line++;
		else if (text[i] == '"')
			in_string = !in_string;
		else if (in_string && text[i] == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && i + 5 < len && strncmp(text + i + 2, "0000", 4) == 0)
				bad = "\\u0000 (NUL) in a string";
			i++;
		}
		if (bad) {
			av_set_cause(cause, "%s:%d: %s, which no DeviceConfig field may hold", what, line, bad);
			return -EINVAL;
		}
	}
	return 0;
}

int av_config_from_json(struct av_config *cfg, const cJSON *root, const char *what, char **cause)
{
	const cJSON *meta, *spec, *driver, *ext;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->driver_enable = true;
	if (!cJSON_IsObject(root)) {
		av_set_cause(cause, "%s: a DeviceConfig must be a JSON object", what);
		return -EINVAL;
	}
	cfg->present = true;
	if ((r = member(root, "metadata", cJSON_Object, "metadata", what, &meta, cause)) < 0
	    || (r = dup_string(meta, "name", "metadata.name", what, &cfg->name, cause)) < 0
	    || (r = dup_string(meta, "namespace", "metadata.namespace", what, &cfg->namespace_, cause)) < 0
	    || (r = member(root, "spec", cJSON_Object, "spec", what, &spec, cause)) < 0
	    || (r = member(spec, "driver", cJSON_Object, "spec.driver", what, &driver, cause)) < 0
	    || (r = parse_driver(cfg, driver, what, cause)) < 0
	    || (r = member(spec, "amdvirt", cJSON_Object, "spec.amdvirt", what, &ext, cause)) < 0
	    || (r = parse_amdvirt(cfg, ext, what, cause)) < 0) {
		if (r == -ENOMEM)
			av_set_cause(cause, "%s: out of memory", what);
		av_config_clear(cfg);
		return r;
	}
	return 0;
}

int av_config_load(struct av_config *cfg, const char *path, char **cause)
{
	/* A FIFO would block for good, a directory reads as EIO: refused by name. */
	char *buf;
	ssize_t n = av_file_read_all(path, CONFIG_MAX_SIZE, &buf);
	if (n < 0) {
		av_set_cause(cause, "%s: %s", path, n == -EFBIG ? "larger than 1 MiB" : av_strerror((int)n));
		return (int)n;
	}
	size_t len = (size_t)n;
	if (av_config_text_check(buf, len, path, cause) < 0) {
		free(buf);
		return -EINVAL;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(buf, &end, 1);
	if (!root) {
		size_t off = end ? (size_t)(end - buf) : 0;
		int line = 1;
		for (size_t i = 0; i < off && i < len; i++)
			line += buf[i] == '\n';
		av_set_cause(cause, "%s:%d: not valid JSON", path, line);
		free(buf);
		return -EINVAL;
	}
	free(buf);
	int r = av_config_from_json(cfg, root, path, cause);
	cJSON_Delete(root);
	return r;
}

bool av_config_lab_device(const struct av_config *cfg, uint16_t vendor, uint16_t device)
{
	if (!cfg || !cfg->vendor_id || cfg->vendor_id != vendor)
		return false;
	for (int i = 0; i < cfg->n_device_ids; i++)
		if (cfg->device_ids[i] == device)
			return true;
	return false;
}

static void free_list(char **list, int n)
{
	if (!list)
		return;
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void av_config_clear(struct av_config *cfg)
{
	free(cfg->name);
	free(cfg->namespace_);
	free(cfg->driver_type);
	free(cfg->version);
	free(cfg->device_ids);
	free_list(cfg->module_params, cfg->n_module_params);
	for (int i = 0; i < cfg->n_hives; i++)
		free_list(cfg->hives[i], cfg->hive_sizes[i]);
	/* A hive list that failed half-way is counted but may be partial. */
	free(cfg->hives);
	free(cfg->hive_sizes);
	free(cfg->resource_naming);
	memset(cfg, 0, sizeof(*cfg));
	cfg->driver_enable = true;
}
