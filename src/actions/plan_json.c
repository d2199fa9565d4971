/* Plans as JSON (doc/json.md, "Action plans"): the same steps as the text
 * form, one object each, so that a provisioning script can read what a
 * dry run would write without parsing the human lines. */
#include "config.h"

#include <cjson/cJSON.h>

#include "actions/internal.h"

static const char *step_op(const struct av_step *s)
{
	switch (s->kind) {
	case AV_STEP_WRITE: return "write";
	case AV_STEP_MODULE_LOAD: return "load";
	case AV_STEP_MODULE_UNLOAD: return "unload";
	case AV_STEP_VERIFY: return s->pre ? "check" : "verify";
	case AV_STEP_RECORD: return "record";
	case AV_STEP_FORGET: return "forget";
	case AV_STEP_FILE: return s->value ? "file" : "remove";
	}
	return "?";
}

static const char *check_name(enum av_check c)
{
	switch (c) {
	case AV_CHECK_DRIVER: return "driver";
	case AV_CHECK_TEXT: return "text";
	case AV_CHECK_EXISTS: return "exists";
	case AV_CHECK_ABSENT: return "absent";
	case AV_CHECK_NOT_OPEN: return "not-open";
	case AV_CHECK_POSITIVE: return "positive";
	}
	return "?";
}

/* "" means "none" for drivers and overrides: JSON says null. */
static cJSON *text_or_null(const char *s)
{
	return s && *s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *step_json(const struct av_plan *p, const struct av_step *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "op", step_op(s));
	switch (s->kind) {
	case AV_STEP_MODULE_LOAD:
		cJSON_AddStringToObject(o, "module", s->path ? s->path : "");
		cJSON_AddStringToObject(o, "params", s->value ? s->value : "");
		break;
	case AV_STEP_MODULE_UNLOAD:
		cJSON_AddStringToObject(o, "module", s->path ? s->path : "");
		break;
	case AV_STEP_VERIFY:
		cJSON_AddStringToObject(o, "test", check_name(s->check));
		cJSON_AddStringToObject(o, "path", s->path ? s->path : "");
		if (s->check == AV_CHECK_DRIVER)
			cJSON_AddItemToObject(o, "expect", text_or_null(s->value));
		else if (s->check == AV_CHECK_TEXT)
			cJSON_AddStringToObject(o, "expect", s->value ? s->value : "");
		break;
	case AV_STEP_FILE:
		cJSON_AddStringToObject(o, "path", s->path ? s->path : "");
		if (s->value)
			cJSON_AddStringToObject(o, "value", s->value);
		break;
	default: /* write, record, forget: a file and what goes into it */
		cJSON_AddStringToObject(o, "path", s->path ? s->path : "");
		cJSON_AddStringToObject(o, "value", s->value ? s->value : "");
		break;
	}
	if (s->unit >= 0 && s->unit < p->n_units)
		cJSON_AddStringToObject(o, "unit", p->units[s->unit].what);
	else
		cJSON_AddNullToObject(o, "unit");
	cJSON_AddItemToObject(o, "why", text_or_null(s->why));
	return o;
}

static cJSON *strings(char *const *v, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

void av_plan_add_json(cJSON *o, const struct av_plan *p)
{
	cJSON_AddStringToObject(o, "title", p->title ? p->title : "plan");
	cJSON_AddItemToObject(o, "refusals", strings(p->refusals, p->n_refusals));
	cJSON_AddItemToObject(o, "notes", strings(p->notes, p->n_notes));
	cJSON *steps = cJSON_AddArrayToObject(o, "steps");
	/* A refused plan runs nothing; the text form prints no steps either. */
	if (!p->n_refusals && p->n_steps) {
		cJSON *lock = cJSON_CreateObject();
		cJSON_AddStringToObject(lock, "op", "lock");
		cJSON_AddStringToObject(lock, "path", AV_LOCK_FILE);
		cJSON_AddNullToObject(lock, "unit");
		cJSON_AddNullToObject(lock, "why");
		cJSON_AddItemToArray(steps, lock);
		for (int i = 0; i < p->n_steps; i++)
			cJSON_AddItemToArray(steps, step_json(p, &p->steps[i]));
	}
	cJSON *restore = cJSON_AddArrayToObject(o, "rollback");
	for (int u = 0; u < p->n_units && !p->n_refusals; u++)
		for (int k = 0; k < p->units[u].n_saved; k++) {
			const struct av_saved_func *s = &p->units[u].saved[k];
			cJSON *f = cJSON_CreateObject();
			cJSON_AddStringToObject(f, "bdf", s->bdf);
			cJSON_AddItemToObject(f, "driver", text_or_null(s->driver));
			cJSON_AddItemToObject(f, "driver_override", text_or_null(s->driver_override));
			if (s->autoprobe >= 0)
				cJSON_AddNumberToObject(f, "sriov_drivers_autoprobe", s->autoprobe);
			else
				cJSON_AddNullToObject(f, "sriov_drivers_autoprobe");
			cJSON_AddItemToArray(restore, f);
		}
}
