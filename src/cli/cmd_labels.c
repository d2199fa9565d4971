/* amdvirt labels [--json] [--apply]: the labels this host should carry,
 * printed, or applied once to this node. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "k8s/names.h"
#include "agent/labeller.h"
#include "base/textsafe.h"

static int fail(char *cause, int rc)
{
	fprintf(stderr, "amdvirt: %s\n", cause ? cause : "out of memory");
	free(cause);
	return rc;
}

static int print_labels(const struct av_labels *l, bool json)
{
	if (!json) {
		for (int i = 0; i < l->n; i++)
			printf("%s=%s\n", l->items[i].key, l->items[i].value);
		return AV_EXIT_OK;
	}
	cJSON *obj = cJSON_CreateObject();
	for (int i = 0; obj && i < l->n; i++)
		if (!cJSON_AddStringToObject(obj, l->items[i].key, l->items[i].value))
			break;
	char *text = obj ? av_json_print(obj, true) : NULL;
	cJSON_Delete(obj);
	if (!text)
		return fail(NULL, AV_EXIT_USAGE);
	printf("%s\n", text);
	free(text);
	return AV_EXIT_OK;
}

static int print_result(const char *node, const struct av_apply_result *res, bool json)
{
	if (!json) {
		if (!res->patch)
			printf("node %s: labels up to date\n", node);
		else
			printf("node %s: %d label%s set, %d removed\n", node, res->n_set,
			       res->n_set == 1 ? "" : "s", res->n_removed);
		return AV_EXIT_OK;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON *patch = res->patch ? cJSON_Parse(res->patch) : cJSON_CreateNull();
	if (o && patch) {
		cJSON_AddStringToObject(o, "node", node);
		cJSON_AddBoolToObject(o, "patched", res->patch != NULL);
		cJSON_AddNumberToObject(o, "set", res->n_set);
		cJSON_AddNumberToObject(o, "removed", res->n_removed);
		cJSON_AddItemToObject(o, "patch", patch);
		patch = NULL;
	}
	char *text = o ? av_json_print(o, true) : NULL;
	cJSON_Delete(o);
	cJSON_Delete(patch);
	if (!text)
		return fail(NULL, AV_EXIT_USAGE);
	printf("%s\n", text);
	free(text);
	return AV_EXIT_OK;
}

static int apply(struct av_opts *cli, struct av_k8s *k, const struct av_model *m)
{
	const char *node = av_k8s_node_name(cli->node_name);
	struct av_apply_result res;
	char *cause = NULL;
	int r = av_labeller_sync(k, node, cli->host, m, &res, &cause);
	if (r < 0) {
		av_apply_result_clear(&res);
		return fail(cause, r == -ENOMEM ? AV_EXIT_USAGE : AV_EXIT_FAIL);
	}
	int rc = print_result(node, &res, cli->json);
	av_apply_result_clear(&res);
	return rc;
}

static int run(struct av_opts *cli, struct av_k8s *k)
{
	struct av_model m;
	int rc = AV_EXIT_OK;

	if ((rc = av_opts_discover(cli, &m)) != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	if (cli->apply) {
		rc = apply(cli, k, &m);
	} else {
		struct av_labels labels;
		if (av_labeller_labels(cli->host, &m, &labels) < 0) {
			rc = fail(NULL, AV_EXIT_USAGE);
		} else {
			for (int i = 0; i < labels.n_notes; i++)
				fprintf(stderr, "amdvirt: %s\n", AV_SAFE(labels.notes[i]));
			rc = print_labels(&labels, cli->json);
			av_labels_clear(&labels);
		}
	}
	av_model_free(&m);
	return rc;
}

int av_cmd_labels(struct av_opts *cli)
{
	struct av_k8s *k = NULL;
	char *cause = NULL;

	if (cli->n_args > 0) {
		fprintf(stderr, "amdvirt: labels: unexpected argument '%s'\n", cli->args[0]);
		return AV_EXIT_USAGE;
	}
	const char *node = NULL;
	if (cli->apply && av_k8s_node_name_check(cli->node_name, &node, &cause) < 0)
		return fail(cause, AV_EXIT_USAGE);
	if (cli->apply && !node) {
		fprintf(stderr, "amdvirt: labels --apply: which node? give --node-name or set NODE_NAME\n");
		return AV_EXIT_USAGE;
	}
	/* The host is opened first so the in-cluster files are read under ROOT. */
	if (!cli->host && !(cli->host = av_host_open(cli->root, &cause))) {
		fprintf(stderr, "amdvirt: cannot open host root %s\n", cause ? cause : cli->root);
		free(cause);
		return AV_EXIT_USAGE;
	}
	if (cli->apply && !(k = av_labeller_client(cli->host, cli->kubeconfig, &cause)))
		return fail(cause, AV_EXIT_USAGE);
	int rc = run(cli, k);
	av_k8s_free(k);
	if (fflush(stdout) != 0)
		rc = AV_EXIT_USAGE;
	return rc;
}
