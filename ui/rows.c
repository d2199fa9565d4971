#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "base/textsafe.h"

void ui_rows_init(struct ui_rows *r)
{
	memset(r, 0, sizeof(*r));
}

void ui_rows_clear(struct ui_rows *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->v[i].text);
	free(r->v);
	free(r->head);
	ui_rows_init(r);
}

static __attribute__((format(printf, 3, 0))) struct ui_row *add_v(struct ui_rows *r, enum ui_tone tone,
                                                                   const char *fmt, va_list ap)
{
	if (r->n == r->cap) {
		int cap = r->cap ? r->cap * 2 : 32;
		struct ui_row *v = realloc(r->v, (size_t)cap * sizeof(*v));
		if (!v) {
			r->oom = true;
			return NULL;
		}
		r->v = v;
		r->cap = cap;
	}
	char *raw = NULL;
	int len = vasprintf(&raw, fmt, ap);
	if (len < 0) {
		r->oom = true;
		return NULL;
	}
	/* Rows show sysfs names and file contents: escaped, they cannot
	 * move the cursor or change colours behind curses' back. */
	size_t size = (size_t)len * 4 + 1;   /* \xNN is the longest escape per byte */
	char *text = malloc(size);
	if (text)
		av_text_escape_n(text, size, raw, (size_t)len);
	free(raw);
	if (!text) {
		r->oom = true;
		return NULL;
	}
	struct ui_row *row = &r->v[r->n++];
	*row = (struct ui_row){ .text = text, .tone = tone, .func = -1, .group = -1, .hive = -1, .item = -1 };
	return row;
}

struct ui_row *ui_rows_add(struct ui_rows *r, enum ui_tone tone, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ui_row *row = add_v(r, tone, fmt, ap);
	va_end(ap);
	return row;
}

struct ui_row *ui_rows_heading(struct ui_rows *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ui_row *row = add_v(r, UI_TONE_TITLE, fmt, ap);
	va_end(ap);
	if (row)
		row->heading = true;
	return row;
}

void ui_rows_set_head(struct ui_rows *r, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0) {
		text = NULL;
		r->oom = true;
	}
	va_end(ap);
	free(r->head);
	r->head = text;
}

void ui_rows_blank(struct ui_rows *r)
{
	struct ui_row *row = ui_rows_add(r, UI_TONE_NORMAL, "%s", "");
	if (row)
		row->heading = true;
}

void ui_rows_add_text(struct ui_rows *r, enum ui_tone tone, int depth, const char *text)
{
	while (text && *text) {
		const char *nl = strchr(text, '\n');
		int len = nl ? (int)(nl - text) : (int)strlen(text);
		struct ui_row *row = ui_rows_add(r, tone, "%.*s", len, text);
		if (row)
			row->depth = depth;
		text = nl ? nl + 1 : NULL;
	}
}

void ui_rows_add_wrapped(struct ui_rows *r, enum ui_tone tone, const char *text, int width)
{
	while (text && *text) {
		const char *nl = strchr(text, '\n');
		int len = nl ? (int)(nl - text) : (int)strlen(text);
		int cut = len;
		if (len > width && width > 0) {
			cut = width;
			while (cut > width / 2 && text[cut] != ' ')
				cut--;
			if (text[cut] != ' ')
				cut = width;
		}
		ui_rows_add(r, tone, "%.*s", cut, text);
		text += cut;
		while (*text == ' ')
			text++;
		if (cut == len && nl)
			text = nl + 1;
	}
}

int ui_rows_find_func(const struct ui_rows *r, int func)
{
	for (int i = 0; i < r->n; i++)
		if (r->v[i].func == func && !r->v[i].heading)
			return i;
	return -1;
}

int ui_rows_find_group(const struct ui_rows *r, int group)
{
	for (int i = 0; i < r->n; i++)
		if (r->v[i].group == group)
			return i;
	return -1;
}

int ui_rows_find_item(const struct ui_rows *r, int item)
{
	for (int i = 0; i < r->n; i++)
		if (r->v[i].item == item)
			return i;
	return -1;
}
