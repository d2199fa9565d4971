/* Key bindings as a table: key -> action, with the help text drawn from
 * the same table so that the key bar, the help screen and the behaviour
 * cannot disagree.  Pure: special keys use the console's own codes, which
 * the terminal layer translates from curses. */
#ifndef UI_KEYS_H
#define UI_KEYS_H

#include <stdbool.h>

enum ui_screen {
	UI_SCR_DEVICES = 0,
	UI_SCR_GROUPS,
	UI_SCR_HIVES,
	UI_SCR_CHECKS,
	UI_SCR_NODE,
	UI_SCR_LOG,
	UI_NSCREENS,
};

/* Codes for keys without a character (above any Unicode code point). */
enum ui_keycode {
	UI_KEY_UP = 0x110000, UI_KEY_DOWN, UI_KEY_LEFT, UI_KEY_RIGHT,
	UI_KEY_PGUP, UI_KEY_PGDN, UI_KEY_HOME, UI_KEY_END,
	UI_KEY_ENTER, UI_KEY_ESC, UI_KEY_TAB, UI_KEY_BTAB, UI_KEY_BACKSPACE,
	UI_KEY_F1, UI_KEY_F5, UI_KEY_F10, UI_KEY_RESIZE,
};

enum ui_action {
	UI_ACT_NONE = 0,
	UI_ACT_QUIT,
	UI_ACT_UP, UI_ACT_DOWN, UI_ACT_PGUP, UI_ACT_PGDN, UI_ACT_HOME, UI_ACT_END,
	UI_ACT_SCREEN,        /* arg: the screen */
	UI_ACT_NEXT_SCREEN, UI_ACT_PREV_SCREEN,
	UI_ACT_HELP, UI_ACT_SEARCH, UI_ACT_SEARCH_NEXT, UI_ACT_SEARCH_PREV,
	UI_ACT_DETAIL,        /* the selection's detail in a dialog */
	UI_ACT_RESCAN,        /* read the host again (and re-run the checks) */
	UI_ACT_DEMO,          /* no GPU here: open the demo host */
	/* Actions that change the host: refused with --readonly. */
	UI_ACT_BIND, UI_ACT_BIND_GROUP, UI_ACT_BIND_ALL,
	UI_ACT_UNBIND, UI_ACT_UNBIND_GROUP, UI_ACT_UNBIND_ALL,
	UI_ACT_GIM_LOAD, UI_ACT_GIM_UNLOAD,
};

struct ui_binding {
	int key;
	enum ui_action action;
	int arg;
	unsigned screens;          /* bit per screen where it applies; 0: all */
	const char *label;         /* key as shown ("b", "PgDn"), NULL: not listed */
	const char *help;          /* what it does, NULL: not listed */
	bool in_bar;               /* shown in the bottom key bar */
};

#define UI_SCREEN_BIT(s) (1u << (s))

/* The binding for key on screen, or NULL. */
const struct ui_binding *ui_keys_lookup(int key, enum ui_screen screen);
/* The whole table (for help and the key bar). */
const struct ui_binding *ui_keys_table(int *count);
/* Whether an action changes the host (and is refused read-only). */
bool ui_action_mutates(enum ui_action a);
const char *ui_screen_name(enum ui_screen s);

#endif
