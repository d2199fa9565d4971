/* Key table, selection movement over headings, and search. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "view.h"

static void test_table(void **state)
{
	(void)state;
	const struct ui_binding *b = ui_keys_lookup('q', UI_SCR_LOG);
	assert_non_null(b);
	assert_int_equal(b->action, UI_ACT_QUIT);
	assert_int_equal(ui_keys_lookup('j', UI_SCR_NODE)->action, UI_ACT_DOWN);
	assert_int_equal(ui_keys_lookup(UI_KEY_DOWN, UI_SCR_NODE)->action, UI_ACT_DOWN);
	assert_int_equal(ui_keys_lookup('k', UI_SCR_DEVICES)->action, UI_ACT_UP);
	assert_int_equal(ui_keys_lookup('3', UI_SCR_DEVICES)->arg, UI_SCR_HIVES);
	/* Actions live where there is something to act on. */
	assert_int_equal(ui_keys_lookup('b', UI_SCR_DEVICES)->action, UI_ACT_BIND);
	assert_int_equal(ui_keys_lookup('b', UI_SCR_GROUPS)->action, UI_ACT_BIND);
	assert_null(ui_keys_lookup('b', UI_SCR_LOG));
	assert_null(ui_keys_lookup('a', UI_SCR_CHECKS));
	assert_true(ui_action_mutates(UI_ACT_BIND));
	assert_true(ui_action_mutates(UI_ACT_GIM_UNLOAD));
	assert_false(ui_action_mutates(UI_ACT_RESCAN));
	assert_false(ui_action_mutates(UI_ACT_DEMO));
	assert_string_equal(ui_screen_name(UI_SCR_CHECKS), "Checks");

	/* No key is bound twice on a screen; every listed key says what it does. */
	int n;
	const struct ui_binding *t = ui_keys_table(&n);
	for (int s = 0; s < UI_NSCREENS; s++)
		for (int i = 0; i < n; i++) {
			if (t[i].screens && !(t[i].screens & UI_SCREEN_BIT(s)))
				continue;
			assert_ptr_equal(ui_keys_lookup(t[i].key, (enum ui_screen)s), &t[i]);
		}
	for (int i = 0; i < n; i++)
		assert_true(!t[i].label == !t[i].help);
}

static void make_rows(struct ui_rows *r)
{
	ui_rows_init(r);
	ui_rows_heading(r, "Heading A");
	for (int i = 0; i < 10; i++)
		ui_rows_add(r, UI_TONE_NORMAL, "row a%d", i);
	ui_rows_blank(r);
	ui_rows_heading(r, "Heading B");
	for (int i = 0; i < 10; i++)
		ui_rows_add(r, UI_TONE_NORMAL, "row b%d %s", i, i == 7 ? "MI300X" : "");
}

static void test_movement(void **state)
{
	(void)state;
	struct ui_rows r;
	make_rows(&r); /* 0 heading, 1-10 a, 11 blank, 12 heading, 13-22 b */
	struct ui_view v = { -1, 0 };
	ui_view_clamp(&v, &r, 5);
	assert_int_equal(v.sel, 1);
	assert_int_equal(v.top, 0);
	ui_view_move(&v, &r, 5, UI_ACT_UP);
	assert_int_equal(v.sel, 1);
	assert_int_equal(v.top, 0);
	for (int i = 0; i < 9; i++)
		ui_view_move(&v, &r, 5, UI_ACT_DOWN);
	assert_int_equal(v.sel, 10);
	assert_int_equal(v.top, 6);
	ui_view_move(&v, &r, 5, UI_ACT_DOWN); /* over the blank and the heading */
	assert_int_equal(v.sel, 13);
	assert_true(v.top <= 13 && v.top + 5 > 13);
	ui_view_move(&v, &r, 5, UI_ACT_UP);
	assert_int_equal(v.sel, 10);
	ui_view_move(&v, &r, 5, UI_ACT_END);
	assert_int_equal(v.sel, 22);
	assert_int_equal(v.top, 18);
	ui_view_move(&v, &r, 5, UI_ACT_HOME);
	assert_int_equal(v.sel, 1);
	assert_int_equal(v.top, 0);
	ui_view_move(&v, &r, 5, UI_ACT_PGDN);
	assert_int_equal(v.sel, 5);
	assert_true(v.sel >= v.top && v.sel < v.top + 5);
	ui_view_move(&v, &r, 5, UI_ACT_PGUP);
	assert_int_equal(v.sel, 1);
	for (int i = 0; i < 10; i++)
		ui_view_move(&v, &r, 5, UI_ACT_PGDN);
	assert_int_equal(v.sel, 22);
	/* Height 1 (tiny terminal) still moves and shows the selection. */
	struct ui_view w = { 5, 0 };
	ui_view_clamp(&w, &r, 1);
	assert_int_equal(w.top, 5);
	ui_view_move(&w, &r, 1, UI_ACT_PGDN);
	assert_int_equal(w.top, w.sel);
	/* Rows removed under the selection (rescan). */
	struct ui_view x = { 40, 30 };
	ui_view_clamp(&x, &r, 5);
	assert_int_equal(x.sel, 22);
	ui_rows_clear(&r);

	/* An empty screen and one with headings only. */
	struct ui_view e = { 3, 3 };
	ui_view_clamp(&e, &r, 5);
	assert_int_equal(e.sel, -1);
	assert_int_equal(e.top, 0);
	ui_view_move(&e, &r, 5, UI_ACT_DOWN);
	assert_int_equal(e.sel, -1);
	ui_rows_heading(&r, "only");
	ui_view_clamp(&e, &r, 5);
	assert_int_equal(e.sel, -1);
	ui_rows_clear(&r);
}

static void test_search(void **state)
{
	(void)state;
	struct ui_rows r;
	make_rows(&r);
	assert_int_equal(ui_search(&r, "mi300x", -1, 1), 20);
	assert_int_equal(ui_search(&r, "row a", 5, 1), 6);
	assert_int_equal(ui_search(&r, "row a", 10, 1), 1);  /* wraps */
	assert_int_equal(ui_search(&r, "row a", 1, -1), 10); /* backwards, wraps */
	assert_int_equal(ui_search(&r, "ROW B9", 22, 1), 22); /* itself, last */
	assert_int_equal(ui_search(&r, "absent", 3, 1), -1);
	assert_int_equal(ui_search(&r, "", 3, 1), -1);
	assert_int_equal(ui_search(&r, NULL, 3, 1), -1);
	ui_rows_clear(&r);
	assert_int_equal(ui_search(&r, "x", -1, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_movement),
		cmocka_unit_test(test_search),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
