/* Actions that change the host.  Every one goes the same way: the core
 * plans it, the plan is shown exactly as it would run, it runs only after
 * 'y', and the result (or the rollback) is shown and kept in the Log. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/actions.h"
#include "act.h"
#include "dialog.h"
#include "draw.h"
#include "state.h"

#define MAX_BDFS 64

/* The functions an action on the selection means: the selected function,
 * or every endpoint of its group (bridges stay with the host). */
static int targets(const struct ui_console *c, bool whole_group, const char **bdfs)
{
	const struct ui_rows *rows = &c->rows[c->screen];
	const struct ui_view *v = &c->views[c->screen];
	const struct av_model *m = &c->model;
	if (v->sel < 0 || v->sel >= rows->n)
		return 0;
	const struct ui_row *row = &rows->v[v->sel];
	if (row->func >= 0 && !whole_group) {
		bdfs[0] = m->funcs[row->func].bdf;
		return 1;
	}
	int gid = row->group >= 0 ? row->group : row->func >= 0 ? m->funcs[row->func].iommu_group : -1;
	const struct av_group *g = gid >= 0 ? av_model_group(m, gid) : NULL;
	int n = 0;
	for (int k = 0; g && k < g->n_members && n < MAX_BDFS; k++)
		if (!m->funcs[g->members[k]].is_bridge)
			bdfs[n++] = m->funcs[g->members[k]].bdf;
	return n;
}

static int plan_for(struct ui_console *c, enum ui_action a, struct av_plan *plan)
{
	const char *bdfs[MAX_BDFS];
	struct av_opts *cli = c->cli;
	/* The same options the command line would pass (src/cli/cmd_bind.c, cmd_gim.c). */
	struct av_action_opts opts = {
		.force = cli->force,
		.host = cli->host,
		.params = (const char *const *)cli->params,
		.n_params = cli->n_params,
		.module_path = cli->module_path,
		.bind_after_load = cli->bind_after_load,
		.expect_version = cli->config.version,
	};
	int n = 0;
	switch (a) {
	case UI_ACT_BIND: case UI_ACT_UNBIND:
		n = targets(c, false, bdfs);
		break;
	case UI_ACT_BIND_GROUP: case UI_ACT_UNBIND_GROUP:
		n = targets(c, true, bdfs);
		break;
	case UI_ACT_BIND_ALL: case UI_ACT_UNBIND_ALL:
		opts.all = true;
		break;
	default:
		break;
	}
	if (!opts.all && n == 0 && a != UI_ACT_GIM_LOAD && a != UI_ACT_GIM_UNLOAD) {
		ui_console_status(c, "Select a function first (arrows or j/k).");
		return 1;
	}
	switch (a) {
	case UI_ACT_BIND: case UI_ACT_BIND_GROUP: case UI_ACT_BIND_ALL:
		return av_plan_bind(&c->model, bdfs, n, &opts, plan);
	case UI_ACT_UNBIND: case UI_ACT_UNBIND_GROUP: case UI_ACT_UNBIND_ALL:
		return av_plan_unbind(&c->model, cli->host, bdfs, n, &opts, plan);
	case UI_ACT_GIM_LOAD:
		return av_plan_gim_load(&c->model, &opts, plan);
	case UI_ACT_GIM_UNLOAD:
		return av_plan_gim_unload(&c->model, &opts, plan);
	default:
		return 1;
	}
}

static void plan_rows(const struct av_plan *plan, struct ui_rows *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f) {
		av_plan_print(f, plan);
		fclose(f);
		ui_rows_add_text(out, UI_TONE_NORMAL, 0, text);
	}
	free(text);
	/* The refusals are in the printed plan; make them stand out. */
	for (int i = 0; i < out->n; i++)
		if (strstr(out->v[i].text, "refused: "))
			out->v[i].tone = UI_TONE_BAD;
}

static void execute(struct ui_console *c, const struct av_plan *plan)
{
	char *text = NULL, *cause = NULL;
	size_t len = 0;
	/* Verification can wait seconds for the kernel; the screen says why
	 * it does not answer meanwhile. */
	ui_console_status(c, "Running: %s ...", plan->title);
	ui_draw(c);
	FILE *f = open_memstream(&text, &len);
	int r = av_plan_execute(c->cli->host, plan, f, &cause);
	if (f)
		fclose(f);
	c->status[0] = '\0';

	struct ui_rows body;
	ui_rows_init(&body);
	ui_rows_add_text(&body, UI_TONE_NORMAL, 0, text);
	ui_rows_blank(&body);
	if (r == 0)
		ui_rows_add(&body, UI_TONE_GOOD, "Done: %s.", plan->title);
	else
		ui_rows_add(&body, UI_TONE_BAD, "Failed: %s", cause ? cause : "the action did not complete");
	ui_console_log(c, r == 0 ? UI_TONE_GOOD : UI_TONE_BAD, "%s: %s%s%s", plan->title, r == 0 ? "done" : "FAILED",
	               r == 0 ? "" : ": ", r == 0 ? "" : cause ? cause : "");
	if (text && *text)
		ui_console_log_text(c, UI_TONE_DIM, text);
	ui_console_drain_stderr(c);
	ui_dialog(c, r == 0 ? "Done" : "Failed", &body, "Enter/q close", "\n");
	ui_rows_clear(&body);
	free(text);
	free(cause);
}

int ui_act(struct ui_console *c, enum ui_action a)
{
	struct av_plan plan;
	memset(&plan, 0, sizeof(plan));
	int r = plan_for(c, a, &plan);
	if (r > 0)
		return UI_HANDLED | UI_REDRAW;
	if (r < 0) {
		ui_console_status(c, "Cannot plan this: %s", strerror(-r));
		ui_console_log(c, UI_TONE_BAD, "planning failed: %s", strerror(-r));
		return UI_HANDLED | UI_REDRAW;
	}
	struct ui_rows body;
	ui_rows_init(&body);
	plan_rows(&plan, &body);
	const char *title = plan.title ? plan.title : "plan";
	int flags = UI_HANDLED | UI_REDRAW;
	if (plan.n_refusals > 0) {
		/* As on the command line: a plan with refusals does not run. */
		ui_rows_blank(&body);
		ui_rows_add(&body, UI_TONE_BAD, "Nothing was changed.%s",
		            c->cli->force ? "" : " (amdvirt --force overrides refusals that allow it.)");
		ui_console_log(c, UI_TONE_BAD, "%s: refused", title);
		for (int i = 0; i < plan.n_refusals; i++)
			ui_console_log(c, UI_TONE_BAD, "  refused: %s", plan.refusals[i]);
		ui_dialog(c, "Refused", &body, "Enter/q close", "\n");
	} else if (plan.n_steps == 0) {
		ui_console_log(c, UI_TONE_NORMAL, "%s: nothing to do", title);
		ui_dialog(c, title, &body, "Enter/q close", "\n");
	} else {
		ui_rows_blank(&body);
		ui_rows_add(&body, UI_TONE_TITLE, "Run these %d steps now?", plan.n_steps);
		int key = ui_dialog(c, "Plan", &body, "y run   n cancel", "yn");
		if (key == 'y') {
			execute(c, &plan);
			flags |= UI_RESCAN | UI_RECHECK;
		} else {
			ui_console_log(c, UI_TONE_NORMAL, "%s: cancelled", title);
			ui_console_status(c, "Cancelled: nothing was changed.");
		}
	}
	ui_rows_clear(&body);
	av_plan_clear(&plan);
	return flags;
}
