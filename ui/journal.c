#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"

static void trim(struct ui_rows *log)
{
	int drop = log->n - UI_JOURNAL_MAX;
	if (drop <= 0)
		return;
	for (int i = 0; i < drop; i++)
		free(log->v[i].text);
	memmove(log->v, log->v + drop, (size_t)(log->n - drop) * sizeof(*log->v));
	log->n -= drop;
}

void ui_journal_add(struct ui_rows *log, time_t t, enum ui_tone tone, const char *text)
{
	struct tm tm;
	char stamp[16] = "--:--:--";
	if (localtime_r(&t, &tm))
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	bool first = true;
	do {
		const char *nl = strchr(text, '\n');
		int len = nl ? (int)(nl - text) : (int)strlen(text);
		if (len > 0 || first)
			ui_rows_add(log, tone, "%s %.*s", first ? stamp : "        ", len, text);
		first = false;
		text = nl ? nl + 1 : NULL;
	} while (text && *text);
	trim(log);
}

void ui_journal_addf(struct ui_rows *log, time_t t, enum ui_tone tone, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0) {
		log->oom = true;
		return;
	}
	ui_journal_add(log, t, tone, text);
	free(text);
}
