#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "list.h"

int av_cmd_list(struct av_cli *cli)
{
	struct av_model m;
	struct av_resources res;
	int rc = av_cli_discover(cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	if (av_resources_compute(&m, av_cli_naming(cli), &res) < 0) {
		fprintf(stderr, "amdvirt: out of memory\n");
		av_model_free(&m);
		return AV_EXIT_USAGE;
	}
	if (cli->json) {
		cJSON *doc = av_list_json(&m, &res);
		char *text = doc ? cJSON_Print(doc) : NULL;
		if (text)
			printf("%s\n", text);
		else
			fprintf(stderr, "amdvirt: out of memory\n");
		free(text);
		cJSON_Delete(doc);
		rc = text ? AV_EXIT_OK : AV_EXIT_USAGE;
	} else {
		av_list_text(stdout, &m, &res, isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	}
	av_resources_clear(&res);
	av_model_free(&m);
	if (fflush(stdout) != 0)
		rc = AV_EXIT_USAGE;
	return rc;
}
