/* Rows: what one console screen shows, as plain text lines with a tone
 * and a reference back into the model.  Building rows is a pure function
 * of the model (and of the check report, labels, session log), so every
 * screen can be unit-tested without a terminal; drawing is elsewhere. */
#ifndef UI_ROWS_H
#define UI_ROWS_H

#include <stdbool.h>

#include "host/model.h"
#include "host/resources.h"

/* Semantic colours; the terminal layer maps them to attributes. */
enum ui_tone {
	UI_TONE_NORMAL = 0,
	UI_TONE_DIM,
	UI_TONE_TITLE,    /* section headings, column heads */
	UI_TONE_GOOD,     /* what the mode wants: ready for passthrough */
	UI_TONE_WARN,     /* needs attention, not broken */
	UI_TONE_BAD,      /* blocks passthrough */
	UI_TONE_NTONES,
};

struct ui_row {
	char *text;
	enum ui_tone tone;
	int depth;        /* tree depth: 0 or 1 (drawn with a branch glyph) */
	bool last;        /* last child of its parent (the glyph closes) */
	bool heading;     /* not selectable */
	int func;         /* model function index, -1 */
	int group;        /* IOMMU group id, -1 */
	int hive;         /* model hive index, -1 */
	int item;         /* screen-specific index (check result, log line), -1 */
};

struct ui_rows {
	struct ui_row *v;
	int n, cap;
	char *head;       /* column heads kept above the scrolling rows, or NULL */
	bool oom;         /* a row was dropped for lack of memory */
};

void ui_rows_init(struct ui_rows *r);
void ui_rows_clear(struct ui_rows *r);
/* Appends a row (printf format); returns it, or NULL when memory ran out
 * (r->oom is then set and the screen shows what it has). */
struct ui_row *ui_rows_add(struct ui_rows *r, enum ui_tone tone, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct ui_row *ui_rows_heading(struct ui_rows *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Sets the sticky column heads (printf format). */
void ui_rows_set_head(struct ui_rows *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An empty, unselectable spacer. */
void ui_rows_blank(struct ui_rows *r);
/* Splits text at newlines into rows of one tone (for plans and snippets). */
void ui_rows_add_text(struct ui_rows *r, enum ui_tone tone, int depth, const char *text);

/* Like ui_rows_add_text, wrapping lines longer than width at blanks. */
void ui_rows_add_wrapped(struct ui_rows *r, enum ui_tone tone, const char *text, int width);

/* The first row referring to a function / group / hive / item, or -1. */
int ui_rows_find_func(const struct ui_rows *r, int func);
int ui_rows_find_group(const struct ui_rows *r, int group);
int ui_rows_find_item(const struct ui_rows *r, int item);

#endif
