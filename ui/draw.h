/* Drawing helpers shared by the frame and the dialogs. */
#ifndef UI_DRAW_H
#define UI_DRAW_H

#include "layout.h"
#include "rows.h"
#include "state.h"
#include "term.h"

/* The whole frame, no refresh of its own. */
void ui_draw(struct ui_console *c);

/* Writes text at (y, x) clipped to w display columns, padded with blanks
 * to w when pad.  Returns the columns used. */
int ui_put(int y, int x, int w, const char *text, int attr, bool pad);
/* A box with a title in its top border. */
void ui_box(const struct ui_term *t, const struct ui_rect *r, const char *title);
/* Rows in rect from row top; sel (or -1) is highlighted. */
void ui_draw_rows(const struct ui_term *t, const struct ui_rect *r, const struct ui_rows *rows, int top,
                  int sel);

#endif
