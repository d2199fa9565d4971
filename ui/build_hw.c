/* The hardware part of a function's detail pane: PCIe link, reset
 * methods and BARs, from details the core read on demand.  What matters
 * for passthrough is whether each BAR got an address (and above 4 GiB for
 * the large ones) and whether the link trained to its maximum. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "build.h"

/* "32.0 GT/s PCIe" -> "32.0 GT/s": the suffix says nothing here. */
static const char *speed(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);
	if (n > 5 && strcmp(s + n - 5, " PCIe") == 0)
		n -= 5;
	snprintf(buf, size, "%.*s", (int)n, s);
	return buf;
}

static void link_text(const struct av_link *l, char *buf, size_t size)
{
	char a[32], b[32];
	snprintf(buf, size, "%s x%d of %s x%d", speed(l->speed, a, sizeof(a)), l->width,
	         speed(l->max_speed, b, sizeof(b)), l->max_width);
}

static void link_row(const struct av_model *m, const struct av_func *f, const struct av_func_details *d,
                     const struct av_func_details *pf, struct ui_rows *out)
{
	char text[128];
	const struct av_link *l = &d->link;
	if (av_link_known(l)) {
		link_text(l, text, sizeof(text));
		bool slow = av_link_degraded(l);
		ui_rows_add(out, slow ? UI_TONE_WARN : UI_TONE_NORMAL, "link      %s%s", text,
		            slow ? "  (below its maximum; GPUs slow down when idle)" : ", at its maximum");
	} else if (f->role == AV_ROLE_VF && f->physfn >= 0 && pf && av_link_known(&pf->link)) {
		/* VFs have no link of their own: theirs is the PF's. */
		link_text(&pf->link, text, sizeof(text));
		ui_rows_add(out, av_link_degraded(&pf->link) ? UI_TONE_WARN : UI_TONE_NORMAL,
		            "link      %s via PF %s (a VF has no link of its own)", text, m->funcs[f->physfn].bdf);
	} else if (!l->speed[0] && l->width < 0) {
		ui_rows_add(out, UI_TONE_DIM, "link      none reported (not a PCIe function)");
	} else {
		ui_rows_add(out, UI_TONE_DIM, "link      unknown (%s x%d)", l->speed[0] ? l->speed : "?", l->width);
	}
}

static void reset_row(const struct av_func *f, const struct av_func_details *d, struct ui_rows *out)
{
	if (d->reset_method[0])
		ui_rows_add(out, UI_TONE_NORMAL, "reset     %s", d->reset_method);
	else if (d->reset_err == -ENOENT && av_func_is_gpu(f))
		ui_rows_add(out, UI_TONE_WARN, "reset     none: the kernel cannot reset it between VMs");
	else
		ui_rows_add(out, UI_TONE_DIM, "reset     %s", d->reset_err == -ENOENT ? "none" : "unreadable");
}

static const char *res_label(int i, char *buf, size_t size)
{
	if (i < AV_RES_ROM)
		snprintf(buf, size, "BAR %d", i);
	else if (i == AV_RES_ROM)
		snprintf(buf, size, "ROM");
	else if (i <= AV_RES_IOV_LAST)
		snprintf(buf, size, "VF BAR %d", i - AV_RES_IOV_FIRST);
	else
		snprintf(buf, size, "window %d", i - AV_RES_IOV_LAST - 1);
	return buf;
}

static void res_row(const struct av_func *f, int i, const struct av_resource *r, struct ui_rows *out)
{
	char label[24], size[24], kind[32], extra[64] = "";
	const char *where;
	enum ui_tone tone = UI_TONE_NORMAL;
	uint64_t bytes = av_resource_size(r);

	av_size_str(bytes, size, sizeof(size));
	if (r->flags & AV_RES_IO)
		snprintf(kind, sizeof(kind), "I/O ports");
	else
		snprintf(kind, sizeof(kind), "%s%s", r->flags & AV_RES_MEM_64 ? "64-bit" : "32-bit",
		         r->flags & AV_RES_PREFETCH ? " prefetchable" : "");
	if (av_resource_unassigned(r)) {
		where = "UNASSIGNED (no address)";
		tone = UI_TONE_BAD;
	} else if (r->flags & AV_RES_IO) {
		where = "";
	} else {
		where = av_resource_above_4g(r) ? "above 4 GiB" : "below 4 GiB";
	}
	if (i >= AV_RES_IOV_FIRST && i <= AV_RES_IOV_LAST && f->sriov_total > 0) {
		char one[24];
		av_size_str(bytes / (uint64_t)f->sriov_total, one, sizeof(one));
		snprintf(extra, sizeof(extra), "  (%d VF%s x %s)", f->sriov_total, f->sriov_total == 1 ? "" : "s", one);
	}
	if (r->flags & AV_RES_DISABLED)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "  (disabled)");
	ui_rows_add(out, tone, "%-9s %-8s %-19s %s%s", res_label(i, label, sizeof(label)), size, kind, where, extra);
}

void ui_build_hw_rows(const struct av_model *m, int fi, const struct av_func_details *d,
                      const struct av_func_details *pf, struct ui_rows *out)
{
	if (fi < 0 || fi >= m->n_funcs)
		return;
	const struct av_func *f = &m->funcs[fi];
	if (!d) {
		ui_rows_add(out, UI_TONE_DIM, "bars      not read (the function is gone; r reads the host again)");
		return;
	}
	link_row(m, f, d, pf, out);
	reset_row(f, d, out);
	if (d->res_err == -EINVAL) {
		ui_rows_add(out, UI_TONE_WARN, "bars      resource line %d is not \"start end flags\"", d->res_bad_line);
		return;
	}
	if (d->res_err < 0) {
		ui_rows_add(out, UI_TONE_WARN, "bars      cannot read resource: %s", strerror(-d->res_err));
		return;
	}
	int shown = 0;
	for (int i = 0; i < d->n_res; i++)
		if (av_resource_present(&d->res[i])) {
			res_row(f, i, &d->res[i], out);
			shown++;
		}
	if (!shown)
		ui_rows_add(out, UI_TONE_DIM, "bars      none");
}
