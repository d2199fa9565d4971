#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/list.h"
#include "cluster/kubelet.h"

int av_cmd_list(struct av_opts *cli)
{
	struct av_model m;
	struct av_resources res;
	int rc = av_opts_discover(cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	if (av_resources_compute(&m, av_opts_naming(cli), &res) < 0) {
		fprintf(stderr, "amdvirt: out of memory\n");
		av_model_free(&m);
		return AV_EXIT_USAGE;
	}
	/* Who holds each device: an unreachable kubelet costs one line, the
	 * rest of the listing is the same. */
	char *cause = NULL;
	if (av_cluster_holders(cli->host, &m, &res, false, &cause) < 0)
		fprintf(stderr, "amdvirt: out of memory reading the devices' holders\n");
	if (cause)
		fprintf(stderr, "amdvirt: %s\n", cause);
	free(cause);
	if (cli->json)
		rc = av_cli_print_json(av_list_json(&m, &res));
	else
		av_list_text(stdout, &m, &res, av_cli_colour());
	av_resources_clear(&res);
	av_model_free(&m);
	if (fflush(stdout) != 0)
		rc = AV_EXIT_USAGE;
	return rc;
}
