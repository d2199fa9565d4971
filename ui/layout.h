/* Screen geometry as a pure function of the terminal size, so that every
 * size from 80x24 up can be tested without a terminal. */
#ifndef UI_LAYOUT_H
#define UI_LAYOUT_H

#include <stdbool.h>

/* Below this the console shows only a "terminal too small" line. */
#define UI_MIN_ROWS 12
#define UI_MIN_COLS 50

struct ui_rect {
	int y, x, h, w;
};

struct ui_layout {
	bool too_small;
	struct ui_rect header;   /* two lines: host and mode; counts and checks */
	struct ui_rect tabs;     /* the screen names */
	struct ui_rect list;     /* the selectable rows (first line: column heads) */
	struct ui_rect detail;   /* h == 0 or w == 0: no detail pane */
	bool detail_right;       /* beside the list (wide terminals) or below it */
	struct ui_rect keybar;   /* the bottom line */
};

/* list_rows: rows the screen has (with its column heads); detail_rows:
 * lines of the detail pane, 0 for none.  A short list leaves the space to
 * the detail pane, a long one keeps at least 3/5 of it. */
void ui_layout_compute(int rows, int cols, int list_rows, int detail_rows, struct ui_layout *out);

/* A centred dialog for content of want_h lines of want_w columns (border
 * and a button line included by the function), clamped to the terminal. */
void ui_layout_dialog(int rows, int cols, int want_h, int want_w, struct ui_rect *out);

/* The list rows visible in a list rect (its first line holds the heads). */
int ui_layout_list_rows(const struct ui_rect *list, bool has_head);

#endif
