/* Rendering a check report: human lines (checks.md "Output") and JSON. */
#ifndef AV_CHECK_REPORT_H
#define AV_CHECK_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "checks/checks.h"

struct cJSON;

/* One line per result ("LEVEL  id  subject: message") and an indented
 * hint line for what does not pass.  quiet drops passing results. */
void av_check_report_text(FILE *out, const struct av_check_report *r, const char *mode, bool quiet, bool colour);
/* {"mode", "checks": [...], "summary": {...}}; NULL on allocation failure. */
struct cJSON *av_check_report_json(const struct av_check_report *r, const char *mode);

#endif
