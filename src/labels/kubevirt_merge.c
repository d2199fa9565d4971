/* The KubeVirt CR read, changed and written back by `kubevirt-config
 * --apply`: pure, so that every way a CR can look is tested without a
 * server. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "labels/kubevirt.h"
#include "base/util.h"

#define GATE "HostDevices"

static int add_line(char ***lines, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int add_line(char ***lines, int *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = av_vstrdup_printf(fmt, ap);
	va_end(ap);
	char **l = line ? realloc(*lines, ((size_t)*n + 1) * sizeof(char *)) : NULL;
	if (!l) {
		free(line);
		return -ENOMEM;
	}
	*lines = l;
	l[(*n)++] = line;
	return 0;
}

static void free_lines(char **lines, int n)
{
	for (int i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

void av_kubevirt_merge_clear(struct av_kubevirt_merge *mg)
{
	cJSON_Delete(mg->gates_before);
	cJSON_Delete(mg->gates_after);
	cJSON_Delete(mg->pci_before);
	cJSON_Delete(mg->pci_after);
	free_lines(mg->changes, mg->n_changes);
	free_lines(mg->notes, mg->n_notes);
	memset(mg, 0, sizeof(*mg));
}

/* obj.key when obj is an object; *out NULL when absent or null.  -EINVAL
 * when obj is there but not an object. */
static int member(const cJSON *obj, const char *key, const cJSON **out)
{
	*out = NULL;
	if (!obj || cJSON_IsNull(obj))
		return 0;
	if (!cJSON_IsObject(obj))
		return -EINVAL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = cJSON_IsNull(v) ? NULL : v;
	return 0;
}

/* The list at spec.configuration.<parent>.<key>, duplicated (an empty
 * array when absent).  -EINVAL with *cause naming the first field on the
 * way that is not an object, or the list when it is not an array. */
static int get_list(const cJSON *cr, const char *parent, const char *key, cJSON **out, char **cause)
{
	const char *path[] = { "spec", "configuration", parent, key };
	char where[160] = "";
	const cJSON *cur = cr;
	*out = NULL;
	for (size_t i = 0; i < sizeof(path) / sizeof(path[0]); i++) {
		const cJSON *next;
		if (member(cur, path[i], &next) < 0) {
			av_set_cause(cause, "the KubeVirt CR's %s is not an object", where[0] ? where : "top");
			return -EINVAL;
		}
		snprintf(where + strlen(where), sizeof(where) - strlen(where), "%s%s", where[0] ? "." : "", path[i]);
		cur = next;
		if (!cur)
			break;
	}
	if (cur && !cJSON_IsArray(cur)) {
		av_set_cause(cause, "the KubeVirt CR's %s is not a list", where);
		return -EINVAL;
	}
	*out = cur ? cJSON_Duplicate(cur, 1) : cJSON_CreateArray();
	return *out ? 0 : -ENOMEM;
}

static const char *str_field(const cJSON *e, const char *key)
{
	const cJSON *v = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, key) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* KubeVirt reads the selector as "VENDOR:DEVICE" in hex, either case,
 * surrounding blanks ignored. */
static bool same_selector(const char *a, const char *b)
{
	while (*a == ' ' || *a == '\t')
		a++;
	size_t n = strlen(a);
	while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
		n--;
	return n == strlen(b) && strncasecmp(a, b, n) == 0;
}

static int merge_gates(struct av_kubevirt_merge *mg)
{
	const cJSON *g;
	cJSON_ArrayForEach(g, mg->gates_after)
		if (cJSON_IsString(g) && strcmp(g->valuestring, GATE) == 0)
			return 0;
	cJSON *s = cJSON_CreateString(GATE);
	if (!s || !cJSON_AddItemToArray(mg->gates_after, s)) {
		cJSON_Delete(s);
		return -ENOMEM;
	}
	mg->gates_changed = true;
	return add_line(&mg->changes, &mg->n_changes, "feature gate %s added", GATE);
}

/* The entry for sel that becomes ours: the one already naming resource,
 * else the first for sel; NULL when there is none. */
static cJSON *find_entry(cJSON *list, const char *sel, const char *resource)
{
	cJSON *e, *first = NULL;
	cJSON_ArrayForEach(e, list) {
		const char *s = str_field(e, "pciVendorSelector");
		if (!s || !same_selector(s, sel))
			continue;
		const char *r = str_field(e, "resourceName");
		if (r && strcmp(r, resource) == 0)
			return e;
		if (!first)
			first = e;
	}
	return first;
}

