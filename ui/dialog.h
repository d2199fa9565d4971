/* Modal windows and prompts over the frame. */
#ifndef UI_DIALOG_H
#define UI_DIALOG_H

#include <stdbool.h>

#include "rows.h"
#include "state.h"

/* A modal window over the frame.  keys: the characters that close it and
 * are returned ("yn"); Esc and q return 'q' when not listed, Enter returns
 * '\n' when listed.  Returns -1 when a signal asked to quit. */
int ui_dialog(struct ui_console *c, const char *title, const struct ui_rows *body, const char *buttons,
              const char *keys);
/* Reads a line on the key bar (search).  Returns false on Esc. */
bool ui_prompt(struct ui_console *c, const char *label, char *buf, int size);
void ui_help(struct ui_console *c);

#endif
