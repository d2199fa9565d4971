/* `amdvirt` on a terminal: the admin console.  This file owns the state
 * and the one loop: it waits on the keyboard, inotify and the parked
 * stderr, lets the current panel handle keys, and acts on the flags the
 * panels return (rescan the host, re-run the checks, redraw, quit). */
#include "config.h"


#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "draw.h"
#include "screens.h"
#include "state.h"
#include "ui.h"
#include "host/draclaims.h"
#include "host/discover.h"
#include "base/evloop.h"
#include "journal.h"
#include "base/util.h"
#include "watch.h"
#include "sim/demo.h"

#define REFRESH_MS 5000
/* inotify reports a bind as a burst of events; one rescan covers it. */
#define SETTLE_MS 150
/* What a selection points at, so it survives a rescan that renumbers the
 * model. */
struct anchor {
	char bdf[AV_BDF_LEN];
	int group, item, index;
};

static void anchors_take(const struct ui_console *c, struct anchor *a)
{
	for (int s = 0; s < UI_NSCREENS; s++) {
		const struct ui_rows *rows = &c->rows[s];
		int sel = c->views[s].sel;
		a[s] = (struct anchor){ .group = -1, .item = -1, .index = sel };
		if (sel < 0 || sel >= rows->n)
			continue;
		const struct ui_row *row = &rows->v[sel];
		if (row->func >= 0 && row->func < c->model.n_funcs)
			snprintf(a[s].bdf, sizeof(a[s].bdf), "%s", c->model.funcs[row->func].bdf);
		a[s].group = row->group;
		a[s].item = row->item;
	}
}

static void anchors_restore(struct ui_console *c, const struct anchor *a)
{
	for (int s = 0; s < UI_NSCREENS; s++) {
		const struct ui_rows *rows = &c->rows[s];
		int i = -1;
		if (a[s].bdf[0]) {
			int fi = av_model_find(&c->model, a[s].bdf);
			i = fi >= 0 ? ui_rows_find_func(rows, fi) : -1;
		} else if (a[s].group >= 0) {
			i = ui_rows_find_group(rows, a[s].group);
		} else if (a[s].item >= 0 && s == UI_SCR_CHECKS) {
			i = ui_rows_find_item(rows, a[s].item);
		}
		if (i < 0)
			i = a[s].index;
		c->views[s].sel = i;
		ui_view_clamp(&c->views[s], rows, c->list_height > 0 ? c->list_height : 10);
	}
}

static void build_devices_screen(struct ui_console *c)
{
	struct ui_rows *r = &c->rows[UI_SCR_DEVICES];
	ui_build_devices(&c->model, &c->res, r);
	if (c->model.n_gpus > 0)
		return;
	ui_rows_add(r, UI_TONE_WARN, "No AMD GPU on this host (%d PCI functions, none of them an AMD GPU).",
	            c->model.n_funcs);
	if (!c->cli->demo && c->demo_dir)
		ui_rows_add(r, UI_TONE_NORMAL, "Press d to open the demo host: a bundled fake host with MI300X GPUs.");
}

/* Rebuilds every screen's rows (and the detail pane) from the model,
 * keeping the selections on the same function / group / check. */
static void rebuild(struct ui_console *c)
{
	struct anchor a[UI_NSCREENS];
	ui_console_demo_hint_done(c);
	anchors_take(c, a);
	for (int s = 0; s < UI_NSCREENS; s++)
		if (s != UI_SCR_LOG)
			ui_rows_clear(&c->rows[s]);
	build_devices_screen(c);
	ui_build_groups(&c->model, &c->rows[UI_SCR_GROUPS]);
	ui_build_hives(&c->model, &c->res, &c->rows[UI_SCR_HIVES]);
	if (c->checks_ran) {
		ui_build_checks(&c->checks, NULL, &c->rows[UI_SCR_CHECKS]);
		ui_rows_add(&c->rows[UI_SCR_CHECKS], UI_TONE_DIM, "(checks ran at %s; r runs them again)",
		            c->checks_when);
		c->rows[UI_SCR_CHECKS].v[c->rows[UI_SCR_CHECKS].n - 1].heading = true;
	} else {
		ui_build_checks(NULL, c->checks_why, &c->rows[UI_SCR_CHECKS]);
	}
	ui_build_node(&c->model, &c->res, c->have_labels ? &c->labels : NULL, &c->rows[UI_SCR_NODE]);
	struct av_dra_claims dra;
	if (av_dra_claims_load(c->cli->host, &dra, NULL) == 0) {
		ui_build_node_dra(&c->model, &dra, &c->rows[UI_SCR_NODE]);
		av_dra_claims_clear(&dra);
	}
	anchors_restore(c, a);
	ui_console_detail(c);
}

