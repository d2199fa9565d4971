#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "host/hives.h"
#include "base/util.h"

#define RECORD_MAX_SIZE (1 << 20)

/* Per PF: the key that names its hive and where it came from. */
struct hive_key {
	const char *key;            /* xgmi id, or "config:N" */
	char config_key[24];
	enum av_hive_source source;
};

static cJSON *load_record(struct av_host *host, struct av_model *m)
{
	char *text;
	char path[4096];
	ssize_t n = av_read_all(host, AV_HIVES_RECORD, RECORD_MAX_SIZE, &text);
	if (n < 0) {
		if (n != -ENOENT)
			av_model_diag(m, "%s: %s", av_host_path(host, AV_HIVES_RECORD, path, sizeof(path)),
			              av_strerror((int)n));
		return NULL;
	}
	cJSON *rec = cJSON_Parse(text);
	free(text);
	if (!rec || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(rec, "hives"))) {
		av_model_diag(m, "%s: not a hive record ({\"hives\": [...]}); ignored",
		              av_host_path(host, AV_HIVES_RECORD, path, sizeof(path)));
		cJSON_Delete(rec);
		return NULL;
	}
	return rec;
}

/* The recorded hive id of a BDF, or NULL. */
static const char *record_lookup(const cJSON *rec, const char *bdf)
{
	const cJSON *h, *g;
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(rec, "hives")) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(h, "xgmi_hive_id");
		if (!cJSON_IsString(id))
			continue;
		cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(h, "gpus"))
			if (cJSON_IsString(g) && strcmp(g->valuestring, bdf) == 0)
				return id->valuestring;
	}
	return NULL;
}

static int config_hive_of(const struct av_config *cfg, const char *bdf)
{
	for (int h = 0; cfg && h < cfg->n_hives; h++)
		for (int k = 0; k < cfg->hive_sizes[h]; k++)
			if (strcmp(cfg->hives[h][k], bdf) == 0)
				return h;
	return -1;
}

/* Rewrites the record when sysfs knows something it does not.  Entries for
 * GPUs that no longer show an id (now on gim or vfio-pci) are kept: that is
 * what the record is for. */
static void record_add(cJSON *hives, const char *id, const char *bdf)
{
	cJSON *slot = NULL, *h;
	cJSON_ArrayForEach(h, hives)
		if (strcmp(cJSON_GetObjectItemCaseSensitive(h, "xgmi_hive_id")->valuestring, id) == 0)
			slot = h;
	if (!slot) {
		slot = cJSON_CreateObject();
		cJSON_AddStringToObject(slot, "xgmi_hive_id", id);
		cJSON_AddArrayToObject(slot, "gpus");
		cJSON_AddItemToArray(hives, slot);
	}
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(slot, "gpus"), cJSON_CreateString(bdf));
}

static void update_record(struct av_host *host, struct av_model *m, const cJSON *old)
{
	bool changed = false;
	for (int i = 0; i < m->n_gpus; i++) {
		const struct av_func *f = &m->funcs[m->gpus[i]];
		if (!f->xgmi_hive_id)
			continue;
		const char *was = old ? record_lookup(old, f->bdf) : NULL;
		if (!was || strcmp(was, f->xgmi_hive_id) != 0)
			changed = true;
	}
	if (!changed)
		return;
	cJSON *rec = cJSON_CreateObject();
	cJSON *hives = cJSON_AddArrayToObject(rec, "hives");
	for (int i = 0; i < m->n_gpus; i++) {
		const struct av_func *f = &m->funcs[m->gpus[i]];
		if (f->xgmi_hive_id)
			record_add(hives, f->xgmi_hive_id, f->bdf);
	}
	const cJSON *oh, *g;
	const cJSON *old_hives = old ? cJSON_GetObjectItemCaseSensitive(old, "hives") : NULL;
	cJSON_ArrayForEach(oh, old_hives) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(oh, "xgmi_hive_id");
		if (!cJSON_IsString(id))
			continue;
		cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(oh, "gpus")) {
			if (!cJSON_IsString(g))
				continue;
			int fi = av_model_find(m, g->valuestring);
			if (fi < 0 || !m->funcs[fi].xgmi_hive_id) /* else sysfs speaks for it */
				record_add(hives, id->valuestring, g->valuestring);
		}
	}
	char *text = cJSON_Print(rec);
	cJSON_Delete(rec);
	if (!text)
		return;
	size_t len = strlen(text);
	char *line = realloc(text, len + 2);
	if (line) {
		text = line;
		text[len++] = '\n';
		text[len] = '\0';
	}
	int r = av_write_atomic(host, AV_HIVES_RECORD, text, len);
	if (r < 0 && r != -EROFS && r != -EACCES && r != -EPERM) {
		char path[4096];
		av_model_diag(m, "%s: cannot record hive membership: %s",
		              av_host_path(host, AV_HIVES_RECORD, path, sizeof(path)), av_strerror(r));
	}
	free(text);
}

void av_hives_resolve(struct av_host *host, struct av_model *m, bool record)
{
	if (m->n_gpus <= 0)
		return;
	size_t n_gpus = (size_t)m->n_gpus;
	struct hive_key *keys = calloc(n_gpus, sizeof(*keys));
	const char **hive_keys = calloc(n_gpus, sizeof(*hive_keys));
	if (!keys || !hive_keys) {
		free(keys);
		free(hive_keys);
		return;
	}
	cJSON *rec = load_record(host, m);

	for (int i = 0; i < m->n_gpus; i++) {
		const struct av_func *f = &m->funcs[m->gpus[i]];
		int ch;
		const char *rid;
		if (f->xgmi_hive_id) {
			keys[i].key = f->xgmi_hive_id;
			keys[i].source = AV_HIVE_SYSFS;
		} else if ((ch = config_hive_of(m->config, f->bdf)) >= 0) {
			snprintf(keys[i].config_key, sizeof(keys[i].config_key), "config:%d", ch);
			keys[i].key = keys[i].config_key;
			keys[i].source = AV_HIVE_CONFIG;
		} else if (rec && (rid = record_lookup(rec, f->bdf))) {
			keys[i].key = rid;
			keys[i].source = AV_HIVE_RECORD;
		}
	}
	if (record)
		update_record(host, m, rec);

	/* GPUs are in BDF order, so hives come out numbered by first BDF. */
	for (int i = 0; i < m->n_gpus; i++) {
		if (!keys[i].key)
			continue;
		int h = 0;
		while (h < m->n_hives && strcmp(hive_keys[h], keys[i].key) != 0)
			h++;
		if (h == m->n_hives) {
			struct av_hive *nh = realloc(m->hives, ((size_t)m->n_hives + 1) * sizeof(*nh));
			if (!nh)
				break;
			m->hives = nh;
			struct av_hive *hv = &m->hives[m->n_hives++];
			memset(hv, 0, sizeof(*hv));
			snprintf(hv->id, sizeof(hv->id), "h%d", h);
			hv->source = keys[i].source;
			if (keys[i].source != AV_HIVE_CONFIG)
				hv->xgmi_id = strdup(keys[i].key);
			hive_keys[h] = keys[i].key;
		}
		av_int_push(&m->hives[h].members, &m->hives[h].n_members, m->gpus[i]);
		m->funcs[m->gpus[i]].hive = h;
	}
	free(hive_keys);
	for (int i = 0; i < m->n_funcs; i++) {
		struct av_func *f = &m->funcs[i];
		if (f->role == AV_ROLE_VF && f->physfn >= 0)
			f->hive = m->funcs[f->physfn].hive;
	}
	cJSON_Delete(rec);
	free(keys);
}
