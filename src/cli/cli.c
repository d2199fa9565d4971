#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "host/discover.h"
#include "base/textsafe.h"
#include "base/util.h"

enum av_naming av_cli_naming(const struct av_cli *cli)
{
	enum av_naming n = AV_NAMING_SINGLE;
	if (cli->naming_set)
		return cli->naming;
	if (cli->config.resource_naming)
		av_naming_parse(cli->config.resource_naming, &n);
	return n;
}

/* The hive record keeps what amdgpu shows before a bind or gim takes the
 * GPUs from it, so the commands that change drivers write it (and the
 * daemon, at start).  Inspecting a host (list, check, labels, a dry run,
 * the read-only console) writes nothing to it.  The demo tree is shared
 * (and installed read-only). */
bool av_cli_records_hives(const struct av_cli *cli)
{
	static const char *const changing[] = { "bind", "unbind", "gim", "console" };
	if (cli->demo || cli->dry_run || cli->readonly || !cli->command)
		return false;
	for (size_t i = 0; i < sizeof(changing) / sizeof(changing[0]); i++)
		if (strcmp(cli->command, changing[i]) == 0)
			return true;
	return false;
}

void av_cli_discover_opts(const struct av_cli *cli, struct av_discover_opts *opts)
{
	*opts = (struct av_discover_opts){
		.config = cli->config.present ? &cli->config : NULL,
		.pcidb = cli->pcidb,
		.forced_mode_set = cli->forced_mode_set,
		.forced_mode = cli->forced_mode,
		.record_hives = av_cli_records_hives(cli),
	};
}

char *av_cli_demo_root(void)
{
	const char *env = getenv("AMDVIRT_DEMO_DIR");
	if (env && *env)
		return strdup(env);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *built = av_strdup_printf("%s/demo", dirname(exe));
		if (built && access(built, F_OK) == 0)
			return built;
		free(built);
	}
	return strdup(AV_PKGDATADIR "/demo");
}

int av_cli_discover(struct av_cli *cli, struct av_model *model)
{
	char *cause = NULL;

	memset(model, 0, sizeof(*model));
	if (!cli->host) {
		cli->host = av_host_open(cli->root, &cause);
		if (!cli->host) {
			fprintf(stderr, "amdvirt: cannot open host root %s\n", cause ? cause : cli->root);
			free(cause);
			return AV_EXIT_USAGE;
		}
	}
	if (cli->config_path && !cli->config.present) {
		if (av_config_load(&cli->config, cli->config_path, &cause) < 0) {
			fprintf(stderr, "amdvirt: %s\n", cause ? cause : cli->config_path);
			free(cause);
			return AV_EXIT_USAGE;
		}
	}
	if (!cli->pcidb) {
		cli->pcidb = av_pcidb_open(cli->host, &cause);
		if (!cli->pcidb) {
			/* Names are a comfort, not a requirement. */
			fprintf(stderr, "amdvirt: %s; continuing without pci.ids names\n", cause ? cause : "libpci");
			free(cause);
			cause = NULL;
		}
	}
	struct av_discover_opts opts;
	av_cli_discover_opts(cli, &opts);
	int r = av_discover(cli->host, &opts, model);
	if (r < 0) {
		char path[PATH_MAX];
		fprintf(stderr, "amdvirt: %s: %s (is this a Linux host root with sysfs?)\n",
		        av_host_path(cli->host, "/sys/bus/pci/devices", path, sizeof(path)), strerror(-r));
		return AV_EXIT_USAGE;
	}
	for (int i = 0; i < model->n_diags; i++)
		fprintf(stderr, "amdvirt: %s\n", AV_SAFE(model->diags[i].msg));
	if (model->mode_warning)
		fprintf(stderr, "amdvirt: warning: %s\n", AV_SAFE(model->mode_warning));
	return AV_EXIT_OK;
}

int av_cli_print_json(cJSON *doc)
{
	char *text = doc ? av_json_print(doc, true) : NULL;
	cJSON_Delete(doc);
	if (!text) {
		fprintf(stderr, "amdvirt: out of memory\n");
		return AV_EXIT_USAGE;
	}
	printf("%s\n", text);
	free(text);
	return fflush(stdout) == 0 ? AV_EXIT_OK : AV_EXIT_USAGE;
}

bool av_cli_colour(void)
{
	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
}
