/* amdvirt check: host prerequisites (doc/checks.md). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checks/checks.h"
#include "checks/report.h"
#include "cli/cli.h"
#include "agent/labeller.h"
#include "cluster/checks.h"
#include "cluster/kubelet.h"
#include "k8s/names.h"

/* cluster.*: kubelet's and the API server's view of this host, when the
 * host has a kubelet or API access is configured (doc/checks.md). */
static int cluster_checks(struct av_opts *cli, struct av_model *m, struct av_check_report *rep)
{
	struct av_resources res;
	struct av_labels labels = { 0 };
	struct av_cluster_facts facts = { 0 };
	char *cause = NULL;
	int r = av_resources_compute(m, av_opts_naming(cli), &res);

	if (r < 0)
		return r;
	r = av_cluster_holders(cli->host, m, &res, true, &cause);
	free(cause);
	if (r == 0 && av_cluster_checks_wanted(m, cli->kubeconfig)) {
		r = av_labeller_labels(cli->host, m, &labels);
		if (r == 0)
			r = av_cluster_facts_gather(cli->host, cli->kubeconfig, av_k8s_node_name(cli->node_name),
			                            NULL, &facts);
		if (r == 0)
			r = av_cluster_checks_run(m, &res, &labels, &facts, rep);
		av_cluster_facts_clear(&facts);
		av_labels_clear(&labels);
	}
	av_resources_clear(&res);
	return r;
}

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
	if (!cli->guest && cluster_checks(cli, &m, &rep) < 0) {
		fprintf(stderr, "amdvirt: out of memory\n");
		av_check_report_clear(&rep);
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
