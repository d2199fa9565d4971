/* What every check calls: recording a result, and the helpers they share.
 * Below the catalogue, which runs the checks. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"
#include "base/util.h"

static const char *const status_names[] = {
	[AV_CHECK_PASS] = "pass", [AV_CHECK_NOTE] = "note", [AV_CHECK_SKIP] = "skip",
	[AV_CHECK_WARN] = "warn", [AV_CHECK_FAIL] = "fail",
};

const char *av_check_status_name(enum av_check_status s)
{
	return s < AV_CHECK_NSTATUS ? status_names[s] : "?";
}

int av_check_report_addv(struct av_check_report *r, const char *id, enum av_check_status st,
                         const char *subject, const char *hint, const char *ev_path, const char *ev_value,
                         const char *fmt, va_list ap)
{
	struct av_check_result *grown = realloc(r->results, ((size_t)r->n_results + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	r->results = grown;
	struct av_check_result *res = &r->results[r->n_results];
	memset(res, 0, sizeof(*res));
	res->id = id;
	res->status = st;
	snprintf(res->subject, sizeof(res->subject), "%s", subject ? subject : "host");
	if (vasprintf(&res->message, fmt, ap) < 0)
		res->message = NULL;
	res->hint = hint && st != AV_CHECK_PASS ? strdup(hint) : NULL;
	res->evidence_path = ev_path ? strdup(ev_path) : NULL;
	res->evidence_value = ev_value ? strdup(ev_value) : NULL;
	if (!res->message || (hint && st != AV_CHECK_PASS && !res->hint) || (ev_path && !res->evidence_path)
	    || (ev_value && !res->evidence_value)) {
		free(res->message);
		free(res->hint);
		free(res->evidence_path);
		free(res->evidence_value);
		return -ENOMEM;
	}
	r->n_results++;
	r->counts[st]++;
	if (st > r->worst)
		r->worst = st;
	return 0;
}

void ck_add(struct av_ck *c, enum av_check_status st, const char *subject, const char *hint,
            const char *ev_path, const char *ev_value, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (av_check_report_addv(c->rep, c->id, st, subject, hint, ev_path, ev_value, fmt, ap) < 0)
		c->err = -ENOMEM;
	va_end(ap);
}

const char *ck_errstr(int err)
{
	return av_strerror(err);
}

char *ck_dev_path(char *buf, size_t size, const char *bdf, const char *attr)
{
	snprintf(buf, size, "/sys/bus/pci/devices/%s%s%s", bdf, attr && *attr ? "/" : "", attr ? attr : "");
	return buf;
}

void ck_no_subjects(struct av_ck *c, const char *what)
{
	ck_add(c, AV_CHECK_SKIP, "host", NULL, NULL, NULL, "no %s on this host", what);
}

void ck_each(struct av_ck *c, ck_pick_fn pick, const char *noun, ck_judge_fn judge)
{
	int *subjects = NULL, n = pick(c, &subjects);
	if (!n)
		ck_no_subjects(c, noun);
	for (int i = 0; i < n; i++)
		judge(c, subjects[i], &c->m->funcs[subjects[i]]);
	free(subjects);
}

void av_check_report_clear(struct av_check_report *r)
{
	for (int i = 0; i < r->n_results; i++) {
		free(r->results[i].message);
		free(r->results[i].hint);
		free(r->results[i].evidence_path);
		free(r->results[i].evidence_value);
	}
	free(r->results);
	memset(r, 0, sizeof(*r));
}
