/* The frame: header, screen tabs, list (with sticky column heads), detail
 * pane and key bar.  Everything is drawn into curses' virtual screen after
 * erase() and sent with one refresh, so curses transmits only what changed
 * and the screen never flickers. */
#include "config.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "build.h"
#include "state.h"
#include "draw.h"
#include "layout.h"

int ui_put(int y, int x, int w, const char *text, int attr, bool pad)
{
	int used = 0;
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	attron(attr);
	move(y, x);
	const char *p = text ? text : "";
	while (*p && used < w) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, p, MB_CUR_MAX, &st);
		if (n == (size_t)-1 || n == (size_t)-2) {
			/* Not text in this locale: show a placeholder, carry on. */
			memset(&st, 0, sizeof(st));
			addch('?');
			used++;
			p++;
			continue;
		}
		int cw = wcwidth(wc);
		if (cw < 0)
			cw = 1;
		if (used + cw > w)
			break;
		addnstr(p, (int)n);
		used += cw;
		p += n;
	}
	if (pad)
		for (; used < w; used++)
			addch(' ');
	attroff(attr);
	return used;
}

void ui_box(const struct ui_term *t, const struct ui_rect *r, const char *title)
{
	if (r->h < 2 || r->w < 2)
		return;
	for (int x = 1; x < r->w - 1; x++) {
		mvaddstr(r->y, r->x + x, t->g.hline);
		mvaddstr(r->y + r->h - 1, r->x + x, t->g.hline);
	}
	for (int y = 1; y < r->h - 1; y++) {
		mvaddstr(r->y + y, r->x, t->g.vline);
		ui_put(r->y + y, r->x + 1, r->w - 2, "", A_NORMAL, true);
		mvaddstr(r->y + y, r->x + r->w - 1, t->g.vline);
	}
	mvaddstr(r->y, r->x, t->g.tl);
	mvaddstr(r->y, r->x + r->w - 1, t->g.tr);
	mvaddstr(r->y + r->h - 1, r->x, t->g.bl);
	mvaddstr(r->y + r->h - 1, r->x + r->w - 1, t->g.br);
	if (title && r->w > 6) {
		char buf[256];
		snprintf(buf, sizeof(buf), " %s ", title);
		ui_put(r->y, r->x + 2, r->w - 4, buf, t->title_attr, false);
	}
}

void ui_draw_rows(const struct ui_term *t, const struct ui_rect *r, const struct ui_rows *rows, int top,
                  int sel)
{
	for (int y = 0; y < r->h; y++) {
		int i = top + y;
		if (i < 0 || i >= rows->n) {
			ui_put(r->y + y, r->x, r->w, "", A_NORMAL, true);
			continue;
		}
		const struct ui_row *row = &rows->v[i];
		int attr = i == sel ? t->sel_attr : t->attr[row->tone];
		int x = 0;
		ui_put(r->y + y, r->x, r->w, "", i == sel ? attr : (int)A_NORMAL, true);
		if (row->depth > 0 && r->w > 4) {
			x += ui_put(r->y + y, r->x, 1, " ", attr, false);
			x += ui_put(r->y + y, r->x + x, 3, row->last ? t->g.elbow : t->g.tee,
			            i == sel ? attr : t->attr[UI_TONE_DIM], false);
		} else {
			x += ui_put(r->y + y, r->x, 1, " ", attr, false);
		}
		ui_put(r->y + y, r->x + x, r->w - x, row->text, attr, i == sel);
	}
}

static const char *worst_name(const struct ui_console *c, int *attr)
{
	if (!c->checks_ran) {
		*attr = c->term.attr[UI_TONE_DIM];
		return "not run";
	}
	static char buf[64];
	const struct av_check_report *r = &c->checks;
	if (r->counts[AV_CHECK_FAIL] || r->counts[AV_CHECK_WARN]) {
		snprintf(buf, sizeof(buf), "%d FAIL, %d WARN", r->counts[AV_CHECK_FAIL], r->counts[AV_CHECK_WARN]);
		*attr = c->term.attr[r->counts[AV_CHECK_FAIL] ? UI_TONE_BAD : UI_TONE_WARN];
	} else {
		snprintf(buf, sizeof(buf), "ok (0 fail, 0 warn)");
		*attr = c->term.attr[UI_TONE_GOOD];
	}
	return buf;
}

/* The header's first line, laid out by priority at width w: the checks
 * summary (right) and the mode come first; the host's name and the other
 * details shorten, then go, as the terminal narrows (80 columns keeps
 * everything that matters). */
struct head {
	char title[16], host[160], mode[96], iommu[16], mixed[16];
};

/* Level 0 shows everything; each level gives up the least useful part
 * left: the demo's host name, the title, the mode's source, "IOMMU on"
 * (never OFF), then the host's name and the demo's marker shorten. */
#define HEAD_LEVELS 6

