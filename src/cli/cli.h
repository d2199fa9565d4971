/* Command-line state shared by the commands (contract section 1). */
#ifndef AV_CLI_H
#define AV_CLI_H

#include <stdbool.h>

#include "host/opts.h"

/* Prints a JSON document on stdout and frees it (NULL counts as out of
 * memory).  Returns AV_EXIT_OK, or AV_EXIT_USAGE with a line on stderr. */
struct cJSON;
int av_cli_print_json(struct cJSON *doc);
/* Colour for people: stdout is a terminal and NO_COLOR is not set. */
bool av_cli_colour(void);

/* Commands: each returns an exit code. */
int av_cmd_list(struct av_opts *cli);
int av_cmd_check(struct av_opts *cli);
int av_cmd_bind(struct av_opts *cli, bool bind);
int av_cmd_gim(struct av_opts *cli);
int av_cmd_labels(struct av_opts *cli);
int av_cmd_kubevirt_config(struct av_opts *cli);
int av_cmd_daemon(struct av_opts *cli);

#endif
