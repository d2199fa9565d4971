#include "config.h"

#include "layout.h"

/* What a device row needs before its name is clipped (see build_devices.c). */
#define LIST_WANT_COLS 82
#define DETAIL_MIN_COLS 48
#define DETAIL_MAX_COLS 90
/* Below this many body lines the detail pane would starve the list. */
#define BELOW_MIN_BODY 16
/* Column heads and three rows. */
#define LIST_MIN_ROWS 4

static struct ui_rect rect(int y, int x, int h, int w)
{
	return (struct ui_rect){ y, x, h < 0 ? 0 : h, w < 0 ? 0 : w };
}

void ui_layout_compute(int rows, int cols, int list_rows, int detail_rows, struct ui_layout *out)
{
	*out = (struct ui_layout){ 0 };
	if (rows < UI_MIN_ROWS || cols < UI_MIN_COLS) {
		out->too_small = true;
		return;
	}
	out->header = rect(0, 0, 2, cols);
	out->tabs = rect(2, 0, 1, cols);
	out->keybar = rect(rows - 1, 0, 1, cols);
	int body_y = 3, body_h = rows - 4;

	out->list = rect(body_y, 0, body_h, cols);
	if (detail_rows <= 0)
		return;
	if (cols - LIST_WANT_COLS >= DETAIL_MIN_COLS) {
		int w = cols - LIST_WANT_COLS;
		if (w > DETAIL_MAX_COLS)
			w = DETAIL_MAX_COLS;
		out->detail_right = true;
		out->list = rect(body_y, 0, body_h, cols - w);
		out->detail = rect(body_y, cols - w, body_h, w);
	} else if (body_h >= BELOW_MIN_BODY) {
		/* One line of the pane is its title bar. */
		int h = body_h - list_rows, least = body_h * 2 / 5, most = detail_rows + 1;
		if (most < least)
			most = least;
		if (h > most)
			h = most;
		if (h < least)
			h = least;
		if (h > body_h - LIST_MIN_ROWS)
			h = body_h - LIST_MIN_ROWS;
		out->list = rect(body_y, 0, body_h - h, cols);
		out->detail = rect(body_y + body_h - h, 0, h, cols);
	}
}

void ui_layout_dialog(int rows, int cols, int want_h, int want_w, struct ui_rect *out)
{
	/* Two border lines, one button line, one blank line before it. */
	int h = want_h + 4, w = want_w + 4;
	if (h > rows - 2)
		h = rows - 2;
	if (w > cols - 4)
		w = cols - 4;
	if (w < 20 && cols >= 24)
		w = 20;
	if (h < 5)
		h = rows < 5 ? rows : 5;
	*out = rect((rows - h) / 2, (cols - w) / 2, h, w);
}

int ui_layout_list_rows(const struct ui_rect *list, bool has_head)
{
	int n = list->h - (has_head ? 1 : 0);
	return n < 0 ? 0 : n;
}
