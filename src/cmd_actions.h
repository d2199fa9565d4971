/* Shared by the action commands (bind, unbind, gim). */
#ifndef AV_CMD_ACTIONS_H
#define AV_CMD_ACTIONS_H

#include "actions.h"
#include "cli.h"

/* --dry-run prints the plan; otherwise refusals go to stderr, or the plan
 * runs with its progress on stdout.  Returns an exit code. */
int av_cli_run_plan(struct av_cli *cli, const struct av_plan *p);

#endif
