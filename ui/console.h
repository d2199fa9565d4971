/* The console's state and the contract between its parts: panels (one per
 * screen) handle keys and return flags; only the loop in console.c rescans
 * the host and redraws. */
#ifndef UI_CONSOLE_H
#define UI_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "checks/checks.h"
#include "host/opts.h"
#include "hwcache.h"
#include "keys.h"
#include "labels/labels.h"
#include "rows.h"
#include "term.h"
#include "view.h"

enum ui_flags {
	UI_HANDLED = 0x01,
	UI_IGNORED = 0x02,
	UI_REDRAW = 0x04,
	UI_RESCAN = 0x08,   /* read the host again */
	UI_RESIZE = 0x10,
	UI_QUIT = 0x20,
	UI_RECHECK = 0x40,  /* run the checks again */
};

struct ui_watch;

struct ui_console {
	struct av_opts *cli;
	struct ui_term term;
	struct ui_watch *watch;

	struct av_model model;
	struct av_resources res;
	struct av_labels labels;
	bool have_labels;
	struct av_check_report checks;
	bool checks_ran;
	char checks_when[16];        /* "12:03:44" */
	const char *checks_why;      /* why the checks are not shown */

	struct ui_rows rows[UI_NSCREENS];
	struct ui_view views[UI_NSCREENS];
	struct ui_rows detail;       /* the detail pane of the current selection */
	struct ui_hwcache hw;        /* BARs and links read since the last rescan */
	enum ui_screen screen;

	char search[64];
	char status[160];            /* one-line message on the key bar */
	int64_t status_until_ms;
	bool readonly;
	char *demo_dir;
	int list_height;             /* rows visible in the list at the last draw */
};

/* Rebuilds every screen's rows (and the detail pane) from the model,
 * keeping the selections on the same function / group / check. */
void ui_console_rebuild(struct ui_console *c);
/* Rebuilds the detail pane for the current selection. */
void ui_console_detail(struct ui_console *c);
/* Appends to the session log (the Log screen), which follows new lines
 * while its selection is on the last one. */
void ui_console_log(struct ui_console *c, enum ui_tone tone, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ui_console_log_text(struct ui_console *c, enum ui_tone tone, const char *text);
/* Opens the bundled demo host in place of this one (no AMD GPU here). */
int ui_console_open_demo(struct ui_console *c);
void ui_console_status(struct ui_console *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Moves what the parked stderr holds into the Log screen. */
void ui_console_drain_stderr(struct ui_console *c);

/* Drawing (draw.c): the whole frame, no refresh of its own. */
void ui_draw(struct ui_console *c);
/* A modal window over the frame (dialog.c).  keys: the characters that
 * close it and are returned ("yn"); Esc and q return 'q' when not listed,
 * Enter returns '\n' when listed.  Returns -1 when a signal asked to quit. */
int ui_dialog(struct ui_console *c, const char *title, const struct ui_rows *body, const char *buttons,
              const char *keys);
/* Reads a line on the key bar (search).  Returns false on Esc. */
bool ui_prompt(struct ui_console *c, const char *label, char *buf, int size);
void ui_help(struct ui_console *c);

/* Panels (screens.c): a key on the current screen. */
int ui_panel_key(struct ui_console *c, int key);
/* Host-changing actions (act.c). */
int ui_act(struct ui_console *c, enum ui_action a);

#endif
