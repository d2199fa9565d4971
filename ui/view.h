/* Selection and scrolling over a screen's rows, and search: pure, so the
 * edge cases (headings, empty screens, tiny terminals) are unit-tested. */
#ifndef UI_VIEW_H
#define UI_VIEW_H

#include "keys.h"
#include "rows.h"

struct ui_view {
	int sel;    /* selected row, -1 when no row is selectable */
	int top;    /* first visible row */
};

/* Makes the selection valid (the nearest selectable row) and visible in a
 * window of height rows. */
void ui_view_clamp(struct ui_view *v, const struct ui_rows *r, int height);
/* Applies a movement action (UP, DOWN, PGUP, PGDN, HOME, END). */
void ui_view_move(struct ui_view *v, const struct ui_rows *r, int height, enum ui_action a);
/* Selects row i (clamped) and scrolls it into view. */
void ui_view_select(struct ui_view *v, const struct ui_rows *r, int height, int i);

/* The next row after from (dir 1) or before it (dir -1) whose text
 * contains needle, ignoring case, wrapping around; from itself is tried
 * last.  from may be -1.  Returns the row or -1. */
int ui_search(const struct ui_rows *r, const char *needle, int from, int dir);

#endif
