/* The session log (Log screen): timestamped lines, newest last, bounded so
 * a console left open for days does not grow without limit. */
#ifndef UI_JOURNAL_H
#define UI_JOURNAL_H

#include <time.h>

#include "rows.h"

#define UI_JOURNAL_MAX 5000

/* Appends text (may hold several lines) stamped with t (local time).
 * Continuation lines are indented under the first. */
void ui_journal_add(struct ui_rows *log, time_t t, enum ui_tone tone, const char *text);
void ui_journal_addf(struct ui_rows *log, time_t t, enum ui_tone tone, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
