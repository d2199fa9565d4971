/* The panels: one per screen, each handles the keys of its screen. */
#ifndef UI_SCREENS_H
#define UI_SCREENS_H

#include "state.h"

/* A key on the current screen.  Returns enum ui_flags. */
int ui_panel_key(struct ui_console *c, int key);

#endif
