/* amdvirt kubevirt-config: the KubeVirt CR merge patch that permits the
 * GPU functions this host offers (kubevirt-integration: HostDevices gate and
 * permittedHostDevices.pciHostDevices with an external resource provider);
 * with --apply, the CR on the API server brought to permit them, every
 * other gate and entry kept. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "labels/kubevirt.h"
#include "k8s/kubevirt.h"
#include "agent/labeller.h"
#include "base/textsafe.h"

static int fail(char *cause, int rc)
{
	fprintf(stderr, "amdvirt: kubevirt-config: %s\n", cause ? cause : "out of memory");
	free(cause);
	return rc;
}

/* The host's model, in a passthrough mode with devices; else an exit code. */
static int discover(struct av_opts *cli, struct av_model *m)
{
	int rc = av_opts_discover(cli, m);
	if (rc != AV_EXIT_OK)
		return rc;
	if (!av_kubevirt_mode_ok(m)) {
		fprintf(stderr, "amdvirt: kubevirt-config: this host is in %s mode; KubeVirt passthrough "
		        "needs vf-passthrough or pf-passthrough (see --driver-type)\n", av_mode_name(m->mode));
		return AV_EXIT_FAIL;
	}
	if (!av_kubevirt_has_devices(m)) {
		fprintf(stderr, "amdvirt: kubevirt-config: no GPU function is selected on this host\n");
		return AV_EXIT_FAIL;
	}
	return AV_EXIT_OK;
}

