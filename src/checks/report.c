#include "config.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "checks/report.h"
#include "base/textsafe.h"

static const char *const labels[] = {
	[AV_CHECK_PASS] = "PASS", [AV_CHECK_NOTE] = "NOTE", [AV_CHECK_SKIP] = "SKIP",
	[AV_CHECK_WARN] = "WARN", [AV_CHECK_FAIL] = "FAIL",
};

static const char *const colours[] = {
	[AV_CHECK_PASS] = "\033[32m", [AV_CHECK_NOTE] = "\033[34m", [AV_CHECK_SKIP] = "\033[2m",
	[AV_CHECK_WARN] = "\033[33m", [AV_CHECK_FAIL] = "\033[1;31m",
};

void av_check_report_text(FILE *out, const struct av_check_report *r, const char *mode, bool quiet, bool colour)
{
	int idw = 0;
	for (int i = 0; i < r->n_results; i++) {
		int l = (int)strlen(r->results[i].id);
		if (l > idw)
			idw = l;
	}
	for (int i = 0; i < r->n_results; i++) {
		const struct av_check_result *x = &r->results[i];
		if (quiet && x->status == AV_CHECK_PASS)
			continue;
		fprintf(out, "%s%s%s  %-*s  %s: %s\n", colour ? colours[x->status] : "", labels[x->status],
		        colour ? "\033[0m" : "", idw, x->id, AV_SAFE(x->subject), AV_SAFE(x->message));
		if (x->hint && x->status != AV_CHECK_PASS)
			fprintf(out, "      %*s  hint: %s\n", idw, "", AV_SAFE(x->hint));
	}
	if (!quiet)
		fprintf(out, "\n%s: %d pass, %d fail, %d warn, %d note, %d skip\n", mode, r->counts[AV_CHECK_PASS],
		        r->counts[AV_CHECK_FAIL], r->counts[AV_CHECK_WARN], r->counts[AV_CHECK_NOTE],
		        r->counts[AV_CHECK_SKIP]);
}

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

cJSON *av_check_report_json(const struct av_check_report *r, const char *mode)
{
	cJSON *doc = cJSON_CreateObject();
	if (!doc || !cJSON_AddStringToObject(doc, "mode", mode))
		goto oom;
	cJSON *checks = cJSON_AddArrayToObject(doc, "checks");
	if (!checks)
		goto oom;
	for (int i = 0; i < r->n_results; i++) {
		const struct av_check_result *x = &r->results[i];
		cJSON *o = cJSON_CreateObject(), *ev = cJSON_CreateObject();
		if (!o || !ev) {
			cJSON_Delete(o);
			cJSON_Delete(ev);
			goto oom;
		}
		cJSON_AddItemToArray(checks, o);
		cJSON_AddStringToObject(o, "id", x->id);
		cJSON_AddStringToObject(o, "status", av_check_status_name(x->status));
		cJSON_AddStringToObject(o, "subject", x->subject);
		cJSON_AddItemToObject(o, "message", str_or_null(x->message));
		cJSON_AddItemToObject(o, "hint", str_or_null(x->hint));
		cJSON_AddItemToObject(ev, "path", str_or_null(x->evidence_path));
		cJSON_AddItemToObject(ev, "value", str_or_null(x->evidence_value));
		cJSON_AddItemToObject(o, "evidence", ev);
	}
	cJSON *sum = cJSON_AddObjectToObject(doc, "summary");
	if (!sum)
		goto oom;
	static const enum av_check_status order[] = { AV_CHECK_PASS, AV_CHECK_FAIL, AV_CHECK_WARN, AV_CHECK_NOTE,
		                                          AV_CHECK_SKIP };
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		cJSON_AddNumberToObject(sum, av_check_status_name(order[i]), r->counts[order[i]]);
	return doc;
oom:
	cJSON_Delete(doc);
	return NULL;
}
