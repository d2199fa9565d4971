/* Command-line state shared by the commands (contract section 1). */
#ifndef AV_CLI_H
#define AV_CLI_H

#include <stdbool.h>

#include "host/devconfig.h"
#include "host/host.h"
#include "host/model.h"
#include "host/pcidb.h"
#include "host/resources.h"

/* Exit codes (contract section 1). */
enum { AV_EXIT_OK = 0, AV_EXIT_FAIL = 1, AV_EXIT_USAGE = 2 };

struct av_cli {
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
	const char *module_path;     /* gim load --module-path */
	char **params;               /* --param NAME=VALUE */
	int n_params;
	int resync_seconds;          /* daemon --resync */
	bool bind_after_load;        /* gim load --bind */

	const char *command;         /* NULL: console (or list when not a tty) */
	char **args;                 /* positional arguments after the command */
	int n_args;

	struct av_config config;
	struct av_host *host;
	struct av_pcidb *pcidb;
};

/* Opens the host, the config and libpci and builds the model, printing
 * diagnostics to stderr.  Returns an exit code (AV_EXIT_OK on success). */
int av_cli_discover(struct av_cli *cli, struct av_model *model);
/* The discovery options the command line asks for. */
struct av_discover_opts;
void av_cli_discover_opts(const struct av_cli *cli, struct av_discover_opts *opts);
/* Whether this command writes ROOT/var/lib/amdvirt/hives.json: only those
 * that change drivers do, never a dry run or the demo. */
bool av_cli_records_hives(const struct av_cli *cli);
/* The demo host: AMDVIRT_DEMO_DIR, else demo/ next to the binary (a build
 * tree), else the installed one.  Allocated; the path may not exist. */
char *av_cli_demo_root(void);
/* The resource naming in force: --resource-naming, else spec.amdvirt.resourceNaming. */
enum av_naming av_cli_naming(const struct av_cli *cli);

/* Prints a JSON document on stdout and frees it (NULL counts as out of
 * memory).  Returns AV_EXIT_OK, or AV_EXIT_USAGE with a line on stderr. */
struct cJSON;
int av_cli_print_json(struct cJSON *doc);
/* Colour for people: stdout is a terminal and NO_COLOR is not set. */
bool av_cli_colour(void);

/* Commands: each returns an exit code. */
int av_cmd_list(struct av_cli *cli);
int av_cmd_check(struct av_cli *cli);
int av_cmd_bind(struct av_cli *cli, bool bind);
int av_cmd_gim(struct av_cli *cli);
int av_cmd_labels(struct av_cli *cli);
int av_cmd_kubevirt_config(struct av_cli *cli);
int av_cmd_daemon(struct av_cli *cli);
int av_cmd_console(struct av_cli *cli);

#endif
