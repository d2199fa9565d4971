/* Which options each command uses: an option a command would ignore is a
 * usage error, like an unknown one, not a silent no-op. */
#ifndef AV_CLI_OPTUSE_H
#define AV_CLI_OPTUSE_H

#include <stdbool.h>

/* Options given, by long name (as in main.c's option table). */
struct av_optuse {
	unsigned long long seen;
	const char *unlisted;   /* an option given that the table does not know */
};

/* Notes that the option with this long name (or 'q' for -q) was given.
 * A name the table does not know (an option added to main.c alone) is
 * refused by av_optuse_check for every command, so that it cannot slip
 * through unchecked; the command spellings --check and --daemon, --help and
 * --version are no command's option and pass. */
void av_optuse_note(struct av_optuse *u, const char *name);
/* Whether command uses option name (a long name).  Unknown names: false. */
bool av_optuse_accepts(const char *command, const char *name);
/* Checks every option given against command's list.  Returns 0, or -1
 * after one line on stderr: "amdvirt: list: --apply is not an option of
 * list". */
int av_optuse_check(const struct av_optuse *u, const char *command);

#endif