static int print_patch(struct av_opts *cli)
{
	struct av_model m;
	int rc = discover(cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	cJSON *patch = av_kubevirt_patch(&m, av_resource_name(m.mode, av_opts_naming(cli)));
	char *text = patch ? cJSON_Print(patch) : NULL;
	cJSON_Delete(patch);
	if (text)
		printf("%s\n", text);
	else
		fprintf(stderr, "amdvirt: out of memory\n");
	free(text);
	av_model_free(&m);
	if (!text || fflush(stdout) != 0)
		return AV_EXIT_USAGE;
	return AV_EXIT_OK;
}

static void print_list(const char *name, const char *when, const cJSON *list)
{
	printf("%s %s:\n", name, when);
	if (cJSON_GetArraySize(list) == 0)
		printf("  (none)\n");
	const cJSON *e;
	cJSON_ArrayForEach(e, list) {
		char *t = av_json_print(e, false);
		printf("  %s\n", t ? t : "?");
		free(t);
	}
}

static void print_text(const struct av_kubevirt_ref *ref, const struct av_kubevirt_apply *res, bool dry_run)
{
	const struct av_kubevirt_merge *mg = &res->merge;
	bool changed = mg->gates_changed || mg->pci_changed;
	if (!changed)
		printf("kubevirt %s/%s: up to date\n", ref->ns, ref->name);
	else if (dry_run)
		printf("kubevirt %s/%s: %d change%s to make (dry run: nothing sent)\n", ref->ns, ref->name,
		       mg->n_changes, mg->n_changes == 1 ? "" : "s");
	else
		printf("kubevirt %s/%s: %d change%s applied\n", ref->ns, ref->name, mg->n_changes,
		       mg->n_changes == 1 ? "" : "s");
	for (int i = 0; i < mg->n_changes; i++)
		printf("  %s\n", AV_SAFE(mg->changes[i]));
	if (dry_run) {
		print_list("featureGates", "before", mg->gates_before);
		print_list("featureGates", "after", mg->gates_after);
		print_list("pciHostDevices", "before", mg->pci_before);
		print_list("pciHostDevices", "after", mg->pci_after);
	}
}

static cJSON *strings(char **lines, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; a && i < n; i++) {
		cJSON *s = cJSON_CreateString(lines[i]);
		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static cJSON *before_after(const cJSON *before, const cJSON *after)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *b = cJSON_Duplicate(before, 1), *a = cJSON_Duplicate(after, 1);
	if (!o || !b || !cJSON_AddItemToObject(o, "before", b)) {
		cJSON_Delete(b);
		cJSON_Delete(a);
		cJSON_Delete(o);
		return NULL;
	}
	if (!a || !cJSON_AddItemToObject(o, "after", a)) {
		cJSON_Delete(a);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int print_json(const struct av_kubevirt_ref *ref, const struct av_kubevirt_apply *res, bool dry_run)
{
	const struct av_kubevirt_merge *mg = &res->merge;
	char name[400];
	snprintf(name, sizeof(name), "%s/%s", ref->ns, ref->name);
	cJSON *o = cJSON_CreateObject();
	bool ok = o && cJSON_AddStringToObject(o, "kubevirt", name)
	          && cJSON_AddStringToObject(o, "resourceVersion", res->resource_version)
	          && cJSON_AddBoolToObject(o, "dryRun", dry_run)
	          && cJSON_AddBoolToObject(o, "changed", mg->gates_changed || mg->pci_changed)
	          && cJSON_AddBoolToObject(o, "patched", res->patched)
	          && cJSON_AddNumberToObject(o, "conflicts", res->conflicts);
	const char *keys[] = { "changes", "notes", "featureGates", "pciHostDevices" };
	cJSON *items[] = { strings(mg->changes, mg->n_changes), strings(mg->notes, mg->n_notes),
	                   before_after(mg->gates_before, mg->gates_after),
	                   before_after(mg->pci_before, mg->pci_after) };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (ok && items[i] && cJSON_AddItemToObject(o, keys[i], items[i]))
			continue;
		ok = false;
		cJSON_Delete(items[i]);
	}
	if (!ok) {
		cJSON_Delete(o);
		o = NULL;
	}
	return av_cli_print_json(o);
}

static int apply(struct av_opts *cli, const struct av_kubevirt_ref *ref)
{
	struct av_model m;
	struct av_kubevirt_apply res;
	char *cause = NULL;
	char sel[AV_KUBEVIRT_MAX_IDS][10];
	int rc = discover(cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	int n_sel = av_kubevirt_selectors(&m, sel, AV_KUBEVIRT_MAX_IDS);
	const char *resource = av_resource_name(m.mode, av_opts_naming(cli));
	struct av_k8s *k = av_labeller_client(cli->host, cli->kubeconfig, &cause);
	av_model_free(&m);
	if (!k)
		return fail(cause, AV_EXIT_USAGE);
	int r = av_k8s_kubevirt_apply(k, ref, sel, n_sel, resource, cli->dry_run, &res, &cause);
	av_k8s_free(k);
	if (r < 0) {
		av_kubevirt_apply_clear(&res);
		return fail(cause, r == -ENOMEM ? AV_EXIT_USAGE : AV_EXIT_FAIL);
	}
	for (int i = 0; i < res.merge.n_notes; i++)
		fprintf(stderr, "amdvirt: kubevirt %s/%s: %s\n", ref->ns, ref->name, AV_SAFE(res.merge.notes[i]));
	if (cli->json) {
		rc = print_json(ref, &res, cli->dry_run);
	} else {
		print_text(ref, &res, cli->dry_run);
		rc = AV_EXIT_OK;
	}
	av_kubevirt_apply_clear(&res);
	if (fflush(stdout) != 0)
		rc = AV_EXIT_USAGE;
	return rc;
}

int av_cmd_kubevirt_config(struct av_opts *cli)
{
	struct av_kubevirt_ref ref;
	char *cause = NULL;

	if (cli->n_args > 0) {
		fprintf(stderr, "amdvirt: kubevirt-config: unexpected argument '%s'\n", cli->args[0]);
		return AV_EXIT_USAGE;
	}
	if (!cli->apply) {
		/* Without --apply nothing is read from or sent to the API
		 * server: an option that only makes sense there is a mistake. */
		if (cli->dry_run || cli->kubevirt)
			return fail(strdup(cli->dry_run ? "--dry-run goes with --apply" : "--kubevirt goes with --apply"),
			            AV_EXIT_USAGE);
		return print_patch(cli);
	}
	if (av_kubevirt_ref_parse(cli->kubevirt, &ref, &cause) < 0)
		return fail(cause, AV_EXIT_USAGE);
	/* The host is opened first so the in-cluster files are read under ROOT. */
	if (!cli->host && !(cli->host = av_host_open(cli->root, &cause))) {
		fprintf(stderr, "amdvirt: cannot open host root %s\n", cause ? cause : cli->root);
		free(cause);
		return AV_EXIT_USAGE;
	}
	return apply(cli, &ref);
}