static int set_string(cJSON *e, const char *key, const char *value)
{
	cJSON *v = cJSON_CreateString(value);
	if (!v)
		return -ENOMEM;
	if (cJSON_GetObjectItemCaseSensitive(e, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(e, key, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
	return cJSON_AddItemToObject(e, key, v) ? 0 : (cJSON_Delete(v), -ENOMEM);
}

static int bring_entry(struct av_kubevirt_merge *mg, cJSON *e, const char *sel, const char *resource)
{
	int r = 0;
	const char *old = str_field(e, "resourceName");
	if (!old || strcmp(old, resource) != 0) {
		r = add_line(&mg->changes, &mg->n_changes, "pciHostDevices %s: resourceName %s -> %s",
		             sel, old ? old : "(none)", resource);
		if (!r)
			r = set_string(e, "resourceName", resource);
		mg->pci_changed = true;
	}
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(e, "externalResourceProvider");
	if (!r && !cJSON_IsTrue(ext)) {
		r = add_line(&mg->changes, &mg->n_changes, "pciHostDevices %s: externalResourceProvider %s -> true",
		             sel, cJSON_IsFalse(ext) ? "false" : "(none)");
		cJSON *t = cJSON_CreateTrue();
		if (!r && (!t || !(ext ? cJSON_ReplaceItemInObjectCaseSensitive(e, "externalResourceProvider", t)
		                      : cJSON_AddItemToObject(e, "externalResourceProvider", t)))) {
			cJSON_Delete(t);
			r = -ENOMEM;
		}
		mg->pci_changed = true;
	}
	return r;
}

static int merge_entries(struct av_kubevirt_merge *mg, char sel[][10], int n_sel, const char *resource)
{
	int r = 0;
	for (int i = 0; !r && i < n_sel; i++) {
		cJSON *e = find_entry(mg->pci_after, sel[i], resource);
		if (e) {
			r = bring_entry(mg, e, sel[i], resource);
		} else {
			cJSON *n = av_kubevirt_entry(sel[i], resource);
			if (!n || !cJSON_AddItemToArray(mg->pci_after, n)) {
				cJSON_Delete(n);
				return -ENOMEM;
			}
			mg->pci_changed = true;
			r = add_line(&mg->changes, &mg->n_changes, "pciHostDevices %s added as %s", sel[i], resource);
		}
		/* Entries left for the same ID: said, not touched. */
		const cJSON *o;
		cJSON_ArrayForEach(o, mg->pci_after) {
			const char *s = str_field(o, "pciVendorSelector"), *rn = str_field(o, "resourceName");
			if (!r && e && o != e && s && same_selector(s, sel[i]))
				r = add_line(&mg->notes, &mg->n_notes, "pciHostDevices also permits %s as %s; left as it is",
				             sel[i], rn ? rn : "(no resourceName)");
		}
	}
	return r;
}

int av_kubevirt_merge(const cJSON *cr, char sel[][10], int n_sel, const char *resource,
                      struct av_kubevirt_merge *out, char **cause)
{
	int r;
	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(cr)) {
		av_set_cause(cause, "the answer is not a KubeVirt object");
		return -EINVAL;
	}
	if ((r = get_list(cr, "developerConfiguration", "featureGates", &out->gates_before, cause)) < 0
	    || (r = get_list(cr, "permittedHostDevices", "pciHostDevices", &out->pci_before, cause)) < 0)
		goto fail;
	r = -ENOMEM;
	if (!(out->gates_after = cJSON_Duplicate(out->gates_before, 1))
	    || !(out->pci_after = cJSON_Duplicate(out->pci_before, 1)))
		goto fail;
	if ((r = merge_gates(out)) < 0 || (r = merge_entries(out, sel, n_sel, resource)) < 0)
		goto fail;
	return 0;
fail:
	if (r == -ENOMEM)
		av_set_cause(cause, "out of memory");
	av_kubevirt_merge_clear(out);
	return r;
}

cJSON *av_kubevirt_merge_patch(const struct av_kubevirt_merge *mg, const char *rv)
{
	if (!mg->gates_changed && !mg->pci_changed)
		return NULL;
	cJSON *root = cJSON_CreateObject();
	cJSON *meta = rv ? cJSON_AddObjectToObject(root, "metadata") : NULL;
	cJSON *conf = cJSON_AddObjectToObject(cJSON_AddObjectToObject(root, "spec"), "configuration");
	bool ok = conf && (!rv || (meta && cJSON_AddStringToObject(meta, "resourceVersion", rv)));
	if (ok && mg->gates_changed) {
		cJSON *dev = cJSON_AddObjectToObject(conf, "developerConfiguration");
		cJSON *l = cJSON_Duplicate(mg->gates_after, 1);
		ok = dev && l && cJSON_AddItemToObject(dev, "featureGates", l);
		if (!ok)
			cJSON_Delete(l);
	}
	if (ok && mg->pci_changed) {
		cJSON *phd = cJSON_AddObjectToObject(conf, "permittedHostDevices");
		cJSON *l = cJSON_Duplicate(mg->pci_after, 1);
		ok = phd && l && cJSON_AddItemToObject(phd, "pciHostDevices", l);
		if (!ok)
			cJSON_Delete(l);
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}
