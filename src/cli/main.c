/* amdvirt: command line (contract section 1). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/optuse.h"
#include "k8s/deviceconfig.h"
#include "ui/ui.h"
#include "base/util.h"
#include "sim/demo.h"

struct command {
	const char *name;
	int (*run)(struct av_opts *cli);
	bool takes_args;     /* positional arguments after the command */
};

static int run_bind(struct av_opts *cli) { return av_cmd_bind(cli, true); }
static int run_unbind(struct av_opts *cli) { return av_cmd_bind(cli, false); }

static const struct command commands[] = {
	{ "list", av_cmd_list, false },
	{ "check", av_cmd_check, false },
	{ "console", av_cmd_console, false },
	{ "daemon", av_cmd_daemon, false },
	{ "labels", av_cmd_labels, false },
	{ "kubevirt-config", av_cmd_kubevirt_config, false },
	{ "bind", run_bind, true },
	{ "unbind", run_unbind, true },
	{ "gim", av_cmd_gim, true },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: amdvirt [OPTIONS] [COMMAND [ARGS]]\n"
		"\n"
		"Prepare and keep an AMD Instinct GPU host ready for KubeVirt passthrough.\n"
		"\n"
		"Commands:\n"
		"  (none)              the console; on a non-terminal stdout, the same as list\n"
		"  list                GPUs, VFs, IOMMU groups, hives, drivers, resources\n"
		"  check               host prerequisites (also --check)\n"
		"  bind [BDF...]       bind functions (and their IOMMU groups) to vfio-pci\n"
		"  unbind [BDF...]     restore the driver recorded before bind\n"
		"  gim load|unload     load or unload the GIM driver\n"
		"  labels              node labels this host should carry\n"
		"  kubevirt-config     the KubeVirt CR patch enabling these devices\n"
		"  daemon              the node agent (also --daemon)\n"
		"\n"
		"Options:\n"
		"  --root DIR             host root prefix for every host path (default /)\n"
		"  --demo                 the bundled demo host, on a fresh copy with a simulated kernel\n"
		"  --driver-type MODE     container | vf-passthrough | pf-passthrough (default: detect)\n"
		"  --config FILE          node configuration (DeviceConfig YAML or JSON)\n"
		"  --resource-naming N    single | mixed\n"
		"  --json                 machine-readable output on stdout\n"
		"  -q, --quiet            print only what is not passing\n"
		"  --all, --dry-run, --force   bind/unbind/check options\n"
		"  --apply                labels: bring this node's labels on the API server to them;\n"
		"                         kubevirt-config: bring the KubeVirt CR to permit these devices\n"
		"                         (with --dry-run: show the change, send nothing)\n"
		"  --kubevirt NS/NAME     kubevirt-config --apply: the KubeVirt CR (default kubevirt/kubevirt)\n"
		"  --kubeconfig FILE      --deviceconfig, --apply, daemon: API access (default: $KUBECONFIG,\n"
		"                         then in-cluster)\n"
		"  --node-name NAME       labels --apply, daemon: this node (default: $NODE_NAME)\n"
		"  --deviceconfig NS/NAME the DeviceConfig from the API server instead of --config\n"
		"  --resync SECONDS       daemon: re-read the host and the labels (default 60)\n"
		"  --dra                  daemon: serve the GPUs as a DRA driver (gpu.amdvirt.io)\n"
		"                         instead of the device plugin\n"
		"  -h, --help             this text;  --version  the version\n"
		"\n"
		"Environment: NODE_NAME, KUBECONFIG, AMDVIRT_API_TIMEOUT (seconds per API request),\n"
		"AMDVIRT_EXEC_TIMEOUT (seconds for a kubeconfig's exec credential plugin),\n"
		"AMDVIRT_DEBUG (daemon: a line per Allocate).\n"
		"\n"
		"Exit status: 0 success, 1 a check or action failed, 2 usage error or cannot run.\n");
}

