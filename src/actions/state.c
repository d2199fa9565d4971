#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions/internal.h"
#include "actions/state.h"
#include "base/util.h"

#define STATE_MAX (4 * 1024 * 1024)

static struct av_state_entry *find(const struct av_state *st, const char *bdf)
{
	for (int i = 0; i < st->n; i++)
		if (strcmp(st->e[i].f.bdf, bdf) == 0)
			return &st->e[i];
	return NULL;
}

const struct av_state_entry *av_state_find(const struct av_state *st, const char *bdf)
{
	return find(st, bdf);
}

static struct av_state_entry *get(struct av_state *st, const char *bdf)
{
	struct av_state_entry *e = find(st, bdf);
	if (e)
		return e;
	struct av_state_entry *grown = realloc(st->e, ((size_t)st->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	st->e = grown;
	e = &grown[st->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->f.bdf, sizeof(e->f.bdf), "%s", bdf);
	e->f.iommu_group = -1;
	e->f.autoprobe = -1;
	return e;
}

int av_state_put(struct av_state *st, const struct av_saved_func *f)
{
	struct av_state_entry *e = get(st, f->bdf);
	if (!e)
		return -ENOMEM;
	if (f->binding && !e->f.binding) {
		memcpy(e->f.driver, f->driver, sizeof(e->f.driver));
		memcpy(e->f.driver_override, f->driver_override, sizeof(e->f.driver_override));
		e->f.iommu_group = f->iommu_group;
		e->f.binding = true;
	}
	if (f->autoprobe >= 0 && e->f.autoprobe < 0)
		e->f.autoprobe = f->autoprobe;
	return 0;
}

void av_state_drop(struct av_state *st, const struct av_saved_func *f)
{
	struct av_state_entry *e = find(st, f->bdf);
	if (!e)
		return;
	if (f->binding)
		e->f.binding = false;
	if (f->autoprobe >= 0)
		e->f.autoprobe = -1;
	if (!e->f.binding && e->f.autoprobe < 0) {
		*e = st->e[st->n - 1];
		st->n--;
	}
}

void av_state_clear(struct av_state *st)
{
	free(st->e);
	st->e = NULL;
	st->n = 0;
}

static int text_field(const cJSON *o, const char *name, char *buf, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
		return -EINVAL;
	memcpy(buf, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int parse_entries(struct av_state *st, const cJSON *root)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "functions")) {
		struct av_saved_func f = { .autoprobe = -1, .binding = true };
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(it, "iommu_group");
		if (text_field(it, "bdf", f.bdf, sizeof(f.bdf)) < 0 || !av_bdf_valid(f.bdf)
		    || text_field(it, "driver", f.driver, sizeof(f.driver)) < 0
		    || text_field(it, "driver_override", f.driver_override, sizeof(f.driver_override)) < 0
		    || !cJSON_IsNumber(g))
			return -EINVAL;
		f.iommu_group = g->valueint;
		if (av_state_put(st, &f) < 0)
			return -ENOMEM;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "sriov_drivers_autoprobe")) {
		struct av_saved_func f = { .iommu_group = -1 };
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
		if (text_field(it, "bdf", f.bdf, sizeof(f.bdf)) < 0 || !av_bdf_valid(f.bdf) || !cJSON_IsNumber(v)
		    || v->valueint < 0 || v->valueint > 1)
			return -EINVAL;
		f.autoprobe = v->valueint;
		if (av_state_put(st, &f) < 0)
			return -ENOMEM;
	}
	return 0;
}

int av_state_load(struct av_host *host, struct av_state *st, char **cause)
{
	char *text = NULL, path[4096];
	memset(st, 0, sizeof(*st));
	ssize_t n = av_read_all(host, AV_STATE_FILE, STATE_MAX, &text);
	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		av_set_cause(cause, "%s: %s", av_host_path(host, AV_STATE_FILE, path, sizeof(path)), strerror((int)-n));
		return (int)n;
	}
	cJSON *root = cJSON_Parse(text);
	free(text);
	int r = root && cJSON_IsObject(root) ? parse_entries(st, root) : -EINVAL;
	cJSON_Delete(root);
	if (r < 0) {
		av_state_clear(st);
		av_set_cause(cause, "%s: %s; move it aside only once every function it lists is restored by hand",
		             av_host_path(host, AV_STATE_FILE, path, sizeof(path)),
		             r == -ENOMEM ? "out of memory" : "not a valid amdvirt state file");
	}
	return r;
}

static cJSON *to_json(const struct av_state *st)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *funcs = cJSON_AddArrayToObject(root, "functions");
	cJSON *probe = cJSON_AddArrayToObject(root, "sriov_drivers_autoprobe");
	if (!cJSON_AddNumberToObject(root, "version", 1) || !funcs || !probe)
		goto fail;
	for (int i = 0; i < st->n; i++) {
		const struct av_saved_func *f = &st->e[i].f;
		if (f->binding) {
			cJSON *o = cJSON_CreateObject();
			if (!o || !cJSON_AddItemToArray(funcs, o) || !cJSON_AddStringToObject(o, "bdf", f->bdf)
			    || !cJSON_AddStringToObject(o, "driver", f->driver)
			    || !cJSON_AddStringToObject(o, "driver_override", f->driver_override)
			    || !cJSON_AddNumberToObject(o, "iommu_group", f->iommu_group))
				goto fail;
		}
		if (f->autoprobe >= 0) {
			cJSON *o = cJSON_CreateObject();
			if (!o || !cJSON_AddItemToArray(probe, o) || !cJSON_AddStringToObject(o, "bdf", f->bdf)
			    || !cJSON_AddNumberToObject(o, "value", f->autoprobe))
				goto fail;
		}
	}
	return root;
fail:
	cJSON_Delete(root);
	return NULL;
}

static bool has_records(const struct av_state *st)
{
	for (int i = 0; i < st->n; i++)
		if (st->e[i].f.binding || st->e[i].f.autoprobe >= 0)
			return true;
	return false;
}

int av_state_save(struct av_host *host, const struct av_state *st)
{
	/* No records is no file: a rolled-back first bind, or the last unbind,
	 * leaves the host as it was before amdvirt touched it. */
	if (!has_records(st))
		return av_unlink(host, AV_STATE_FILE);
	cJSON *root = to_json(st);
	char *text = root ? cJSON_Print(root) : NULL;
	cJSON_Delete(root);
	if (!text)
		return -ENOMEM;
	char *withnl = av_strdup_printf("%s\n", text);
	free(text);
	if (!withnl)
		return -ENOMEM;
	int r = av_write_atomic(host, AV_STATE_FILE, withnl, strlen(withnl));
	free(withnl);
	return r;
}
