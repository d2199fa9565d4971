#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "view.h"

static bool selectable(const struct ui_rows *r, int i)
{
	return i >= 0 && i < r->n && !r->v[i].heading;
}

/* The nearest selectable row at or after i in direction dir, or -1. */
static int seek(const struct ui_rows *r, int i, int dir)
{
	for (; i >= 0 && i < r->n; i += dir)
		if (selectable(r, i))
			return i;
	return -1;
}

static void scroll_to(struct ui_view *v, const struct ui_rows *r, int height)
{
	if (height < 1)
		height = 1;
	int max_top = r->n > height ? r->n - height : 0;
	if (v->sel >= 0) {
		if (v->sel < v->top) {
			v->top = v->sel;
			/* Bring the headings just above into view with their row. */
			while (v->top > 0 && r->v[v->top - 1].heading && v->sel - (v->top - 1) < height)
				v->top--;
		}
		if (v->sel >= v->top + height)
			v->top = v->sel - height + 1;
	}
	if (v->top > max_top)
		v->top = max_top;
	if (v->top < 0)
		v->top = 0;
}

void ui_view_clamp(struct ui_view *v, const struct ui_rows *r, int height)
{
	if (v->sel >= r->n)
		v->sel = r->n - 1;
	if (!selectable(r, v->sel)) {
		int down = seek(r, v->sel < 0 ? 0 : v->sel, 1);
		v->sel = down >= 0 ? down : seek(r, v->sel < 0 ? r->n - 1 : v->sel, -1);
	}
	scroll_to(v, r, height);
}

void ui_view_select(struct ui_view *v, const struct ui_rows *r, int height, int i)
{
	v->sel = i;
	ui_view_clamp(v, r, height);
}

void ui_view_move(struct ui_view *v, const struct ui_rows *r, int height, enum ui_action a)
{
	int page = height > 1 ? height - 1 : 1, next;
	switch (a) {
	case UI_ACT_UP:
		next = seek(r, v->sel - 1, -1);
		if (next >= 0)
			v->sel = next;
		else
			v->top = 0;
		break;
	case UI_ACT_DOWN:
		next = seek(r, v->sel + 1, 1);
		if (next >= 0)
			v->sel = next;
		else
			v->top = r->n;
		break;
	case UI_ACT_PGUP:
		next = seek(r, v->sel - page < 0 ? 0 : v->sel - page, 1);
		if (v->sel >= 0 && next >= 0 && next < v->sel)
			v->sel = next;
		else if (v->sel >= 0 && (next = seek(r, v->sel - 1, -1)) >= 0)
			v->sel = next;
		v->top -= page;
		break;
	case UI_ACT_PGDN:
		next = seek(r, v->sel + page >= r->n ? r->n - 1 : v->sel + page, -1);
		if (next > v->sel)
			v->sel = next;
		else if ((next = seek(r, v->sel + 1, 1)) >= 0)
			v->sel = next;
		v->top += page;
		break;
	case UI_ACT_HOME:
		v->sel = seek(r, 0, 1);
		v->top = 0;
		break;
	case UI_ACT_END:
		v->sel = seek(r, r->n - 1, -1);
		v->top = r->n;
		break;
	default:
		return;
	}
	/* The page moves with the selection; keep it in view. */
	if (v->sel >= 0 && v->top > v->sel)
		v->top = v->sel;
	scroll_to(v, r, height);
}

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++) {
		size_t k = 0;
		while (k < n && hay[k] && tolower((unsigned char)hay[k]) == tolower((unsigned char)needle[k]))
			k++;
		if (k == n)
			return true;
	}
	return n == 0;
}

int ui_search(const struct ui_rows *r, const char *needle, int from, int dir)
{
	if (!needle || !*needle || r->n == 0)
		return -1;
	dir = dir < 0 ? -1 : 1;
	int start = from < 0 ? (dir > 0 ? -1 : r->n) : from;
	for (int step = 1; step <= r->n; step++) {
		int i = ((start + dir * step) % r->n + r->n) % r->n;
		if (contains_nocase(r->v[i].text, needle))
			return i;
	}
	return -1;
}
