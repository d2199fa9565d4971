/* The Checks screen: what is wrong first, each with its evidence and how
 * to fix it, so the operator never has to guess where a verdict came from. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "build.h"

/* Fits the detail pane below the list at 80 columns. */
#define WRAP 76

const char *ui_check_status_name(enum av_check_status s)
{
	static const char *const names[] = { "PASS", "NOTE", "SKIP", "WARN", "FAIL" };
	return (unsigned)s < AV_CHECK_NSTATUS ? names[s] : "?";
}

enum ui_tone ui_check_tone(enum av_check_status s)
{
	switch (s) {
	case AV_CHECK_PASS: return UI_TONE_GOOD;
	case AV_CHECK_WARN: return UI_TONE_WARN;
	case AV_CHECK_FAIL: return UI_TONE_BAD;
	case AV_CHECK_SKIP: return UI_TONE_DIM;
	default: return UI_TONE_NORMAL;
	}
}

void ui_build_checks(const struct av_check_report *report, const char *why, struct ui_rows *out)
{
	if (!report) {
		ui_rows_add(out, UI_TONE_DIM, "%s", why ? why : "The checks have not run yet.");
		return;
	}
	ui_rows_set_head(out, "%-6s %-22s %-12s %s", "LEVEL", "CHECK", "SUBJECT", "RESULT");
	/* Worst first; within a level, catalogue order. */
	for (int s = AV_CHECK_NSTATUS - 1; s >= 0; s--)
		for (int i = 0; i < report->n_results; i++) {
			const struct av_check_result *c = &report->results[i];
			if ((int)c->status != s)
				continue;
			struct ui_row *row = ui_rows_add(out, ui_check_tone(c->status), "%-6s %-22s %-12s %s",
			                                 ui_check_status_name(c->status), c->id ? c->id : "?",
			                                 c->subject, c->message ? c->message : "");
			if (row)
				row->item = i;
		}
	if (report->n_results == 0)
		ui_rows_add(out, UI_TONE_DIM, "No check applies to this host's mode.");
}

void ui_build_check_detail(const struct av_check_report *report, int item, struct ui_rows *out)
{
	if (!report || item < 0 || item >= report->n_results)
		return;
	const struct av_check_result *c = &report->results[item];
	ui_rows_heading(out, "%s  %s  (%s)", ui_check_status_name(c->status), c->id ? c->id : "?", c->subject);
	ui_rows_add_wrapped(out, ui_check_tone(c->status), c->message, WRAP);
	if (c->hint) {
		ui_rows_heading(out, "How to fix");
		ui_rows_add_wrapped(out, UI_TONE_NORMAL, c->hint, WRAP);
	}
	if (c->evidence_path || c->evidence_value) {
		ui_rows_heading(out, "Evidence");
		if (c->evidence_path)
			ui_rows_add(out, UI_TONE_NORMAL, "read  %s", c->evidence_path);
		if (c->evidence_value)
			ui_rows_add(out, UI_TONE_NORMAL, "said  %s", c->evidence_value);
	}
}