enum {
	OPT_ROOT = 256, OPT_DEMO, OPT_DRIVER_TYPE, OPT_CONFIG, OPT_JSON, OPT_VERSION, OPT_CHECK,
	OPT_DAEMON, OPT_ALL, OPT_DRY_RUN, OPT_FORCE, OPT_GUEST, OPT_READONLY, OPT_APPLY, OPT_NAMING,
	OPT_KUBECONFIG, OPT_NODE_NAME, OPT_DEVICECONFIG, OPT_PARAM, OPT_MODULE_PATH, OPT_BIND, OPT_RESYNC,
	OPT_KUBEVIRT,
	OPT_DRA,
};

static const struct option options[] = {
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "demo", no_argument, NULL, OPT_DEMO },
	{ "driver-type", required_argument, NULL, OPT_DRIVER_TYPE },
	{ "driver_type", required_argument, NULL, OPT_DRIVER_TYPE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "daemon", no_argument, NULL, OPT_DAEMON },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "guest", no_argument, NULL, OPT_GUEST },
	{ "readonly", no_argument, NULL, OPT_READONLY },
	{ "apply", no_argument, NULL, OPT_APPLY },
	{ "resource-naming", required_argument, NULL, OPT_NAMING },
	{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
	{ "node-name", required_argument, NULL, OPT_NODE_NAME },
	{ "deviceconfig", required_argument, NULL, OPT_DEVICECONFIG },
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "module-path", required_argument, NULL, OPT_MODULE_PATH },
	{ "bind", no_argument, NULL, OPT_BIND },
	{ "resync", required_argument, NULL, OPT_RESYNC },
	{ "kubevirt", required_argument, NULL, OPT_KUBEVIRT },
	{ "dra", no_argument, NULL, OPT_DRA },
	{ NULL, 0, NULL, 0 },
};

static int set_command(struct av_opts *cli, const char *name)
{
	if (cli->command && strcmp(cli->command, name) != 0) {
		fprintf(stderr, "amdvirt: two commands given: %s and %s\n", cli->command, name);
		return -1;
	}
	cli->command = name;
	return 0;
}