static void run_checks(struct ui_console *c)
{
	struct av_check_opts opts = { .all = false };
	if (c->checks_ran)
		av_check_report_clear(&c->checks);
	c->checks_ran = av_checks_run(c->cli->host, c->cli->pcidb, &c->model, &opts, &c->checks) == 0;
	c->checks_why = c->checks_ran ? NULL : "The checks could not run (out of memory).";
	time_t now = time(NULL);
	struct tm tm;
	if (c->checks_ran && localtime_r(&now, &tm))
		strftime(c->checks_when, sizeof(c->checks_when), "%H:%M:%S", &tm);
	if (c->checks_ran)
		ui_console_log(c, c->checks.counts[AV_CHECK_FAIL] ? UI_TONE_BAD : UI_TONE_NORMAL,
		                "checks: %d pass, %d warn, %d fail", c->checks.counts[AV_CHECK_PASS],
		                c->checks.counts[AV_CHECK_WARN], c->checks.counts[AV_CHECK_FAIL]);
}

/* The demo host, when it is there. */
static char *find_demo(void)
{
	char *demo = av_opts_demo_root();
	if (demo && access(demo, F_OK) != 0) {
		free(demo);
		demo = NULL;
	}
	return demo;
}

static int getenv_int(const char *name, int dflt)
{
	const char *s = getenv(name);
	long v;
	if (!s || av_parse_long(s, 10, &v) < 0 || v < 0 || v > 1000000000)
		return dflt;
	return (int)v;
}

/* Returns when a panel asks to quit, a signal arrives, or after max_ticks
 * turns (bounded runs for tests and valgrind). */
static void loop(struct ui_console *c, int64_t started)
{
	int max_ticks = getenv_int("AMDVIRT_CONSOLE_MAX_TICKS", 0);
	int refresh_ms = getenv_int("AMDVIRT_CONSOLE_REFRESH_MS", REFRESH_MS);
	int64_t next_refresh = av_now_ms() + refresh_ms, settle_at = -1;
	int flags = UI_REDRAW | UI_RECHECK;
	bool first = true;

	for (int tick = 0; !max_ticks || tick < max_ticks; tick++) {
		if (flags & UI_RESCAN) {
			ui_console_rescan(c);
			next_refresh = av_now_ms() + refresh_ms;
		}
		if (flags & (UI_RESCAN | UI_RECHECK)) {
			if (first) {
				/* The first frame comes before the checks, so the console
				 * opens as fast as discovery allows. */
				rebuild(c);
				ui_draw(c);
				ui_console_log(c, UI_TONE_DIM, "console ready in %lld ms",
				                (long long)(av_now_ms() - started));
				first = false;
			}
			if (flags & UI_RECHECK)
				run_checks(c);
			ui_console_drain_stderr(c);
			rebuild(c);
		}
		if (flags & UI_QUIT)
			return;
		if (c->status[0] && av_now_ms() >= c->status_until_ms) {
			c->status[0] = '\0';
			flags |= UI_REDRAW;
		}
		if (flags & (UI_REDRAW | UI_RESIZE))
			ui_draw(c);
		flags = 0;

		int64_t now = av_now_ms(), due = next_refresh;
		if (settle_at >= 0 && settle_at < due)
			due = settle_at;
		if (c->status[0] && c->status_until_ms < due)
			due = c->status_until_ms;
		int timeout = due > now ? (int)(due - now) : 0;
		if (max_ticks && timeout > 100)
			timeout = 100;
		struct pollfd p[3] = {
			{ .fd = STDIN_FILENO, .events = POLLIN },
			{ .fd = ui_watch_fd(c->watch), .events = POLLIN },
			{ .fd = c->term.stderr_fd, .events = POLLIN },
		};
		poll(p, 3, timeout);
		if (ui_term_quit_requested()) {
			ui_console_log(c, UI_TONE_NORMAL, "quit on a signal");
			return;
		}
		if (p[2].revents & POLLIN) {
			ui_console_drain_stderr(c);
			if (c->screen == UI_SCR_LOG)
				flags |= UI_REDRAW;
		}
		if ((p[1].revents & POLLIN) && ui_watch_drain(c->watch) && settle_at < 0)
			settle_at = av_now_ms() + SETTLE_MS;
		int key;
		while (!(flags & UI_QUIT) && (key = ui_term_key()) >= 0) {
			int f = ui_panel_key(c, key);
			if ((f & UI_IGNORED) && key < 0x80)
				ui_console_status(c, "Key '%c' does nothing here; ? lists the keys.", key);
			flags |= f | ((f & UI_IGNORED) ? UI_REDRAW : 0);
			if (f & UI_RESCAN)
				ui_watch_drain(c->watch);
		}
		now = av_now_ms();
		if ((settle_at >= 0 && now >= settle_at) || now >= next_refresh) {
			settle_at = -1;
			flags |= UI_RESCAN | UI_REDRAW;
		}
	}
}

