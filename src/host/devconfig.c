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
		av_set_cause(cause, "%s: %s must be %s%s", what, field, want,
		             type == cJSON_String && cJSON_IsNumber(v) ? " (in YAML, quote it: \"7410\")" : "");
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
			av_set_cause(cause, "%s: %s[%d] must be a string%s", what, field, i,
			             cJSON_IsNumber(it) ? " (in YAML, quote it: \"7410\")" : "");
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
	/* AMD's CRD default, which a cluster stores with the object: the file
	 * means what the same YAML means once applied. */
	if (!cfg->driver_type) {
		if (!(cfg->driver_type = strdup("container")))
			return -ENOMEM;
	}
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

static int add_vendor(struct av_config *cfg, uint16_t id)
{
	for (int i = 0; i < cfg->n_vendor_ids; i++)
		if (cfg->vendor_ids[i] == id)
			return 0;
	uint16_t *v = realloc(cfg->vendor_ids, ((size_t)cfg->n_vendor_ids + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cfg->vendor_ids = v;
	cfg->vendor_ids[cfg->n_vendor_ids++] = id;
	return 0;
}

/* A list of lists of PCI addresses (spec.amdvirt.hives, or the parsed
 * annotation); field names it in messages. */
static int parse_hives(struct av_config *cfg, const cJSON *v, const char *field, const char *what, char **cause)
{
	int r;
	if (!cJSON_IsArray(v)) {
		av_set_cause(cause, "%s: %s must be a list of lists of PCI addresses", what, field);
		return -EINVAL;
	}
	int n = cJSON_GetArraySize(v);
	cfg->hives = calloc((size_t)n + 1, sizeof(char **));
	cfg->hive_sizes = calloc((size_t)n + 1, sizeof(int));
	if (!cfg->hives || !cfg->hive_sizes)
		return -ENOMEM;
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		char sub[96];
		snprintf(sub, sizeof(sub), "%s[%d]", field, cfg->n_hives);
		if (!cJSON_IsArray(it)) {
			av_set_cause(cause, "%s: %s must be a list of PCI addresses", what, sub);
			return -EINVAL;
		}
		char **list;
		int count;
		if ((r = string_array(it, sub, what, &list, &count, cause)) < 0)
			return r;
		cfg->hives[cfg->n_hives] = list;
		cfg->hive_sizes[cfg->n_hives++] = count;
		for (int i = 0; i < count; i++) {
			char bdf[13];
			if (av_bdf_normalise(list[i], bdf) < 0) {
				av_set_cause(cause, "%s: %s[%d] '%s' is not a PCI address (dddd:bb:dd.f)",
				             what, sub, i, list[i]);
				return -EINVAL;
			}
			free(list[i]);
			if (!(list[i] = strdup(bdf)))
				return -ENOMEM;
		}
	}
	return 0;
}

static int check_naming(const char *value, const char *field, const char *what, char **cause)
{
	if (strcmp(value, "single") && strcmp(value, "mixed")) {
		av_set_cause(cause, "%s: %s '%s' is not single or mixed", what, field, value);
		return -EINVAL;
	}
	return 0;
}

/* spec.devicePlugin.devicePluginArguments: AMD's map of flag name to value
 * for its device plugin; resource_naming_strategy is the one amdvirt
 * shares with it. */
static int parse_device_plugin(struct av_config *cfg, const cJSON *dp, const char *what, char **cause)
{
	const cJSON *args, *v;
	int r;
	if ((r = member(dp, "devicePluginArguments", cJSON_Object, "spec.devicePlugin.devicePluginArguments",
	                what, &args, cause)) <= 0)
		return r;
	cJSON_ArrayForEach(v, args) {
		if (!cJSON_IsString(v)) {
			av_set_cause(cause, "%s: spec.devicePlugin.devicePluginArguments.%s must be a string", what,
			             v->string);
			return -EINVAL;
		}
	}
	if ((r = dup_string(args, "resource_naming_strategy",
	                    "spec.devicePlugin.devicePluginArguments.resource_naming_strategy", what,
	                    &cfg->resource_naming, cause)) <= 0)
		return r;
	return check_naming(cfg->resource_naming, "spec.devicePlugin.devicePluginArguments.resource_naming_strategy",
	                    what, cause);
}

/* device-plugin | dra, from the annotation or spec.amdvirt (field names
 * it); a second source must agree with the first. */
static int set_allocation(struct av_config *cfg, const char *value, const char *field, const char *what,
                          char **cause)
{
	if (strcmp(value, "device-plugin") != 0 && strcmp(value, "dra") != 0) {
		av_set_cause(cause, "%s: %s '%s': use device-plugin or dra", what, field, value);
		return -EINVAL;
	}
	if (cfg->allocation) {
		if (strcmp(cfg->allocation, value) == 0)
			return 0;
		av_set_cause(cause, "%s: %s '%s' contradicts the annotation " AV_ANNOTATION_ALLOCATION
		             " '%s'; give one", what, field, value, cfg->allocation);
		return -EINVAL;
	}
	cfg->allocation = strdup(value);
	return cfg->allocation ? 0 : -ENOMEM;
}

/* spec.amdvirt: amdvirt's own keys, which only a file can carry (AMD's
 * schema has no such field, so an API server prunes it). */
static int parse_amdvirt(struct av_config *cfg, const cJSON *ext, const char *what, char **cause)
{
	const cJSON *v;
	char *naming = NULL;
	int r;

	if ((r = dup_string(ext, "resourceNaming", "spec.amdvirt.resourceNaming", what, &naming, cause)) < 0)
		return r;
	if (naming) {
		r = check_naming(naming, "spec.amdvirt.resourceNaming", what, cause);
		if (r == 0 && cfg->resource_naming && strcmp(cfg->resource_naming, naming)) {
			av_set_cause(cause, "%s: spec.amdvirt.resourceNaming '%s' contradicts spec.devicePlugin."
			             "devicePluginArguments.resource_naming_strategy '%s'; give one", what, naming,
			             cfg->resource_naming);
			r = -EINVAL;
		}
		if (r == 0 && !cfg->resource_naming) {
			cfg->resource_naming = naming;
			naming = NULL;
		}
		free(naming);
		if (r < 0)
			return r;
	}
	char *vendor = NULL;
	if ((r = dup_string(ext, "vendorID", "spec.amdvirt.vendorID", what, &vendor, cause)) < 0)
		return r;
	if (vendor) {
		uint16_t id;
		r = av_parse_hex16(vendor, &id);
		if (r < 0)
			av_set_cause(cause, "%s: spec.amdvirt.vendorID '%s' is not a 4-digit hex vendor ID", what, vendor);
		else
			r = add_vendor(cfg, id);
		free(vendor);
		if (r < 0)
			return r;
	}
	char *allocation = NULL;
	if ((r = dup_string(ext, "allocation", "spec.amdvirt.allocation", what, &allocation, cause)) < 0)
		return r;
	if (allocation) {
		r = set_allocation(cfg, allocation, "spec.amdvirt.allocation", what, cause);
		free(allocation);
		if (r < 0)
			return r;
	}
	if ((r = member(ext, "hives", cJSON_Array, "spec.amdvirt.hives", what, &v, cause)) <= 0)
		return r;
	if (cfg->n_hives || cfg->hives) {
		av_set_cause(cause, "%s: hives given both in the annotation " AV_ANNOTATION_HIVES
		             " and in spec.amdvirt.hives; give one", what);
		return -EINVAL;
	}
	return parse_hives(cfg, v, "spec.amdvirt.hives", what, cause);
}

/* metadata.annotations: the settings AMD's schema has no field for, in a
 * form a cluster keeps (contract section 6). */
static int parse_annotations(struct av_config *cfg, const cJSON *ann, const char *what, char **cause)
{
	const cJSON *v;
	char obj[600];
	int r;

	snprintf(obj, sizeof(obj), "DeviceConfig %s/%s", cfg->namespace_ ? cfg->namespace_ : "default",
	         cfg->name ? cfg->name : "(no name)");
	if ((r = member(ann, AV_ANNOTATION_HIVES, cJSON_String, "metadata.annotations." AV_ANNOTATION_HIVES,
	                what, &v, cause)) < 0)
		return r;
	if (r) {
		cJSON *list = cJSON_Parse(v->valuestring);
		char field[700];
		snprintf(field, sizeof(field), "annotation " AV_ANNOTATION_HIVES " of %s", obj);
		if (!list) {
			av_set_cause(cause, "%s: %s: not JSON (a list of lists of PCI addresses, "
			             "e.g. [[\"0000:05:00.0\",\"0000:26:00.0\"]])", what, field);
			return -EINVAL;
		}
		r = parse_hives(cfg, list, field, what, cause);
		cJSON_Delete(list);
		if (r < 0)
			return r;
	}
	if ((r = member(ann, AV_ANNOTATION_ALLOCATION, cJSON_String, "metadata.annotations." AV_ANNOTATION_ALLOCATION,
	                what, &v, cause)) < 0)
		return r;
	if (r) {
		char field[700];
		snprintf(field, sizeof(field), "annotation " AV_ANNOTATION_ALLOCATION " of %s", obj);
		if ((r = set_allocation(cfg, v->valuestring, field, what, cause)) < 0)
			return r;
	}
	if ((r = member(ann, AV_ANNOTATION_VENDOR_IDS, cJSON_String, "metadata.annotations." AV_ANNOTATION_VENDOR_IDS,
	                what, &v, cause)) <= 0)
		return r;
	const char *p = v->valuestring;
	int k = 0;
	for (;;) {
		char id[16];
		p += strspn(p, " \t");
		size_t n = strcspn(p, ", \t");
		uint16_t value;
		if (n == 0 || n >= sizeof(id)) {
			av_set_cause(cause, "%s: annotation " AV_ANNOTATION_VENDOR_IDS " of %s: item %d is empty or too long "
			             "(comma-separated 4-digit hex vendor IDs, e.g. 1b36,1af4)", what, obj, k);
			return -EINVAL;
		}
		memcpy(id, p, n);
		id[n] = '\0';
		if (av_parse_hex16(id, &value) < 0) {
			av_set_cause(cause, "%s: annotation " AV_ANNOTATION_VENDOR_IDS " of %s: '%s' is not a 4-digit "
			             "hex vendor ID", what, obj, id);
			return -EINVAL;
		}
		if ((r = add_vendor(cfg, value)) < 0)
			return r;
		k++;
		p += n;
		p += strspn(p, " \t");
		if (!*p)
			break;
		if (*p != ',') {
			av_set_cause(cause, "%s: annotation " AV_ANNOTATION_VENDOR_IDS " of %s: expected ',' before '%s'",
			             what, obj, p);
			return -EINVAL;
		}
		p++;
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
	const cJSON *meta, *ann, *spec, *driver, *dp, *ext, *kind;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->driver_enable = true;
	if (!cJSON_IsObject(root)) {
		av_set_cause(cause, "%s: a DeviceConfig must be an object (a mapping)", what);
		return -EINVAL;
	}
	/* A kubeconfig or a KubeVirt CR given by mistake would otherwise read
	 * as a DeviceConfig with nothing in it. */
	kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	if (cJSON_IsString(kind) && strcmp(kind->valuestring, "DeviceConfig") != 0) {
		av_set_cause(cause, "%s: kind %s is not a DeviceConfig", what, kind->valuestring);
		return -EINVAL;
	}
	cfg->present = true;
	if ((r = member(root, "metadata", cJSON_Object, "metadata", what, &meta, cause)) < 0
	    || (r = dup_string(meta, "name", "metadata.name", what, &cfg->name, cause)) < 0
	    || (r = dup_string(meta, "namespace", "metadata.namespace", what, &cfg->namespace_, cause)) < 0
	    || (r = member(meta, "annotations", cJSON_Object, "metadata.annotations", what, &ann, cause)) < 0
	    || (r = parse_annotations(cfg, ann, what, cause)) < 0
	    || (r = member(root, "spec", cJSON_Object, "spec", what, &spec, cause)) < 0
	    || (r = member(spec, "driver", cJSON_Object, "spec.driver", what, &driver, cause)) < 0
	    || (driver && (r = parse_driver(cfg, driver, what, cause)) < 0)
	    || (r = member(spec, "devicePlugin", cJSON_Object, "spec.devicePlugin", what, &dp, cause)) < 0
	    || (r = parse_device_plugin(cfg, dp, what, cause)) < 0
	    || (r = member(spec, "amdvirt", cJSON_Object, "spec.amdvirt", what, &ext, cause)) < 0
	    || (r = parse_amdvirt(cfg, ext, what, cause)) < 0) {
		if (r == -ENOMEM)
			av_set_cause(cause, "%s: out of memory", what);
		av_config_clear(cfg);
		return r;
	}
	return 0;
}

int av_config_replace(struct av_config *cfg, const cJSON *root, const char *what, char **cause)
{
	struct av_config next;
	int r = av_config_from_json(&next, root, what, cause);
	if (r < 0)
		return r;
	av_config_clear(cfg);
	*cfg = next;
	return 0;
}

/* `kubectl get deviceconfig -o yaml` without a name gives a List; one item
 * is what was meant, more is a choice amdvirt does not make. */
static cJSON *unwrap_list(cJSON *root, const char *what, char **cause)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
	size_t n;
	if (!cJSON_IsString(kind) || !cJSON_IsArray(items) || (n = strlen(kind->valuestring)) < 4
	    || strcmp(kind->valuestring + n - 4, "List") != 0)
		return root;
	int count = cJSON_GetArraySize(items);
	if (count != 1) {
		av_set_cause(cause, "%s: a %s of %d items; amdvirt reads one DeviceConfig (kubectl get deviceconfig "
		             "NAME -n NAMESPACE -o yaml)", what, kind->valuestring, count);
		cJSON_Delete(root);
		return NULL;
	}
	cJSON *item = cJSON_DetachItemFromArray(items, 0);
	cJSON_Delete(root);
	return item;
}

cJSON *av_config_parse_text(const char *text, size_t len, const char *what, char **cause)
{
	size_t i = 0;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	cJSON *root;
	if (i < len && (text[i] == '{' || text[i] == '[')) {
		/* JSON as the API server sends it, read by the same parser as
		 * a GET's answer. */
		if (av_config_text_check(text, len, what, cause) < 0)
			return NULL;
		const char *end = NULL;
		root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
		if (root) {
			/* Nothing but white space may follow the document. */
			while (end < text + len && strchr(" \t\r\n", *end))
				end++;
			if (end < text + len) {
				cJSON_Delete(root);
				root = NULL;
			}
		}
		if (!root) {
			size_t off = end ? (size_t)(end - text) : 0;
			int line = 1;
			for (size_t k = 0; k < off && k < len; k++)
				line += text[k] == '\n';
			av_set_cause(cause, "%s:%d: not valid JSON", what, line);
			return NULL;
		}
	} else {
		root = av_config_yaml_parse(text, len, what, cause);
		if (!root)
			return NULL;
	}
	return unwrap_list(root, what, cause);
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
	cJSON *root = av_config_parse_text(buf, (size_t)n, path, cause);
	free(buf);
	if (!root)
		return -EINVAL;
	int r = av_config_from_json(cfg, root, path, cause);
	cJSON_Delete(root);
	return r;
}

bool av_config_lab_device(const struct av_config *cfg, uint16_t vendor, uint16_t device)
{
	bool extra = false;
	for (int i = 0; cfg && i < cfg->n_vendor_ids; i++)
		extra |= cfg->vendor_ids[i] == vendor;
	if (!extra)
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

bool av_config_wants_dra(const struct av_config *cfg)
{
	return cfg && cfg->present && cfg->allocation && strcmp(cfg->allocation, "dra") == 0;
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
	free(cfg->vendor_ids);
	free(cfg->allocation);
	memset(cfg, 0, sizeof(*cfg));
	cfg->driver_enable = true;
}