static int parse(struct av_opts *cli, struct av_optuse *used, int argc, char **argv)
{
	int c, li = -1;
	long v;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", options, &li)) != -1) {
		av_optuse_note(used, c == 'q' ? "q" : li >= 0 && c != '?' ? options[li].name : NULL);
		li = -1;
		switch (c) {
		case OPT_ROOT: cli->root = optarg; break;
		case OPT_DEMO: cli->demo = true; break;
		case OPT_DRIVER_TYPE:
			if (av_mode_parse(optarg, &cli->forced_mode) < 0) {
				fprintf(stderr, "amdvirt: --driver-type '%s': use container, vf-passthrough or pf-passthrough\n",
				        optarg);
				return -1;
			}
			cli->forced_mode_set = true;
			break;
		case OPT_CONFIG: cli->config_path = optarg; break;
		case OPT_JSON: cli->json = true; break;
		case 'q': cli->quiet = true; break;
		case 'h': usage(stdout); exit(AV_EXIT_OK);
		case OPT_VERSION: printf("amdvirt %s\n", PACKAGE_VERSION); exit(AV_EXIT_OK);
		case OPT_CHECK: if (set_command(cli, "check") < 0) return -1; break;
		case OPT_DAEMON: if (set_command(cli, "daemon") < 0) return -1; break;
		case OPT_ALL: cli->all = true; break;
		case OPT_DRY_RUN: cli->dry_run = true; break;
		case OPT_FORCE: cli->force = true; break;
		case OPT_GUEST: cli->guest = true; break;
		case OPT_READONLY: cli->readonly = true; break;
		case OPT_APPLY: cli->apply = true; break;
		case OPT_NAMING:
			if (av_naming_parse(optarg, &cli->naming) < 0) {
				fprintf(stderr, "amdvirt: --resource-naming '%s': use single or mixed\n", optarg);
				return -1;
			}
			cli->naming_set = true;
			break;
		case OPT_KUBECONFIG: cli->kubeconfig = optarg; break;
		case OPT_NODE_NAME: cli->node_name = optarg; break;
		case OPT_DEVICECONFIG: cli->deviceconfig = optarg; break;
		case OPT_KUBEVIRT: cli->kubevirt = optarg; break;
		case OPT_PARAM: {
			char **p = realloc(cli->params, ((size_t)cli->n_params + 1) * sizeof(char *));
			if (!p || !strchr(optarg, '=')) {
				free(p ? p : cli->params);
				cli->params = NULL;
				fprintf(stderr, "amdvirt: --param '%s': use NAME=VALUE\n", optarg);
				return -1;
			}
			cli->params = p;
			cli->params[cli->n_params++] = optarg;
			break;
		}
		case OPT_MODULE_PATH: cli->module_path = optarg; break;
		case OPT_BIND: cli->bind_after_load = true; break;
		case OPT_DRA: cli->dra = true; break;
		case OPT_RESYNC:
			if (av_parse_long(optarg, 10, &v) < 0 || v < 1 || v > 86400) {
				fprintf(stderr, "amdvirt: --resync '%s': seconds between 1 and 86400\n", optarg);
				return -1;
			}
			cli->resync_seconds = (int)v;
			break;
		default:
			/* optopt holds a short option's letter; for long ones the
			 * word itself is the clearest name. */
			if (optopt > 0 && optopt < 128)
				fprintf(stderr, "amdvirt: -%c: unknown option or missing argument\n", optopt);
			else
				fprintf(stderr, "amdvirt: %s: unknown option or missing argument\n", argv[optind - 1]);
			fprintf(stderr, "Try 'amdvirt --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		if (!cli->command)
			cli->command = argv[optind++];
		else if (strcmp(argv[optind], cli->command) == 0)
			optind++;
	}
	cli->args = argv + optind;
	cli->n_args = argc - optind;
	return 0;
}

int main(int argc, char **argv)
{
	struct av_opts cli = { .root = "/", .resync_seconds = 60 };
	struct av_optuse used = { 0 };
	char *demo = NULL;
	struct sim_demo *sim = NULL;
	int rc;

	av_config_clear(&cli.config);
	if (parse(&cli, &used, argc, argv) < 0) {
		free(cli.params);
		return AV_EXIT_USAGE;
	}
	if (cli.demo) {
		char *cause = NULL;
		demo = av_opts_demo_root();
		sim = demo ? sim_demo_open(demo, &cli.host, &cause) : NULL;
		if (!sim) {
			fprintf(stderr, "amdvirt: cannot open the demo host: %s\n", cause ? cause : "no memory");
			free(cause);
			free(demo);
			free(cli.params);
			return AV_EXIT_USAGE;
		}
		cli.root = sim_demo_root(sim);
	}
	if (!cli.command) /* the console needs a terminal to draw on and read keys from */
		cli.command = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) ? "console" : "list";

	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, cli.command) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "amdvirt: %s: unknown command (try 'amdvirt --help')\n", cli.command);
		rc = AV_EXIT_USAGE;
	} else if (!cmd->takes_args && cli.n_args > 0) {
		fprintf(stderr, "amdvirt: %s takes no arguments (got '%s')\n", cli.command, cli.args[0]);
		rc = AV_EXIT_USAGE;
	} else if (av_optuse_check(&used, cli.command) < 0) {
		rc = AV_EXIT_USAGE;
	} else if ((rc = av_k8s_config_resolve(&cli)) == AV_EXIT_OK) {
		rc = cmd->run(&cli);
	}

	av_pcidb_free(cli.pcidb);
	sim_demo_close(sim);
	av_host_free(cli.host);
	av_config_clear(&cli.config);
	free(cli.params);
	free(demo);
	return rc;
}
