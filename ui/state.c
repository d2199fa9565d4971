/* The console's state and what every part of it may do to it: the status
 * line, the session log, the detail pane, opening or rescanning the host.
 * The loop (console.c) drives the panels (screens.c), which run the
 * actions (act.c); all of them change the state only through this. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "state.h"
#include "cluster/kubelet.h"
#include "host/discover.h"
#include "base/evloop.h"
#include "journal.h"
#include "base/util.h"
#include "watch.h"
#include "sim/demo.h"

#define STATUS_MS 4000


void ui_console_status(struct ui_console *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->status, sizeof(c->status), fmt, ap);
	va_end(ap);
	c->status_until_ms = av_now_ms() + STATUS_MS;
}

void ui_console_log_text(struct ui_console *c, enum ui_tone tone, const char *text)
{
	struct ui_rows *log = &c->rows[UI_SCR_LOG];
	struct ui_view *v = &c->views[UI_SCR_LOG];
	bool follow = v->sel >= log->n - 1;
	ui_journal_add(log, time(NULL), tone, text);
	if (follow)
		v->sel = log->n - 1;
	else if (v->sel >= log->n)
		v->sel = log->n - 1;
}

void ui_console_log(struct ui_console *c, enum ui_tone tone, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n >= 0)
		ui_console_log_text(c, tone, text);
	free(n >= 0 ? text : NULL);
}

void ui_console_drain_stderr(struct ui_console *c)
{
	char *text = ui_term_read_stderr(&c->term);
	if (text) {
		ui_console_log_text(c, UI_TONE_WARN, text);
		free(text);
	}
}

static const struct av_func_details *hw_get(void *ctx, const char *bdf)
{
	struct ui_console *c = ctx;
	return ui_hwcache_get(&c->hw, c->cli->host, bdf);
}

void ui_console_detail(struct ui_console *c)
{
	const struct ui_hw_source hw = { hw_get, c };
	const struct ui_rows *rows = &c->rows[c->screen];
	const struct ui_view *v = &c->views[c->screen];
	ui_rows_clear(&c->detail);
	if (v->sel < 0 || v->sel >= rows->n)
		return;
	const struct ui_row *row = &rows->v[v->sel];
	switch (c->screen) {
	case UI_SCR_DEVICES:
	case UI_SCR_HIVES:
		if (row->func >= 0)
			ui_build_device_detail(&c->model, &c->res, row->func, &hw, &c->detail);
		break;
	case UI_SCR_GROUPS:
		if (row->func >= 0)
			ui_build_device_detail(&c->model, &c->res, row->func, &hw, &c->detail);
		else if (row->group >= 0)
			ui_build_group_detail(&c->model, &c->res, row->group, &hw, &c->detail);
		break;
	case UI_SCR_CHECKS:
		if (c->checks_ran)
			ui_build_check_detail(&c->checks, row->item, &c->detail);
		break;
	default:
		break;
	}
}

/* The devices' holders, asked of kubelet on each rescan (the console's
 * resync), never more often; a failure is logged when it changes. */
static void holders(struct ui_console *c)
{
	char *cause = NULL;
	if (av_cluster_holders(c->cli->host, &c->model, &c->res, true, &cause) < 0)
		ui_console_log(c, UI_TONE_BAD, "out of memory reading the devices' holders");
	if (cause && strcmp(cause, c->kubelet_why) != 0)
		ui_console_log(c, UI_TONE_WARN, "%s", cause);
	else if (!cause && c->kubelet_why[0] && c->model.kubelet.state == AV_KUBELET_OK)
		ui_console_log(c, UI_TONE_GOOD, "kubelet's pod-resources API answers again");
	snprintf(c->kubelet_why, sizeof(c->kubelet_why), "%s", cause ? cause : "");
	free(cause);
}

static void derive(struct ui_console *c)
{
	if (av_resources_compute(&c->model, av_opts_naming(c->cli), &c->res) < 0)
		memset(&c->res, 0, sizeof(c->res));
	holders(c);
	struct av_label_facts facts;
	memset(&facts, 0, sizeof(facts));
	c->have_labels = av_label_facts_read(c->cli->host, &c->model, &facts) == 0
	                 && av_labels_compute(&c->model, &facts, &c->labels) == 0;
	av_label_facts_clear(&facts);
}

