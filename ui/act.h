/* The host-changing actions the panels start (bind, unbind, ...). */
#ifndef UI_ACT_H
#define UI_ACT_H

#include "state.h"

/* Runs action a on the selection.  Returns enum ui_flags. */
int ui_act(struct ui_console *c, enum ui_action a);

#endif