static void head_at(const struct ui_console *c, int level, struct head *h)
{
	const struct av_model *m = &c->model;
	const char *name = m->hostname ? m->hostname : "?";
	const char *ro = c->readonly ? (level >= 5 ? " [ro]" : " [read-only]") : "";
	snprintf(h->title, sizeof(h->title), "%s", level >= 2 ? "" : " amdvirt ");
	if (c->cli->demo)
		snprintf(h->host, sizeof(h->host), " %s%s%s ", level == 0 ? name : "", level == 0 ? "  " : "",
		         level >= 6 ? "demo" : level >= 5 ? "demo (simulated)" : "demo host (simulated kernel)");
	else if (level >= 6)
		h->host[0] = '\0';
	else
		snprintf(h->host, sizeof(h->host), " %.*s ", level >= 4 ? 12 : 120, name);
	if (h->host[0] && ro[0]) {
		size_t n = strlen(h->host);
		snprintf(h->host + n - 1, sizeof(h->host) - n + 1, "%s ", ro);
	}
	if (level >= 3)
		snprintf(h->mode, sizeof(h->mode), " %s ", av_mode_name(m->mode));
	else
		snprintf(h->mode, sizeof(h->mode), " mode %s (%s) ", av_mode_name(m->mode), av_mode_source_name(m->mode_source));
	if (level >= 4 && m->iommu_enabled)
		h->iommu[0] = '\0';
	else
		snprintf(h->iommu, sizeof(h->iommu), " IOMMU %s ", m->iommu_enabled ? "on" : "OFF");
	snprintf(h->mixed, sizeof(h->mixed), "%s", !m->mode_warning ? "" : level >= 3 ? " mixed " : " mixed host ");
}

static int head_width(const struct head *h)
{
	return (int)(strlen(h->title) + strlen(h->host) + strlen(h->mode) + strlen(h->iommu) + strlen(h->mixed));
}

static void draw_header(struct ui_console *c, const struct ui_rect *r)
{
	const struct av_model *m = &c->model;
	char buf[512];
	int x = 0;
	int wattr;
	const char *worst = worst_name(c, &wattr);
	snprintf(buf, sizeof(buf), " checks %s ", worst);
	int cw = (int)strlen(buf);
	struct head h;
	int level = 0;
	for (head_at(c, level, &h); level < HEAD_LEVELS && head_width(&h) + cw > r->w; head_at(c, ++level, &h))
		;
	ui_put(r->y, r->w - cw > 0 ? r->w - cw : 0, cw, buf, wattr, false);
	int room = r->w - cw;
	x += ui_put(r->y, x, room - x, h.title, A_BOLD, false);
	x += ui_put(r->y, x, room - x, h.host, A_BOLD, false);
	x += ui_put(r->y, x, room - x, h.mode, c->term.attr[m->mode == AV_MODE_NONE ? UI_TONE_WARN : UI_TONE_TITLE], false);
	x += ui_put(r->y, x, room - x, h.iommu, c->term.attr[m->iommu_enabled ? UI_TONE_GOOD : UI_TONE_BAD], false);
	if (h.mixed[0])
		ui_put(r->y, x, room - x, h.mixed, c->term.attr[UI_TONE_WARN], false);

	int vfs = 0, not_viable = 0, bound = 0, selected = 0;
	for (int i = 0; i < m->n_funcs; i++) {
		vfs += m->funcs[i].role == AV_ROLE_VF;
		selected += m->funcs[i].selected;
		bound += m->funcs[i].selected && av_func_on(&m->funcs[i], "vfio-pci");
	}
	for (int i = 0; i < m->n_groups; i++)
		not_viable += !m->groups[i].viable && ui_group_tone(m, &m->groups[i]) == UI_TONE_BAD;
	x = 0;
	snprintf(buf, sizeof(buf), " %d GPU%s, %d VF%s  %d groups, %d blocked  %d hive%s  ", m->n_gpus,
	         m->n_gpus == 1 ? "" : "s", vfs, vfs == 1 ? "" : "s", m->n_groups, not_viable, m->n_hives,
	         m->n_hives == 1 ? "" : "s");
	x += ui_put(r->y + 1, x, r->w - x, buf, A_NORMAL, false);
	if (m->mode == AV_MODE_VF || m->mode == AV_MODE_PF)
		snprintf(buf, sizeof(buf), "on vfio %d/%d  %s %d", bound, selected, c->res.resource, c->res.n_healthy);
	else
		snprintf(buf, sizeof(buf), "%s %d", c->res.resource, c->res.n_healthy);
	ui_put(r->y + 1, x, r->w - x, buf, A_NORMAL, false);
}

