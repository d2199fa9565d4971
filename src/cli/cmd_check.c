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

/* The devices' holders (kubelet's pod-resources API, one walk of
 * ROOT/proc), read before the catalogue so that device.in-use reads the
 * same walk. */
static int holders(struct av_opts *cli, struct av_model *m, struct av_resources *res)
{
	char *cause = NULL;
	int r = av_resources_compute(m, av_opts_naming(cli), res);

	if (r < 0)
		return r;
	r = av_cluster_holders(cli->host, m, res, true, &cause);
	free(cause);
	return r;
}

/* cluster.*: kubelet's and the API server's view of this host, when the
 * host has a kubelet or API access is configured (doc/checks.md). */
static int cluster_checks(struct av_opts *cli, struct av_model *m, const struct av_resources *res,
                          struct av_check_report *rep)
{
	struct av_labels labels = { 0 };
	struct av_cluster_facts facts = { 0 };
	int r = 0;

	if (av_cluster_checks_wanted(m, cli->kubeconfig)) {
		r = av_labeller_labels(cli->host, m, &labels);
		if (r == 0)
			r = av_cluster_facts_gather(cli->host, cli->kubeconfig, av_k8s_node_name(cli->node_name),
			                            NULL, &facts);
		if (r == 0)
			r = av_cluster_checks_run(m, res, &labels, &facts, rep);
		av_cluster_facts_clear(&facts);
		av_labels_clear(&labels);
	}
	return r;
}

int av_cmd_check(struct av_opts *cli)
{
	struct av_model m;
	struct av_resources res = { 0 };
	int rc = av_opts_discover(cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	struct av_check_opts opts = { .all = cli->all, .guest = cli->guest };
	struct av_check_report rep = { 0 };
	if ((!cli->guest && holders(cli, &m, &res) < 0) || av_checks_run(cli->host, cli->pcidb, &m, &opts, &rep) < 0
	    || (!cli->guest && cluster_checks(cli, &m, &res, &rep) < 0)) {
		fprintf(stderr, "amdvirt: out of memory\n");
		av_check_report_clear(&rep);
		av_resources_clear(&res);
		av_model_free(&m);
		return AV_EXIT_USAGE;
	}
	av_resources_clear(&res);
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
