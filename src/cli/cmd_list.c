#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/list.h"
#include "cluster/kubelet.h"
#include "dra/names.h"
#include "host/draclaims.h"

/* "dra": the DRA driver's record (doc/dra.md), only on a node where
 * `daemon --dra` ran. */
static cJSON *with_dra(struct av_opts *cli, cJSON *root)
{
	struct av_dra_claims rec;
	char *cause = NULL;
	if (!root)
		return NULL;
	if (av_dra_claims_load(cli->host, &rec, &cause) < 0) {
		fprintf(stderr, "amdvirt: %s\n", cause ? cause : "out of memory");
		free(cause);
		return root;
	}
	cJSON *dra = rec.present ? av_dra_claims_json(&rec) : NULL;
	if (dra) {
		cJSON_AddStringToObject(dra, "driver", AV_DRA_DRIVER);
		cJSON_AddItemToObject(root, "dra", dra);
	}
	av_dra_claims_clear(&rec);
	return root;
}

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
		rc = av_cli_print_json(with_dra(cli, av_list_json(&m, &res)));
	else
		av_list_text(stdout, &m, &res, av_cli_colour());
	av_resources_clear(&res);
	av_model_free(&m);
	if (fflush(stdout) != 0)
		rc = AV_EXIT_USAGE;
	return rc;
}
