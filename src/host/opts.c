#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/opts.h"
#include "host/discover.h"
#include "base/textsafe.h"
#include "base/util.h"

/* --resource-naming, else the DeviceConfig's (devconfig.c: AMD's
 * devicePluginArguments.resource_naming_strategy, or spec.amdvirt's in a
 * file), else single. */
enum av_naming av_opts_naming(const struct av_opts *o)
{
	enum av_naming n = AV_NAMING_SINGLE;
	if (o->naming_set)
		return o->naming;
	if (o->config.resource_naming)
		av_naming_parse(o->config.resource_naming, &n);
	return n;
}

/* The hive record keeps what amdgpu shows before a bind or gim takes the
 * GPUs from it, so the commands that change drivers write it (and the
 * daemon, at start).  Inspecting a host (list, check, labels, a dry run,
 * the read-only console) writes nothing to it.  The demo's copy lives
 * for one run, and its hive is described in the record it ships with. */
bool av_opts_records_hives(const struct av_opts *o)
{
	static const char *const changing[] = { "bind", "unbind", "gim", "console" };
	if (o->demo || o->dry_run || o->readonly || !o->command)
		return false;
	for (size_t i = 0; i < sizeof(changing) / sizeof(changing[0]); i++)
		if (strcmp(o->command, changing[i]) == 0)
			return true;
	return false;
}

void av_opts_discover_opts(const struct av_opts *o, struct av_discover_opts *opts)
{
	*opts = (struct av_discover_opts){
		.config = o->config.present ? &o->config : NULL,
		.pcidb = o->pcidb,
		.forced_mode_set = o->forced_mode_set,
		.forced_mode = o->forced_mode,
		.record_hives = av_opts_records_hives(o),
	};
}

char *av_opts_demo_root(void)
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

int av_opts_discover(struct av_opts *o, struct av_model *model)
{
	char *cause = NULL;

	memset(model, 0, sizeof(*model));
	if (!o->host) {
		o->host = av_host_open(o->root, &cause);
		if (!o->host) {
			fprintf(stderr, "amdvirt: cannot open host root %s\n", cause ? cause : o->root);
			free(cause);
			return AV_EXIT_USAGE;
		}
	}
	if (!o->pcidb) {
		o->pcidb = av_pcidb_open(o->host, &cause);
		if (!o->pcidb) {
			/* Names are a comfort, not a requirement. */
			fprintf(stderr, "amdvirt: %s; continuing without pci.ids names\n", cause ? cause : "libpci");
			free(cause);
			cause = NULL;
		}
	}
	struct av_discover_opts opts;
	av_opts_discover_opts(o, &opts);
	int r = av_discover(o->host, &opts, model);
	if (r < 0) {
		char path[PATH_MAX];
		fprintf(stderr, "amdvirt: %s: %s (is this a Linux host root with sysfs?)\n",
		        av_host_path(o->host, "/sys/bus/pci/devices", path, sizeof(path)), strerror(-r));
		return AV_EXIT_USAGE;
	}
	for (int i = 0; i < model->n_diags; i++)
		fprintf(stderr, "amdvirt: %s\n", AV_SAFE(model->diags[i].msg));
	if (model->mode_warning)
		fprintf(stderr, "amdvirt: warning: %s\n", AV_SAFE(model->mode_warning));
	return AV_EXIT_OK;
}
