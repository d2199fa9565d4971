/* amdvirt bind / unbind (contract section 1, issue 4). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "actions/sigdefer.h"
#include "cli/cmd_actions.h"

static void print_refusals(const struct av_plan *p)
{
	for (int i = 0; i < p->n_refusals; i++)
		fprintf(stderr, "amdvirt: refused: %s\n", p->refusals[i]);
}

/* The outcome in the words of doc/json.md. */
static void report_result(cJSON *report, const char *result, const char *error)
{
	if (!report)
		return;
	cJSON_AddStringToObject(report, "result", result);
	if (error)
		cJSON_AddStringToObject(report, "error", error);
	else
		cJSON_AddNullToObject(report, "error");
}

/* Prints or runs a plan: the part every action command shares.  With a
 * report (--json) the plan and its outcome go there and stdout stays free
 * for the document; refusals and failures still get their line on stderr. */
int av_cli_run_plan(struct av_opts *cli, const struct av_plan *p, cJSON *report)
{
	if (report) {
		av_plan_add_json(report, p);
		cJSON_AddBoolToObject(report, "dry_run", cli->dry_run);
	}
	if (p->n_refusals) {
		if (!report && cli->dry_run)
			av_plan_print(stdout, p);
		print_refusals(p);
		report_result(report, "refused", NULL);
		return AV_EXIT_FAIL;
	}
	if (cli->dry_run) {
		if (!report)
			av_plan_print(stdout, p);
		report_result(report, p->n_steps ? "planned" : "nothing-to-do", NULL);
		return AV_EXIT_OK;
	}
	bool talk = !cli->quiet && !report;
	if (talk) {
		printf("%s\n", p->title);
		for (int i = 0; i < p->n_notes; i++)
			printf("  note: %s\n", p->notes[i]);
		if (!p->n_steps)
			printf("  nothing to do\n");
	}
	char *cause = NULL;
	/* A Ctrl-C during the plan waits for it (av_plan_execute), and here
	 * also for the line that says how it ended. */
	struct av_sigdefer defer;
	av_sigdefer_begin(&defer);
	int r = av_plan_execute(cli->host, p, talk ? stdout : NULL, &cause);
	fflush(stdout);
	if (r < 0) {
		fprintf(stderr, "amdvirt: %s\n", cause ? cause : "failed");
		report_result(report, "failed", cause ? cause : "failed");
		free(cause);
	} else {
		if (talk && p->n_steps)
			printf("done\n");
		report_result(report, p->n_steps ? "done" : "nothing-to-do", NULL);
	}
	fflush(stdout);
	av_sigdefer_end(&defer);
	return r < 0 ? AV_EXIT_FAIL : AV_EXIT_OK;
}

/* --json: one document on stdout whatever happened. */
cJSON *av_cli_action_report(const struct av_opts *cli, const char *action)
{
	if (!cli->json)
		return NULL;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "action", action);
	return r;
}

int av_cli_finish_report(cJSON *report, int rc)
{
	if (!report)
		return rc;
	int prc = av_cli_print_json(report);
	return rc != AV_EXIT_OK ? rc : prc;
}

int av_cmd_bind(struct av_opts *cli, bool bind)
{
	const char *verb = bind ? "bind" : "unbind";
	if (!cli->all && cli->n_args == 0) {
		fprintf(stderr, "amdvirt %s: name functions (DDDD:BB:DD.F ...) or use --all\n", verb);
		return AV_EXIT_USAGE;
	}
	struct av_model m;
	int rc = av_opts_discover(cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	struct av_action_opts o = { .all = cli->all, .force = cli->force, .host = cli->host };
	struct av_plan p;
	const char *const *args = (const char *const *)cli->args;
	int r = bind ? av_plan_bind(&m, args, cli->n_args, &o, &p)
	             : av_plan_unbind(&m, cli->host, args, cli->n_args, &o, &p);
	if (r < 0) {
		fprintf(stderr, "amdvirt %s: out of memory\n", verb);
		rc = AV_EXIT_FAIL;
	} else {
		cJSON *report = av_cli_action_report(cli, verb);
		rc = av_cli_finish_report(report, av_cli_run_plan(cli, &p, report));
		av_plan_clear(&p);
	}
	av_model_free(&m);
	return rc;
}
