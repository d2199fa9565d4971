/* Host prerequisite checks (`amdvirt check`; catalogue in doc/checks.md).
 * Each check is judged per subject: "host" or one GPU function's BDF. */
#ifndef AV_CHECKS_H
#define AV_CHECKS_H

#include <stdarg.h>
#include <stdbool.h>

#include "host/host.h"
#include "host/model.h"
#include "host/pcidb.h"

enum av_check_status {
	AV_CHECK_PASS = 0,
	AV_CHECK_NOTE,
	AV_CHECK_SKIP,
	AV_CHECK_WARN,
	AV_CHECK_FAIL,
	AV_CHECK_NSTATUS,
};

struct av_check_result {
	const char *id;              /* stable id, e.g. "iommu.kernel" */
	enum av_check_status status;
	char subject[16];            /* "host" or a BDF */
	char *message;
	char *hint;                  /* how to fix; NULL when passing */
	char *evidence_path;         /* host path read, NULL when none */
	char *evidence_value;        /* what it said */
};

struct av_check_report {
	struct av_check_result *results;
	int n_results;
	int counts[AV_CHECK_NSTATUS];
	enum av_check_status worst;
};

struct av_check_opts {
	bool all;                    /* every check, whatever the mode */
	bool guest;                  /* only guest.device */
};

/* Runs the checks the model's mode selects.  Returns 0 or -ENOMEM. */
int av_checks_run(struct av_host *host, struct av_pcidb *pcidb, const struct av_model *m,
                  const struct av_check_opts *opts, struct av_check_report *out);
void av_check_report_clear(struct av_check_report *r);
/* Appends one result (subject NULL: "host"; the hint is kept only on a
 * result that is not a pass), for checks run outside the catalogue.
 * Returns 0 or -ENOMEM, the report then unchanged. */
int av_check_report_addv(struct av_check_report *r, const char *id, enum av_check_status st,
                         const char *subject, const char *hint, const char *ev_path, const char *ev_value,
                         const char *fmt, va_list ap) __attribute__((format(printf, 8, 0)));
const char *av_check_status_name(enum av_check_status s); /* "pass", "fail", ... */
/* The catalogue's ids in order, for documentation and the console:
 * index 0.. until NULL. */
const char *av_check_ids(int i);

#endif
