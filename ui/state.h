/* The console's state and the contract between its parts: panels (one per
 * screen) handle keys and return flags; only the loop in console.c rescans
 * the host and redraws.  The parts call one way: console.c (the loop) ->
 * screens.c (the panels) -> act.c (the actions) -> this state (state.c),
 * the dialogs and the drawing. */
#ifndef UI_STATE_H
#define UI_STATE_H

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

struct sim_demo;

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
	struct sim_demo *sim;        /* the demo host opened with d, while it is open */
	char hint_bdf[16];           /* the function the demo's hint names, until it moves */
	int list_height;             /* rows visible in the list at the last draw */
	char kubelet_why[256];       /* kubelet's last error, logged once */
};

/* On the demo host: one thing to try, on the status line. */
void ui_console_demo_hint(struct ui_console *c);
/* Takes the hint away once its function has moved (the user tried it). */
void ui_console_demo_hint_done(struct ui_console *c);

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

/* Reads the host again with what the first discovery opened. */
int ui_console_rescan(struct ui_console *c);
/* First discovery through the command line's own path, so the host, the
 * config and libpci are opened (and reported) exactly as for `list`.
 * Returns an exit code. */
int ui_console_open_host(struct ui_console *c);
/* Frees the model and what was derived from it. */
void ui_console_release(struct ui_console *c);

#endif
