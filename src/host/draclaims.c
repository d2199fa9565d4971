#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/util.h"
#include "host/draclaims.h"

#define STATE_MAX (4 << 20)

int av_dra_strv_push(char ***v, int *n, const char *s)
{
	char **p = realloc(*v, ((size_t)*n + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*v = p;
	if (!(p[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void strv_free(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int av_dra_claim_dev_add(struct av_dra_claim *claim, const char *request, const char *pool,
                         const char *device, const char *bdf)
{
	struct av_dra_dev *d = realloc(claim->devs, ((size_t)claim->n_devs + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	claim->devs = d;
	d = &d[claim->n_devs];
	memset(d, 0, sizeof(*d));
	d->request = strdup(request);
	d->pool = strdup(pool);
	d->device = strdup(device);
	d->bdf = strdup(bdf ? bdf : "");
	claim->n_devs++;
	return d->request && d->pool && d->device && d->bdf ? 0 : -ENOMEM;
}

void av_dra_claim_clear(struct av_dra_claim *c)
{
	for (int i = 0; i < c->n_devs; i++) {
		free(c->devs[i].request);
		free(c->devs[i].pool);
		free(c->devs[i].device);
		free(c->devs[i].bdf);
		strv_free(c->devs[i].cdi, c->devs[i].n_cdi);
	}
	free(c->devs);
	strv_free(c->files, c->n_files);
	strv_free(c->dirs, c->n_dirs);
	free(c->uid);
	free(c->namespace_);
	free(c->name);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

int av_dra_claim_fail(struct av_dra_claim *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(c->error);
	c->error = av_vstrdup_printf(fmt, ap);
	va_end(ap);
	return c->error ? 0 : -ENOMEM;
}

int av_dra_claims_find(const struct av_dra_claims *c, const char *uid)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->v[i].uid, uid) == 0)
			return i;
	return -1;
}

int av_dra_claims_put(struct av_dra_claims *c, struct av_dra_claim *claim)
{
	int i = av_dra_claims_find(c, claim->uid);
	if (i >= 0) {
		av_dra_claim_clear(&c->v[i]);
	} else {
		struct av_dra_claim *v = realloc(c->v, ((size_t)c->n + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->v = v;
		i = c->n++;
	}
	c->v[i] = *claim;
	memset(claim, 0, sizeof(*claim));
	return 0;
}

void av_dra_claims_remove(struct av_dra_claims *c, int i)
{
	av_dra_claim_clear(&c->v[i]);
	c->v[i] = c->v[--c->n];
}

static void slice_clear(struct av_dra_slice_info *s)
{
	free(s->name);
	free(s->pool);
	strv_free(s->devices, s->n_devices);
	memset(s, 0, sizeof(*s));
}

int av_dra_claims_set_slice(struct av_dra_claims *c, const char *name, const char *pool,
                            long long generation, char *const *devices, int n_devices)
{
	struct av_dra_slice_info s = { .generation = generation };
	int r = 0;
	if (!(s.name = strdup(name)) || !(s.pool = strdup(pool)))
		r = -ENOMEM;
	for (int i = 0; r == 0 && i < n_devices; i++)
		r = av_dra_strv_push(&s.devices, &s.n_devices, devices[i]);
	if (r < 0) {
		slice_clear(&s);
		return r;
	}
	slice_clear(&c->slice);
	c->slice = s;
	return 0;
}

void av_dra_claims_clear(struct av_dra_claims *c)
{
	for (int i = 0; i < c->n; i++)
		av_dra_claim_clear(&c->v[i]);
	free(c->v);
	slice_clear(&c->slice);
	memset(c, 0, sizeof(*c));
}

static cJSON *strv_json(char **v, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; a && i < n; i++) {
		cJSON *s = cJSON_CreateString(v[i]);
		if (!s) {
			cJSON_Delete(a);
			return NULL;
		}
		cJSON_AddItemToArray(a, s);
	}
	return a;
}

static bool add(cJSON *o, const char *key, cJSON *v)
{
	if (!v)
		return false;
	if (!cJSON_AddItemToObject(o, key, v)) {
		cJSON_Delete(v);
		return false;
	}
	return true;
}

static cJSON *claim_json(const struct av_dra_claim *c)
{
	cJSON *o = cJSON_CreateObject(), *devs = cJSON_CreateArray();
	bool ok = o && devs && add(o, "uid", cJSON_CreateString(c->uid)) &&
	          add(o, "namespace", cJSON_CreateString(c->namespace_)) &&
	          add(o, "name", cJSON_CreateString(c->name));
	for (int i = 0; ok && i < c->n_devs; i++) {
		cJSON *d = cJSON_CreateObject();
		ok = d && add(d, "request", cJSON_CreateString(c->devs[i].request)) &&
		     add(d, "pool", cJSON_CreateString(c->devs[i].pool)) &&
		     add(d, "device", cJSON_CreateString(c->devs[i].device)) &&
		     add(d, "bdf", cJSON_CreateString(c->devs[i].bdf)) &&
		     add(d, "cdiDeviceIDs", strv_json(c->devs[i].cdi, c->devs[i].n_cdi));
		if (d)
			cJSON_AddItemToArray(devs, d);
	}
	ok = ok && add(o, "devices", devs);
	if (!ok && !cJSON_GetObjectItemCaseSensitive(o, "devices"))
		cJSON_Delete(devs);
	ok = ok && add(o, "files", strv_json(c->files, c->n_files)) &&
	     add(o, "dirs", strv_json(c->dirs, c->n_dirs));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *av_dra_claims_json(const struct av_dra_claims *c)
{
	cJSON *doc = cJSON_CreateObject(), *arr = cJSON_CreateArray();
	bool ok = doc && arr;
	if (ok)
		cJSON_AddItemToObject(doc, "claims", arr);
	else
		cJSON_Delete(arr);
	if (ok && c->slice.name) {
		cJSON *sl = cJSON_CreateObject();
		ok = sl && add(sl, "name", cJSON_CreateString(c->slice.name)) &&
		     add(sl, "pool", cJSON_CreateString(c->slice.pool)) &&
		     add(sl, "generation", cJSON_CreateNumber((double)c->slice.generation)) &&
		     add(sl, "devices", strv_json(c->slice.devices, c->slice.n_devices));
		if (sl && !add(doc, "slice", sl))
			ok = false;
	}
	for (int i = 0; ok && i < c->n; i++) {
		cJSON *o = claim_json(&c->v[i]);
		ok = o != NULL;
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	if (!ok) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

int av_dra_claims_save(struct av_host *host, const struct av_dra_claims *c)
{
	cJSON *doc = av_dra_claims_json(c);
	char *text = doc ? cJSON_Print(doc) : NULL;
	cJSON_Delete(doc);
	if (!text)
		return -ENOMEM;
	int r = av_write_atomic(host, AV_DRA_STATE, text, strlen(text));
	free(text);
	return r;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int strv_from(const cJSON *a, char ***v, int *n)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, a) {
		if (cJSON_IsString(it) && av_dra_strv_push(v, n, it->valuestring) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int claim_from(const cJSON *o, struct av_dra_claim *c)
{
	const char *uid = str_of(o, "uid"), *ns = str_of(o, "namespace"), *name = str_of(o, "name");
	const cJSON *it;
	memset(c, 0, sizeof(*c));
	if (!uid || !ns || !name)
		return -EINVAL;
	c->uid = strdup(uid);
	c->namespace_ = strdup(ns);
	c->name = strdup(name);
	if (!c->uid || !c->namespace_ || !c->name)
		return -ENOMEM;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "devices")) {
		const char *req = str_of(it, "request"), *pool = str_of(it, "pool"), *dev = str_of(it, "device");
		if (!req || !pool || !dev)
			return -EINVAL;
		if (av_dra_claim_dev_add(c, req, pool, dev, str_of(it, "bdf")) < 0)
			return -ENOMEM;
		struct av_dra_dev *d = &c->devs[c->n_devs - 1];
		if (strv_from(cJSON_GetObjectItemCaseSensitive(it, "cdiDeviceIDs"), &d->cdi, &d->n_cdi) < 0)
			return -ENOMEM;
	}
	if (strv_from(cJSON_GetObjectItemCaseSensitive(o, "files"), &c->files, &c->n_files) < 0 ||
	    strv_from(cJSON_GetObjectItemCaseSensitive(o, "dirs"), &c->dirs, &c->n_dirs) < 0)
		return -ENOMEM;
	return 0;
}

int av_dra_claims_load(struct av_host *host, struct av_dra_claims *out, char **cause)
{
	char *text = NULL;
	char path[4096];
	memset(out, 0, sizeof(*out));
	ssize_t n = av_read_all(host, AV_DRA_STATE, STATE_MAX, &text);
	if (n == -ENOENT)
		return 0;
	av_host_path(host, AV_DRA_STATE, path, sizeof(path));
	if (n < 0) {
		av_set_cause(cause, "%s: %s", path, av_strerror((int)-n));
		return (int)n;
	}
	cJSON *doc = cJSON_Parse(text);
	free(text);
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "claims"), *it;
	const cJSON *sl = cJSON_GetObjectItemCaseSensitive(doc, "slice");
	int r = cJSON_IsArray(arr) ? 0 : -EINVAL;
	out->present = true;
	if (r == 0 && cJSON_IsObject(sl) && str_of(sl, "name") && str_of(sl, "pool")) {
		char **devs = NULL;
		int n_devs = 0;
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(sl, "generation");
		r = strv_from(cJSON_GetObjectItemCaseSensitive(sl, "devices"), &devs, &n_devs);
		if (r == 0)
			r = av_dra_claims_set_slice(out, str_of(sl, "name"), str_of(sl, "pool"),
			                            cJSON_IsNumber(g) ? (long long)g->valuedouble : 0, devs, n_devs);
		strv_free(devs, n_devs);
	}
	cJSON_ArrayForEach(it, arr) {
		struct av_dra_claim c;
		if ((r = claim_from(it, &c)) == 0)
			r = av_dra_claims_put(out, &c);
		av_dra_claim_clear(&c);
		if (r < 0)
			break;
	}
	cJSON_Delete(doc);
	if (r < 0) {
		av_dra_claims_clear(out);
		av_set_cause(cause, "%s: %s", path, r == -ENOMEM ? "out of memory" : "not a record of prepared claims");
	}
	return r;
}

int av_dra_claim_copy_devs(struct av_dra_claim *dst, const struct av_dra_claim *src)
{
	for (int i = 0; i < src->n_devs; i++) {
		const struct av_dra_dev *s = &src->devs[i];
		if (av_dra_claim_dev_add(dst, s->request, s->pool, s->device, s->bdf) < 0)
			return -ENOMEM;
		struct av_dra_dev *d = &dst->devs[dst->n_devs - 1];
		for (int k = 0; k < s->n_cdi; k++)
			if (av_dra_strv_push(&d->cdi, &d->n_cdi, s->cdi[k]) < 0)
				return -ENOMEM;
	}
	return 0;
}
