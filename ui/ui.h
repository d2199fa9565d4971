/* The console: what the command line calls when it is given no command
 * on a terminal. */
#ifndef AV_UI_H
#define AV_UI_H

#include "host/opts.h"

/* Runs the console until the user quits.  Returns an exit code. */
int av_cmd_console(struct av_opts *opts);

#endif