static void console_free(struct ui_console *c)
{
	ui_console_release(c);
	if (c->checks_ran)
		av_check_report_clear(&c->checks);
	for (int s = 0; s < UI_NSCREENS; s++)
		ui_rows_clear(&c->rows[s]);
	ui_rows_clear(&c->detail);
	ui_watch_free(c->watch);
	sim_demo_close(c->sim);   /* before main closes the host it is attached to */
	free(c->demo_dir);
}

int av_cmd_console(struct av_opts *cli)
{
	int64_t started = av_now_ms();
	struct ui_console c;
	memset(&c, 0, sizeof(c));
	c.cli = cli;
	c.readonly = cli->readonly;
	c.checks_why = "The checks run in a moment.";
	c.term.stderr_fd = c.term.saved_stderr = -1;
	for (int s = 0; s < UI_NSCREENS; s++)
		ui_rows_init(&c.rows[s]);
	ui_rows_init(&c.detail);

	/* Multibyte names and UTF-8 line drawing depend on the locale. */
	setlocale(LC_ALL, "");
	if (cli->n_args > 0) {
		fprintf(stderr, "amdvirt: the console takes no arguments ('%s')\n", cli->args[0]);
		return AV_EXIT_USAGE;
	}
	c.demo_dir = find_demo();
	ui_term_park_stderr(&c.term);
	ui_console_log(&c, UI_TONE_NORMAL, "amdvirt %s console on %s%s", PACKAGE_VERSION,
	                cli->root, c.readonly ? " (read-only)" : "");
	int rc = ui_console_open_host(&c);
	ui_console_drain_stderr(&c);
	if (rc == AV_EXIT_OK)
		ui_console_demo_hint(&c);
	char *cause = NULL;
	if (rc == AV_EXIT_OK && ui_term_start(&c.term, &cause) < 0)
		rc = AV_EXIT_USAGE;
	if (rc == AV_EXIT_OK) {
		loop(&c, started);
		ui_term_stop(&c.term);
	}
	char *rest = ui_term_unpark_stderr(&c.term);
	if (rc != AV_EXIT_OK) {
		/* Nothing was shown: what discovery said goes to the terminal. */
		const struct ui_rows *log = &c.rows[UI_SCR_LOG];
		for (int i = 0; i < log->n; i++)
			if (log->v[i].tone != UI_TONE_NORMAL)
				fprintf(stderr, "%s\n", log->v[i].text + 9);
		if (cause)
			fprintf(stderr, "amdvirt: %s; try 'amdvirt list'\n", cause);
	}
	if (rest)
		fputs(rest, stderr);
	free(rest);
	free(cause);
	console_free(&c);
	return rc;
}
