/* Shared by the action commands (bind, unbind, gim). */
#ifndef AV_CMD_ACTIONS_H
#define AV_CMD_ACTIONS_H

#include "actions/actions.h"
#include "cli/cli.h"

struct cJSON;

/* --dry-run prints the plan; otherwise refusals go to stderr, or the plan
 * runs with its progress on stdout.  With a report (--json) the plan and
 * its result are added to it instead of printed.  Returns an exit code. */
int av_cli_run_plan(struct av_opts *cli, const struct av_plan *p, struct cJSON *report);

/* The --json document of an action ("action": ACTION), NULL without --json. */
struct cJSON *av_cli_action_report(const struct av_opts *cli, const char *action);

/* Prints and frees the report, if any; returns rc, or the print's failure. */
int av_cli_finish_report(struct cJSON *report, int rc);

#endif
