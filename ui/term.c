#include "config.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"
#include "term.h"
#include "base/util.h"

static volatile sig_atomic_t quit_requested;
/* The real stderr for the crash handler, which has no other way to it. */
static volatile sig_atomic_t crash_stderr = -1;
static volatile sig_atomic_t curses_on;

static void on_quit(int sig)
{
	(void)sig;
	quit_requested = 1;
}

/* A crash must not leave the operator's SSH session in raw mode.  endwin()
 * is not async-signal-safe, but the process is dying anyway and a usable
 * terminal is worth the risk (htop does the same). */
static void on_crash(int sig)
{
	if (curses_on)
		endwin();
	if (crash_stderr >= 0)
		dup2(crash_stderr, STDERR_FILENO);
	static const char msg[] = "amdvirt: the console crashed; the terminal was restored\n";
	ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)ignored;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_quit;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
}

bool ui_term_quit_requested(void)
{
	return quit_requested != 0;
}

int ui_term_park_stderr(struct ui_term *t)
{
	int p[2];
	t->stderr_fd = t->saved_stderr = -1;
	fflush(stderr);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved < 0 || dup2(p[1], STDERR_FILENO) < 0) {
		int err = errno;
		if (saved >= 0)
			close(saved);
		close(p[0]);
		close(p[1]);
		return -err;
	}
	close(p[1]);
	t->stderr_fd = p[0];
	t->saved_stderr = saved;
	crash_stderr = saved;
	return 0;
}

char *ui_term_read_stderr(struct ui_term *t)
{
	if (t->stderr_fd < 0)
		return NULL;
	fflush(stderr);
	char *buf = NULL;
	size_t len = 0;
	char chunk[4096];
	ssize_t n;
	while ((n = read(t->stderr_fd, chunk, sizeof(chunk))) > 0) {
		char *grown = realloc(buf, len + (size_t)n + 1);
		if (!grown)
			break;
		buf = grown;
		memcpy(buf + len, chunk, (size_t)n);
		len += (size_t)n;
		buf[len] = '\0';
	}
	return buf;
}

char *ui_term_unpark_stderr(struct ui_term *t)
{
	if (t->saved_stderr < 0)
		return NULL;
	char *rest = ui_term_read_stderr(t);
	dup2(t->saved_stderr, STDERR_FILENO);
	crash_stderr = -1;
	close(t->saved_stderr);
	close(t->stderr_fd);
	t->saved_stderr = t->stderr_fd = -1;
	return rest;
}

static const struct ui_glyphs utf8_glyphs = {
	"\u251c\u2500 ", "\u2514\u2500 ", "\u2500", "\u2502", "\u250c", "\u2510", "\u2514", "\u2518",
};
static const struct ui_glyphs ascii_glyphs = { "|- ", "`- ", "-", "|", "+", "+", "+", "+" };

static void setup_colours(struct ui_term *t)
{
	const char *no_colour = getenv("NO_COLOR");
	t->colour = has_colors() && !(no_colour && *no_colour);
	for (int i = 0; i < UI_TONE_NTONES; i++)
		t->attr[i] = A_NORMAL;
	t->attr[UI_TONE_TITLE] = A_BOLD;
	t->attr[UI_TONE_DIM] = A_DIM;
	t->attr[UI_TONE_BAD] = A_BOLD;
	t->sel_attr = A_REVERSE;
	t->bar_attr = A_REVERSE;
	t->tab_attr = A_REVERSE | A_BOLD;
	t->title_attr = A_BOLD;
	if (!t->colour)
		return;
	start_color();
	use_default_colors();
	/* -1: the terminal's own background, so the console fits its theme. */
	init_pair(1, COLOR_GREEN, -1);
	init_pair(2, COLOR_YELLOW, -1);
	init_pair(3, COLOR_RED, -1);
	init_pair(4, COLOR_CYAN, -1);
	init_pair(5, COLOR_BLACK, COLOR_CYAN);
	init_pair(6, COLOR_WHITE, COLOR_BLUE);
	t->attr[UI_TONE_GOOD] = COLOR_PAIR(1);
	t->attr[UI_TONE_WARN] = COLOR_PAIR(2);
	t->attr[UI_TONE_BAD] = COLOR_PAIR(3) | A_BOLD;
	t->attr[UI_TONE_TITLE] = COLOR_PAIR(4) | A_BOLD;
	t->bar_attr = COLOR_PAIR(5);
	t->tab_attr = COLOR_PAIR(6) | A_BOLD;
	t->title_attr = COLOR_PAIR(4) | A_BOLD;
}

int ui_term_start(struct ui_term *t, char **cause)
{
	const char *codeset = nl_langinfo(CODESET);
	t->utf8 = codeset && strcmp(codeset, "UTF-8") == 0;
	t->g = t->utf8 ? utf8_glyphs : ascii_glyphs;

	/* Ours before curses starts, so that ncurses keeps its hands off
	 * SIGINT/SIGTERM and the loop can leave through its normal exit. */
	install_signals();
	SCREEN *s = newterm(NULL, stdout, stdin);
	if (!s) {
		const char *term = getenv("TERM");
		av_set_cause(cause, "cannot drive terminal type '%s'", term ? term : "(unset)");
		return -1;
	}
	set_term(s);
	curses_on = 1;
	t->started = true;
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	setup_colours(t);
	return 0;
}

void ui_term_stop(struct ui_term *t)
{
	if (!t->started)
		return;
	curs_set(1);
	endwin();
	curses_on = 0;
	t->started = false;
	delscreen(set_term(NULL));
}

int ui_term_key(void)
{
	int ch = getch();
	switch (ch) {
	case ERR: return -1;
	case KEY_UP: return UI_KEY_UP;
	case KEY_DOWN: return UI_KEY_DOWN;
	case KEY_LEFT: return UI_KEY_LEFT;
	case KEY_RIGHT: return UI_KEY_RIGHT;
	case KEY_PPAGE: return UI_KEY_PGUP;
	case KEY_NPAGE: return UI_KEY_PGDN;
	case KEY_HOME: return UI_KEY_HOME;
	case KEY_END: return UI_KEY_END;
	case KEY_ENTER: case '\n': case '\r': return UI_KEY_ENTER;
	case 27: return UI_KEY_ESC;
	case '\t': return UI_KEY_TAB;
	case KEY_BTAB: return UI_KEY_BTAB;
	case KEY_BACKSPACE: case 127: case 8: return UI_KEY_BACKSPACE;
	case KEY_F(1): return UI_KEY_F1;
	case KEY_F(5): return UI_KEY_F5;
	case KEY_F(10): return UI_KEY_F10;
	case KEY_RESIZE: return UI_KEY_RESIZE;
	default: return ch >= 0 && ch < KEY_MIN ? ch : -1;
	}
}
