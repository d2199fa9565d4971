/* amdvirt bind / unbind (contract section 1, issue 4). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd_actions.h"

/* Prints or runs a plan: the part every action command shares. */
int av_cli_run_plan(struct av_cli *cli, const struct av_plan *p)
{
	if (cli->dry_run) {
		av_plan_print(stdout, p);
		for (int i = 0; i < p->n_refusals; i++)
			fprintf(stderr, "amdvirt: refused: %s\n", p->refusals[i]);
		return p->n_refusals ? AV_EXIT_FAIL : AV_EXIT_OK;
	}
	if (p->n_refusals) {
		for (int i = 0; i < p->n_refusals; i++)
			fprintf(stderr, "amdvirt: refused: %s\n", p->refusals[i]);
		return AV_EXIT_FAIL;
	}
	if (!cli->quiet) {
		printf("%s\n", p->title);
		for (int i = 0; i < p->n_notes; i++)
			printf("  note: %s\n", p->notes[i]);
		if (!p->n_steps)
			printf("  nothing to do\n");
	}
	char *cause = NULL;
	int r = av_plan_execute(cli->host, p, cli->quiet ? NULL : stdout, &cause);
	fflush(stdout);
	if (r < 0) {
		fprintf(stderr, "amdvirt: %s\n", cause ? cause : "failed");
		free(cause);
		return AV_EXIT_FAIL;
	}
	if (!cli->quiet && p->n_steps)
		printf("done\n");
	return AV_EXIT_OK;
}

int av_cmd_bind(struct av_cli *cli, bool bind)
{
	const char *verb = bind ? "bind" : "unbind";
	if (!cli->all && cli->n_args == 0) {
		fprintf(stderr, "amdvirt %s: name functions (DDDD:BB:DD.F ...) or use --all\n", verb);
		return AV_EXIT_USAGE;
	}
	struct av_model m;
	int rc = av_cli_discover(cli, &m);
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
		rc = av_cli_run_plan(cli, &p);
		av_plan_clear(&p);
	}
	av_model_free(&m);
	return rc;
}
