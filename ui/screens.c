/* Panels: what a key means on the current screen.  They change only the
 * console's view state and return flags; the loop does the rest. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "build.h"
#include "act.h"
#include "dialog.h"
#include "screens.h"
#include "state.h"

static int search(struct ui_console *c, int dir, bool ask)
{
	struct ui_rows *rows = &c->rows[c->screen];
	struct ui_view *v = &c->views[c->screen];
	if (ask) {
		char buf[sizeof(c->search)] = "";
		if (!ui_prompt(c, "Search: ", buf, (int)sizeof(buf)) || !buf[0])
			return UI_HANDLED | UI_REDRAW;
		snprintf(c->search, sizeof(c->search), "%s", buf);
	}
	if (!c->search[0]) {
		ui_console_status(c, "No search yet: press / to search.");
		return UI_HANDLED | UI_REDRAW;
	}
	int i = ui_search(rows, c->search, v->sel, dir);
	if (i < 0)
		ui_console_status(c, "'%s' is not on the %s screen.", c->search, ui_screen_name(c->screen));
	else
		ui_view_select(v, rows, c->list_height, i);
	ui_console_detail(c);
	return UI_HANDLED | UI_REDRAW;
}

static int show_detail(struct ui_console *c)
{
	if (c->detail.n == 0) {
		const struct ui_view *v = &c->views[c->screen];
		const struct ui_rows *rows = &c->rows[c->screen];
		if (v->sel < 0 || v->sel >= rows->n)
			return UI_HANDLED;
		/* Screens without a pane: show the whole row, it may be clipped. */
		struct ui_rows one;
		ui_rows_init(&one);
		ui_rows_add_text(&one, rows->v[v->sel].tone, 0, rows->v[v->sel].text);
		ui_dialog(c, ui_screen_name(c->screen), &one, "Esc/q close", "");
		ui_rows_clear(&one);
	} else {
		ui_dialog(c, "Details", &c->detail, "Esc/q close   arrows scroll", "");
	}
	return UI_HANDLED | UI_REDRAW;
}

static int switch_to(struct ui_console *c, int screen)
{
	c->screen = (enum ui_screen)((screen + UI_NSCREENS) % UI_NSCREENS);
	ui_console_detail(c);
	return UI_HANDLED | UI_REDRAW | (c->screen == UI_SCR_CHECKS && !c->checks_ran ? UI_RECHECK : 0);
}

int ui_panel_key(struct ui_console *c, int key)
{
	if (key == UI_KEY_RESIZE)
		return UI_HANDLED | UI_RESIZE | UI_REDRAW;
	const struct ui_binding *b = ui_keys_lookup(key, c->screen);
	if (!b)
		return UI_IGNORED;
	struct ui_view *v = &c->views[c->screen];
	switch (b->action) {
	case UI_ACT_QUIT:
		return UI_HANDLED | UI_QUIT;
	case UI_ACT_UP: case UI_ACT_DOWN: case UI_ACT_PGUP: case UI_ACT_PGDN: case UI_ACT_HOME: case UI_ACT_END:
		ui_view_move(v, &c->rows[c->screen], c->list_height, b->action);
		ui_console_detail(c);
		return UI_HANDLED | UI_REDRAW;
	case UI_ACT_SCREEN:
		return switch_to(c, b->arg);
	case UI_ACT_NEXT_SCREEN:
		return switch_to(c, (int)c->screen + 1);
	case UI_ACT_PREV_SCREEN:
		return switch_to(c, (int)c->screen - 1);
	case UI_ACT_HELP:
		ui_help(c);
		return UI_HANDLED | UI_REDRAW;
	case UI_ACT_SEARCH:
		return search(c, 1, true);
	case UI_ACT_SEARCH_NEXT:
		return search(c, 1, false);
	case UI_ACT_SEARCH_PREV:
		return search(c, -1, false);
	case UI_ACT_DETAIL:
		return show_detail(c);
	case UI_ACT_RESCAN:
		ui_console_status(c, "Host read again.");
		return UI_HANDLED | UI_RESCAN | UI_RECHECK | UI_REDRAW;
	case UI_ACT_DEMO:
		return ui_console_open_demo(c);
	default:
		break;
	}
	if (ui_action_mutates(b->action)) {
		if (c->readonly) {
			ui_console_status(c, "Read-only console (--readonly): nothing on the host is changed.");
			return UI_HANDLED | UI_REDRAW;
		}
		return ui_act(c, b->action);
	}
	return UI_IGNORED;
}