static void draw_tabs(struct ui_console *c, const struct ui_rect *r)
{
	int x = 0;
	ui_put(r->y, 0, r->w, "", c->term.attr[UI_TONE_DIM], true);
	for (int s = 0; s < UI_NSCREENS && x < r->w; s++) {
		char buf[32];
		snprintf(buf, sizeof(buf), " %d %s ", s + 1, ui_screen_name((enum ui_screen)s));
		x += ui_put(r->y, x, r->w - x, buf, s == (int)c->screen ? c->term.tab_attr : (int)A_NORMAL, false);
		x += ui_put(r->y, x, r->w - x, " ", A_NORMAL, false);
	}
}

static void draw_keybar(struct ui_console *c, const struct ui_rect *r)
{
	int n, x = 0;
	const struct ui_binding *b = ui_keys_table(&n);
	ui_put(r->y, 0, r->w, "", A_NORMAL, true);
	if (c->status[0]) {
		ui_put(r->y, 0, r->w, c->status, c->term.bar_attr, true);
		return;
	}
	static const struct { enum ui_action a; const char *word; } words[] = {
		{ UI_ACT_BIND, "bind" }, { UI_ACT_UNBIND, "unbind" }, { UI_ACT_BIND_ALL, "bind all" },
		{ UI_ACT_RESCAN, "rescan" }, { UI_ACT_SEARCH, "search" }, { UI_ACT_HELP, "help" },
		{ UI_ACT_QUIT, "quit" },
	};
	for (int i = 0; i < n && x < r->w; i++) {
		if (!b[i].in_bar || b[i].action == UI_ACT_SCREEN)
			continue;
		if (b[i].screens && !(b[i].screens & UI_SCREEN_BIT(c->screen)))
			continue;
		if (ui_action_mutates(b[i].action) && c->readonly)
			continue;
		const char *word = NULL;
		for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			if (words[k].a == b[i].action)
				word = words[k].word;
		if (!word)
			continue;
		char item[48];
		snprintf(item, sizeof(item), " %s ", word);
		x += ui_put(r->y, x, r->w - x, b[i].label, A_BOLD, false);
		x += ui_put(r->y, x, r->w - x, item, c->term.bar_attr, false);
		x += ui_put(r->y, x, r->w - x, " ", A_NORMAL, false);
	}
	if (c->screen == UI_SCR_CHECKS)
		ui_put(r->y, x, r->w - x, c->checks_ran ? "(r re-runs the checks)" : "", c->term.attr[UI_TONE_DIM], false);
}

void ui_draw(struct ui_console *c)
{
	struct ui_layout l;
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	erase();
	const struct ui_rows *list = &c->rows[c->screen];
	ui_layout_compute(rows, cols, list->n + (list->head ? 1 : 0), c->detail.n, &l);
	if (l.too_small) {
		char buf[96];
		snprintf(buf, sizeof(buf), "%dx%d: needs %dx%d", cols, rows, UI_MIN_COLS, UI_MIN_ROWS);
		ui_put(0, 0, cols, buf, A_BOLD, false);
		ui_put(1, 0, cols, "q quits", A_NORMAL, false);
		refresh();
		return;
	}
	draw_header(c, &l.header);
	draw_tabs(c, &l.tabs);

	struct ui_rect lr = l.list;
	bool head = list->head != NULL;
	if (head) {
		ui_put(lr.y, 0, 1, " ", A_NORMAL, false);
		ui_put(lr.y, lr.x + 1, lr.w - 1, list->head, c->term.attr[UI_TONE_TITLE] | A_UNDERLINE, true);
		lr.y++;
		lr.h--;
	}
	c->list_height = lr.h;
	struct ui_view *v = &c->views[c->screen];
	ui_view_clamp(v, list, lr.h);
	ui_draw_rows(&c->term, &lr, list, v->top, v->sel);
	if (list->n > lr.h && lr.h > 0) {
		/* Where the window is in a long list. */
		char pos[32];
		snprintf(pos, sizeof(pos), " %d/%d ", v->sel + 1, list->n);
		ui_put(l.list.y + l.list.h - 1, l.list.x + l.list.w - (int)strlen(pos) - 1, (int)strlen(pos), pos,
		       c->term.attr[UI_TONE_DIM] | A_REVERSE, false);
	}

	if (l.detail.h > 0 && l.detail.w > 0) {
		struct ui_rect d = l.detail;
		if (l.detail_right) {
			for (int y = 0; y < d.h; y++)
				mvaddstr(d.y + y, d.x, c->term.g.vline);
			d.x += 1;
			d.w -= 1;
		} else {
			for (int x = 0; x < d.w; x++)
				mvaddstr(d.y, d.x + x, c->term.g.hline);
			ui_put(d.y, d.x + 2, d.w - 4, " Details ", c->term.title_attr, false);
			d.y += 1;
			d.h -= 1;
		}
		ui_draw_rows(&c->term, &d, &c->detail, 0, -1);
	}
	draw_keybar(c, &l.keybar);
	refresh();
}
