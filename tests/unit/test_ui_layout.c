/* Console geometry at many terminal sizes: nothing overlaps, nothing
 * leaves the screen, and 80x24 keeps a usable list and detail pane. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "layout.h"

static void inside(const struct ui_rect *r, int rows, int cols)
{
	assert_true(r->y >= 0 && r->x >= 0 && r->h >= 0 && r->w >= 0);
	assert_true(r->y + r->h <= rows);
	assert_true(r->x + r->w <= cols);
}

static bool overlap(const struct ui_rect *a, const struct ui_rect *b)
{
	if (a->h == 0 || a->w == 0 || b->h == 0 || b->w == 0)
		return false;
	return a->y < b->y + b->h && b->y < a->y + a->h && a->x < b->x + b->w && b->x < a->x + a->w;
}

static void test_sizes(void **state)
{
	(void)state;
	for (int rows = UI_MIN_ROWS; rows <= 120; rows += 3)
		for (int cols = UI_MIN_COLS; cols <= 300; cols += 7)
			for (int list = 0; list <= 200; list += 50)
				for (int detail = 0; detail <= 40; detail += 20) {
					struct ui_layout l;
					ui_layout_compute(rows, cols, list, detail, &l);
					assert_false(l.too_small);
					const struct ui_rect *all[] = { &l.header, &l.tabs, &l.list, &l.detail, &l.keybar };
					for (int i = 0; i < 5; i++) {
						inside(all[i], rows, cols);
						for (int k = i + 1; k < 5; k++)
							assert_false(overlap(all[i], all[k]));
					}
					assert_int_equal(l.keybar.y, rows - 1);
					assert_true(l.list.h >= 3);
					/* The body is used entirely. */
					if (l.detail.h && !l.detail_right)
						assert_int_equal(l.list.h + l.detail.h, rows - 4);
					if (l.detail_right)
						assert_int_equal(l.list.w + l.detail.w, cols);
					if (detail == 0)
						assert_int_equal(l.detail.h, 0);
				}
}

static void test_80x24(void **state)
{
	(void)state;
	struct ui_layout l;
	ui_layout_compute(24, 80, 20, 12, &l);
	assert_false(l.detail_right);
	assert_int_equal(l.list.w, 80);
	assert_true(l.detail.h >= 8);       /* 2/5 of the body at least */
	assert_true(l.list.h >= 10);
	/* A short list gives the room to the details. */
	ui_layout_compute(24, 80, 5, 30, &l);
	assert_int_equal(l.list.h + l.detail.h, 20);
	assert_true(l.detail.h >= 14);
	assert_true(l.list.h >= 5);
	/* Detail lines fewer than the space: the list keeps the rest. */
	ui_layout_compute(40, 120, 100, 4, &l);
	assert_true(l.list.h > 20);
}

static void test_wide_and_small(void **state)
{
	(void)state;
	struct ui_layout l;
	ui_layout_compute(40, 200, 30, 10, &l);
	assert_true(l.detail_right);
	assert_true(l.list.w >= 82);
	assert_true(l.detail.w >= 48 && l.detail.w <= 90);
	ui_layout_compute(19, 80, 30, 10, &l); /* too short for a pane below */
	assert_int_equal(l.detail.h, 0);
	ui_layout_compute(UI_MIN_ROWS - 1, 80, 1, 1, &l);
	assert_true(l.too_small);
	ui_layout_compute(24, UI_MIN_COLS - 1, 1, 1, &l);
	assert_true(l.too_small);
}

static void test_dialog(void **state)
{
	(void)state;
	for (int rows = 5; rows < 80; rows += 4)
		for (int cols = 24; cols < 250; cols += 9)
			for (int want = 0; want < 300; want += 37) {
				struct ui_rect r;
				ui_layout_dialog(rows, cols, want, want / 2, &r);
				inside(&r, rows, cols);
				assert_true(r.h >= 5 || r.h == rows);
			}
	struct ui_rect r;
	ui_layout_dialog(24, 80, 6, 40, &r);
	assert_int_equal(r.h, 10);
	assert_int_equal(r.w, 44);
	assert_int_equal(r.y, 7);
	assert_int_equal(r.x, 18);
	struct ui_rect list = { 3, 0, 10, 80 };
	assert_int_equal(ui_layout_list_rows(&list, true), 9);
	assert_int_equal(ui_layout_list_rows(&list, false), 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_80x24),
		cmocka_unit_test(test_wide_and_small),
		cmocka_unit_test(test_dialog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
