/* The terminal: curses start and stop, colours (only where the terminal
 * has them, never with NO_COLOR), line-drawing glyphs (UTF-8 or ASCII after
 * the locale), stderr parked in a pipe while curses owns the screen, and
 * signal handlers that give the terminal back even on a crash. */
#ifndef UI_TERM_H
#define UI_TERM_H

#include <stdbool.h>

#include "rows.h"

struct ui_glyphs {
	const char *tee, *elbow;       /* tree branches, 3 columns each */
	const char *hline, *vline;
	const char *tl, *tr, *bl, *br; /* box corners */
};

struct ui_term {
	bool started;
	bool colour;
	bool utf8;
	struct ui_glyphs g;
	int attr[UI_TONE_NTONES];      /* attr_t values, kept as int for the pure headers */
	int sel_attr, bar_attr, tab_attr, title_attr;
	int stderr_fd;                 /* read end of the parked stderr, -1 when not parked */
	int saved_stderr;              /* the real stderr while parked, -1 otherwise */
};

/* Moves fd 2 into a pipe whose contents go to the Log screen.  Returns 0
 * or -errno (stderr then stays where it was). */
int ui_term_park_stderr(struct ui_term *t);
/* Puts the real stderr back.  Unread parked text is returned (allocated,
 * may be NULL) so that a caller leaving the console can print it. */
char *ui_term_unpark_stderr(struct ui_term *t);
/* Reads what is waiting in the parked stderr (allocated, NULL if none). */
char *ui_term_read_stderr(struct ui_term *t);

/* Starts curses on the controlling terminal.  Returns 0, or -1 with
 * *cause set (unknown TERM, ...). */
int ui_term_start(struct ui_term *t, char **cause);
void ui_term_stop(struct ui_term *t);

/* The next key as a console key code (keys.h), or -1 when none is waiting. */
int ui_term_key(void);
/* A signal asked the console to quit (SIGINT, SIGTERM, SIGHUP). */
bool ui_term_quit_requested(void);

#endif
