/* amdvirt check: host prerequisites (doc/checks.md). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checks/checks.h"
#include "checks/report.h"
#include "cli/cli.h"

int av_cmd_check(struct av_opts *cli)
{
	struct av_model m;
	int rc = av_opts_discover(cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	struct av_check_opts opts = { .all = cli->all, .guest = cli->guest };
	struct av_check_report rep;
	if (av_checks_run(cli->host, cli->pcidb, &m, &opts, &rep) < 0) {
		fprintf(stderr, "amdvirt: out of memory\n");
		av_model_free(&m);
		return AV_EXIT_USAGE;
	}
	const char *mode = cli->guest ? "guest" : av_mode_name(m.mode);
	if (cli->json)
		rc = av_cli_print_json(av_check_report_json(&rep, mode));
	else
		av_check_report_text(stdout, &rep, mode, cli->quiet, av_cli_colour());
	if (rc == AV_EXIT_OK && rep.worst == AV_CHECK_FAIL)
		rc = AV_EXIT_FAIL;
	av_check_report_clear(&rep);
	av_model_free(&m);
	if (fflush(stdout) != 0)
		rc = AV_EXIT_USAGE;
	return rc;
}
