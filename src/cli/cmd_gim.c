/* amdvirt gim load|unload (contract section 1, issue 4). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cmd_actions.h"

/* The VFs exist only once gim made them, so they are planned afresh. */
static int bind_new_vfs(struct av_opts *cli, cJSON *report)
{
	struct av_model m;
	int rc = av_opts_discover(cli, &m);
	if (rc == AV_EXIT_OK) {
		struct av_action_opts o = { .all = true, .force = cli->force, .host = cli->host };
		struct av_plan p;
		if (av_plan_bind(&m, NULL, 0, &o, &p) < 0) {
			fprintf(stderr, "amdvirt gim: out of memory\n");
			rc = AV_EXIT_FAIL;
		} else {
			cJSON *sub = report ? cJSON_AddObjectToObject(report, "bind") : NULL;
			rc = av_cli_run_plan(cli, &p, sub);
			av_plan_clear(&p);
		}
	}
	av_model_free(&m);
	return rc;
}

int av_cmd_gim(struct av_opts *cli)
{
	bool load = cli->n_args == 1 && strcmp(cli->args[0], "load") == 0;
	if (cli->n_args != 1 || (!load && strcmp(cli->args[0], "unload") != 0)) {
		fprintf(stderr, "amdvirt gim: use 'gim load [--param NAME=VALUE...] [--module-path FILE.ko] [--bind]' "
		                "or 'gim unload'\n");
		return 2;
	}
	struct av_model m;
	int rc = av_opts_discover(cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	struct av_action_opts o = {
		.force = cli->force, .host = cli->host, .module_path = cli->module_path,
		.params = (const char *const *)cli->params, .n_params = cli->n_params,
		.bind_after_load = cli->bind_after_load, .expect_version = cli->config.version,
	};
	struct av_plan p;
	int r = load ? av_plan_gim_load(&m, &o, &p) : av_plan_gim_unload(&m, &o, &p);
	av_model_free(&m);
	if (r < 0) {
		fprintf(stderr, "amdvirt gim: out of memory\n");
		return AV_EXIT_FAIL;
	}
	cJSON *report = av_cli_action_report(cli, load ? "gim-load" : "gim-unload");
	rc = av_cli_run_plan(cli, &p, report);
	av_plan_clear(&p);
	if (rc == AV_EXIT_OK && load && cli->bind_after_load && !cli->dry_run)
		rc = bind_new_vfs(cli, report);
	return av_cli_finish_report(report, rc);
}
