/* `amdvirt daemon` (also `--daemon`). */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"
#include "agent/daemon.h"

int av_cmd_daemon(struct av_opts *cli)
{
	if (cli->n_args > 0) {
		fprintf(stderr, "amdvirt: daemon: unexpected argument '%s'\n", cli->args[0]);
		return AV_EXIT_USAGE;
	}
	return av_daemon_run(cli);
}
