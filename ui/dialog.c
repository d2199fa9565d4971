/* Modal windows: plans before they run, results after, details, help, and
 * the search prompt.  They run their own small key loop but redraw the
 * frame underneath on every turn, so a resize inside a dialog is handled. */
#include "config.h"

#include <curses.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dialog.h"
#include "draw.h"
#include "layout.h"

static int widest(const struct ui_rows *body, const char *title, const char *buttons)
{
	int w = (int)strlen(title) + 4;
	if ((int)strlen(buttons) > w)
		w = (int)strlen(buttons);
	for (int i = 0; i < body->n; i++) {
		int n = (int)strlen(body->v[i].text) + (body->v[i].depth ? 4 : 1);
		if (n > w)
			w = n;
	}
	return w;
}

/* Waits for a key, at most 250 ms, so that signals are noticed. */
static int wait_key(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	int key = ui_term_key();
	if (key >= 0)
		return key;
	poll(&p, 1, 250);
	return ui_term_key();
}

int ui_dialog(struct ui_console *c, const char *title, const struct ui_rows *body, const char *buttons,
              const char *keys)
{
	int top = 0;
	for (;;) {
		int rows, cols;
		struct ui_rect r;
		ui_draw(c);
		getmaxyx(stdscr, rows, cols);
		ui_layout_dialog(rows, cols, body->n, widest(body, title, buttons), &r);
		ui_box(&c->term, &r, title);
		struct ui_rect in = { r.y + 1, r.x + 1, r.h - 4, r.w - 2 };
		if (in.h < 0)
			in.h = 0;
		int max_top = body->n > in.h ? body->n - in.h : 0;
		if (top > max_top)
			top = max_top;
		ui_draw_rows(&c->term, &in, body, top, -1);
		char more[32] = "";
		if (max_top > 0)
			snprintf(more, sizeof(more), " %d-%d/%d ", top + 1, top + in.h, body->n);
		ui_put(r.y + r.h - 2, r.x + 2, r.w - 4, buttons, A_BOLD, false);
		if (more[0])
			ui_put(r.y + r.h - 1, r.x + r.w - 2 - (int)strlen(more), (int)strlen(more), more,
			       c->term.attr[UI_TONE_DIM], false);
		refresh();

		int key = wait_key();
		if (ui_term_quit_requested())
			return -1;
		if (key < 0 || key == UI_KEY_RESIZE)
			continue;
		if (key == UI_KEY_ENTER && strchr(keys, '\n'))
			return '\n';
		if (key < 0x80 && key > 0 && strchr(keys, key))
			return key;
		switch (key) {
		case UI_KEY_UP: case 'k': top = top > 0 ? top - 1 : 0; break;
		case UI_KEY_DOWN: case 'j': top++; break;
		case UI_KEY_PGUP: top = top > in.h ? top - in.h : 0; break;
		case UI_KEY_PGDN: case ' ': top += in.h; break;
		case UI_KEY_HOME: case 'g': top = 0; break;
		case UI_KEY_END: case 'G': top = max_top; break;
		case UI_KEY_ESC: case 'q': case UI_KEY_F10:
			return 'q';
		default: break;
		}
	}
}

bool ui_prompt(struct ui_console *c, const char *label, char *buf, int size)
{
	int len = (int)strlen(buf);
	curs_set(1);
	for (;;) {
		int rows, cols;
		char line[256];
		ui_draw(c);
		getmaxyx(stdscr, rows, cols);
		snprintf(line, sizeof(line), "%s%s", label, buf);
		ui_put(rows - 1, 0, cols, line, A_BOLD, true);
		move(rows - 1, (int)strlen(line) < cols ? (int)strlen(line) : cols - 1);
		refresh();
		int key = wait_key();
		if (ui_term_quit_requested()) {
			curs_set(0);
			return false;
		}
		if (key == UI_KEY_ENTER)
			break;
		if (key == UI_KEY_ESC) {
			curs_set(0);
			return false;
		}
		if (key == UI_KEY_BACKSPACE && len > 0)
			buf[--len] = '\0';
		else if (key >= 0x20 && key < 0x7f && len < size - 1) {
			buf[len++] = (char)key;
			buf[len] = '\0';
		}
	}
	curs_set(0);
	return true;
}

void ui_help(struct ui_console *c)
{
	struct ui_rows body;
	int n;
	const struct ui_binding *b = ui_keys_table(&n);
	ui_rows_init(&body);
	if (c->cli->demo) {
		ui_rows_heading(&body, "The demo host");
		ui_rows_add(&body, UI_TONE_NORMAL, "A copy of a bundled host with a simulated kernel: every action runs for");
		ui_rows_add(&body, UI_TONE_NORMAL, "real on the copy, which is gone when you quit (q).");
		ui_rows_blank(&body);
	}
	ui_rows_heading(&body, "The screens (keys 1-6, Tab)");
	ui_rows_add(&body, UI_TONE_NORMAL, "1 Devices  GPUs (PFs) and their VFs, driver and state; details below");
	ui_rows_add(&body, UI_TONE_NORMAL, "2 Groups   IOMMU groups and every member: a group moves as one");
	ui_rows_add(&body, UI_TONE_NORMAL, "3 Hives    XGMI hives: GPUs that must go to a VM together");
	ui_rows_add(&body, UI_TONE_NORMAL, "4 Checks   what the host still needs (as amdvirt check)");
	ui_rows_add(&body, UI_TONE_NORMAL, "5 Node     mode, the amd.com/gpu resource, labels, the KubeVirt patch");
	ui_rows_add(&body, UI_TONE_NORMAL, "6 Log      what was done and what the host said");
	ui_rows_blank(&body);
	ui_rows_heading(&body, "Bind a VF (or PF) to vfio-pci for KubeVirt");
	ui_rows_add(&body, UI_TONE_NORMAL, "1  on Devices, move to the function (arrows or j/k)");
	ui_rows_add(&body, UI_TONE_NORMAL, "2  press b: the exact plan is shown, nothing runs yet");
	ui_rows_add(&body, UI_TONE_NORMAL, "3  press y to run it (n cancels); the result stays on the Log screen");
	ui_rows_add(&body, UI_TONE_NORMAL, "A whole IOMMU group moves together: that is what vfio hands to a VM.");
	ui_rows_blank(&body);
	ui_rows_heading(&body, "Colours and states");
	ui_rows_add(&body, UI_TONE_GOOD, "ready / in use / hosts VFs   as the mode wants it");
	ui_rows_add(&body, UI_TONE_WARN, "not bound / unbound          needs an action (b binds)");
	ui_rows_add(&body, UI_TONE_BAD, "group blocked / NOT viable   another group member is on a host driver");
	ui_rows_add(&body, UI_TONE_DIM, "not selected                 not a target of the mode or config");
	ui_rows_blank(&body);
	ui_rows_heading(&body, "Keys");
	for (int i = 0; i < n; i++) {
		if (!b[i].label || !b[i].help)
			continue;
		if (ui_action_mutates(b[i].action) && c->readonly)
			continue;
		ui_rows_add(&body, UI_TONE_NORMAL, "%-14s %s", b[i].label, b[i].help);
	}
	if (c->readonly)
		ui_rows_add(&body, UI_TONE_WARN, "Started with --readonly: actions are disabled.");
	ui_dialog(c, "Help", &body, "Esc/q close   arrows scroll", "");
	ui_rows_clear(&body);
}