void ui_console_release(struct ui_console *c)
{
	ui_hwcache_clear(&c->hw);
	av_resources_clear(&c->res);
	if (c->have_labels)
		av_labels_clear(&c->labels);
	c->have_labels = false;
	av_model_free(&c->model);
}

int ui_console_rescan(struct ui_console *c)
{
	struct av_opts *cli = c->cli;
	struct av_discover_opts opts;
	av_opts_discover_opts(cli, &opts);
	struct av_model m;
	int r = av_discover(cli->host, &opts, &m);
	if (r < 0) {
		av_model_free(&m);
		ui_console_log(c, UI_TONE_BAD, "cannot read the host again: %s", strerror(-r));
		return r;
	}
	ui_console_release(c);
	c->model = m;
	derive(c);
	ui_watch_refresh(c->watch);
	return 0;
}

int ui_console_open_host(struct ui_console *c)
{
	struct av_model m;
	int rc = av_opts_discover(c->cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	ui_console_release(c);
	c->model = m;
	derive(c);
	ui_watch_free(c->watch);
	c->watch = ui_watch_new(c->cli->host);
	return AV_EXIT_OK;
}

int ui_console_open_demo(struct ui_console *c)
{
	struct av_opts *cli = c->cli;
	if (cli->demo || !c->demo_dir || c->model.n_gpus > 0) {
		ui_console_status(c, "%s", cli->demo ? "This is the demo host already."
		                           : c->model.n_gpus > 0 ? "This host has AMD GPUs; the demo is for hosts without."
		                                                 : "No demo host is installed.");
		return UI_HANDLED | UI_REDRAW;
	}
	struct av_host *host = NULL;
	char *why = NULL;
	struct sim_demo *d = sim_demo_open(c->demo_dir, &host, &why);
	if (!d) {
		ui_console_log(c, UI_TONE_BAD, "cannot open the demo host: %s", why ? why : "no memory");
		ui_console_status(c, "The demo host could not be opened; see the Log screen (6).");
		free(why);
		return UI_HANDLED | UI_REDRAW;
	}
	av_host_free(cli->host);
	av_pcidb_free(cli->pcidb);
	cli->host = host;
	cli->pcidb = NULL;
	cli->root = sim_demo_root(d);
	cli->demo = true;
	c->sim = d;
	if (ui_console_open_host(c) != AV_EXIT_OK) {
		ui_console_drain_stderr(c);
		ui_console_status(c, "The demo host could not be opened; see the Log screen (6).");
		return UI_HANDLED | UI_REDRAW;
	}
	ui_console_log(c, UI_TONE_NORMAL, "opened a copy of the demo host %s in %s", c->demo_dir, cli->root);
	ui_console_demo_hint(c);
	return UI_HANDLED | UI_REDRAW | UI_RECHECK;
}

void ui_console_demo_hint(struct ui_console *c)
{
	const struct av_model *m = &c->model;
	if (!c->cli->demo)
		return;
	c->status[0] = '\0';
	for (int i = 0; i < m->n_funcs; i++)
		if (m->funcs[i].selected && !m->funcs[i].driver[0]) {
			ui_console_status(c, "demo: press b on %s to bind it (? explains the screens)", m->funcs[i].bdf);
			snprintf(c->hint_bdf, sizeof(c->hint_bdf), "%s", m->funcs[i].bdf);
			break;
		}
	if (!c->status[0])
		ui_console_status(c, "demo: a simulated host; ? explains the screens and keys");
	/* long enough to be read while looking around */
	c->status_until_ms = av_now_ms() + 60000;
}

void ui_console_demo_hint_done(struct ui_console *c)
{
	if (!c->hint_bdf[0])
		return;
	for (int i = 0; i < c->model.n_funcs; i++)
		if (!strcmp(c->model.funcs[i].bdf, c->hint_bdf) && c->model.funcs[i].driver[0]) {
			if (strstr(c->status, c->hint_bdf))
				c->status[0] = '\0';
			c->hint_bdf[0] = '\0';
		}
}
