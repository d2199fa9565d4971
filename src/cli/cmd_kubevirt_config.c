/* amdvirt kubevirt-config: the KubeVirt CR merge patch that permits the
 * GPU functions this host offers (kubevirt-integration: HostDevices gate and
 * permittedHostDevices.pciHostDevices with an external resource provider). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "labels/kubevirt.h"

int av_cmd_kubevirt_config(struct av_opts *cli)
{
	struct av_model m;
	if (cli->n_args > 0) {
		fprintf(stderr, "amdvirt: kubevirt-config: unexpected argument '%s'\n", cli->args[0]);
		return AV_EXIT_USAGE;
	}
	int rc = av_opts_discover(cli, &m);
	if (rc != AV_EXIT_OK) {
		av_model_free(&m);
		return rc;
	}
	if (!av_kubevirt_mode_ok(&m)) {
		fprintf(stderr, "amdvirt: kubevirt-config: this host is in %s mode; KubeVirt passthrough "
		        "needs vf-passthrough or pf-passthrough (see --driver-type)\n", av_mode_name(m.mode));
		av_model_free(&m);
		return AV_EXIT_FAIL;
	}
	if (!av_kubevirt_has_devices(&m)) {
		fprintf(stderr, "amdvirt: kubevirt-config: no GPU function is selected on this host\n");
		av_model_free(&m);
		return AV_EXIT_FAIL;
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
