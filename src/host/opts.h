/* The options of one run, as the command line parsed them: the plain
 * struct the commands, the node agent and the console share, with the
 * host it opens.  Below them all, so that none reaches up to the command
 * line for it. */
#ifndef AV_OPTS_H
#define AV_OPTS_H

#include <stdbool.h>

#include "host/devconfig.h"
#include "host/host.h"
#include "host/model.h"
#include "host/pcidb.h"
#include "host/resources.h"

/* Exit codes (contract section 1). */
enum { AV_EXIT_OK = 0, AV_EXIT_FAIL = 1, AV_EXIT_USAGE = 2 };

struct av_opts {
	const char *root;            /* --root, or the demo directory */
	bool demo;
	bool json;
	bool quiet;
	bool all;                    /* bind/unbind/check --all */
	bool dry_run;
	bool force;
	bool guest;                  /* check --guest */
	bool readonly;               /* console --readonly */
	bool apply;                  /* labels --apply */
	bool forced_mode_set;
	enum av_mode forced_mode;
	enum av_naming naming;
	bool naming_set;
	const char *config_path;
	const char *kubeconfig;
	const char *node_name;
	const char *deviceconfig;    /* NS/NAME */
	const char *kubevirt;        /* kubevirt-config --apply: the KubeVirt CR, NS/NAME */
	const char *module_path;     /* gim load --module-path */
	char **params;               /* --param NAME=VALUE */
	int n_params;
	int resync_seconds;          /* daemon --resync */
	bool bind_after_load;        /* gim load --bind */
	bool dra;                    /* daemon --dra: the DRA driver, not the device plugin */

	const char *command;         /* NULL: console (or list when not a tty) */
	char **args;                 /* positional arguments after the command */
	int n_args;

	struct av_config config;
	struct av_host *host;
	struct av_pcidb *pcidb;
};

/* Opens the host and libpci and builds the model with o->config (which
 * src/k8s/deviceconfig.c's av_k8s_config_resolve fills from --config or
 * --deviceconfig before any command runs), printing diagnostics to stderr.  Returns an exit code (AV_EXIT_OK on success). */
int av_opts_discover(struct av_opts *o, struct av_model *model);
/* The discovery options the command line asks for. */
struct av_discover_opts;
void av_opts_discover_opts(const struct av_opts *o, struct av_discover_opts *opts);
/* Whether this command writes ROOT/var/lib/amdvirt/hives.json: only those
 * that change drivers do, never a dry run or the demo. */
bool av_opts_records_hives(const struct av_opts *o);
/* The demo host: AMDVIRT_DEMO_DIR, else demo/ next to the binary (a build
 * tree), else the installed one.  Allocated; the path may not exist. */
char *av_opts_demo_root(void);
/* The resource naming in force: --resource-naming, else the DeviceConfig's
 * resource_naming_strategy (or spec.amdvirt.resourceNaming in a file). */
enum av_naming av_opts_naming(const struct av_opts *o);

#endif
