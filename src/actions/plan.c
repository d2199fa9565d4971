/* Plans: building, printing and freeing. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/internal.h"
#include "base/textsafe.h"
#include "base/util.h"

static __attribute__((format(printf, 3, 0))) int push_text(char ***arr, int *n, const char *fmt, va_list ap)
{
	char *s = av_vstrdup_printf(fmt, ap);
	if (!s)
		return -ENOMEM;
	char **grown = realloc(*arr, ((size_t)*n + 1) * sizeof(char *));
	if (!grown) {
		free(s);
		return -ENOMEM;
	}
	*arr = grown;
	grown[(*n)++] = s;
	return 0;
}

int av_plan_title(struct av_plan *p, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	free(p->title);
	p->title = s;
	return 0;
}

int av_plan_refuse(struct av_plan *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = push_text(&p->refusals, &p->n_refusals, fmt, ap);
	va_end(ap);
	return r;
}

int av_plan_note(struct av_plan *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = push_text(&p->notes, &p->n_notes, fmt, ap);
	va_end(ap);
	return r;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct av_step *new_step(struct av_plan *p)
{
	struct av_step *grown = realloc(p->steps, ((size_t)p->n_steps + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	p->steps = grown;
	struct av_step *s = &grown[p->n_steps];
	memset(s, 0, sizeof(*s));
	s->unit = -1;
	return s;
}

int av_plan_step(struct av_plan *p, enum av_step_kind kind, int unit, const char *path, const char *value,
                 const char *why)
{
	struct av_step *s = new_step(p);
	if (!s)
		return -ENOMEM;
	s->kind = kind;
	s->unit = unit;
	s->path = dup_or_null(path);
	s->value = dup_or_null(value);
	s->why = dup_or_null(why);
	if ((path && !s->path) || (value && !s->value) || (why && !s->why)) {
		free(s->path);
		free(s->value);
		free(s->why);
		return -ENOMEM;
	}
	p->n_steps++;
	return 0;
}

int av_plan_check(struct av_plan *p, int unit, bool pre, enum av_check check, const char *path,
                  const char *value, const char *why)
{
	int r = av_plan_step(p, AV_STEP_VERIFY, unit, path, value ? value : "", why);
	if (r < 0)
		return r;
	p->steps[p->n_steps - 1].check = check;
	p->steps[p->n_steps - 1].pre = pre;
	return 0;
}

int av_plan_unit(struct av_plan *p, int iommu_group, const char *fmt, ...)
{
	struct av_plan_unit *grown = realloc(p->units, ((size_t)p->n_units + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	p->units = grown;
	struct av_plan_unit *u = &grown[p->n_units];
	memset(u, 0, sizeof(*u));
	u->iommu_group = iommu_group;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&u->what, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return p->n_units++;
}

int av_plan_save(struct av_plan *p, int unit, const struct av_saved_func *s)
{
	struct av_plan_unit *u = &p->units[unit];
	struct av_saved_func *grown = realloc(u->saved, ((size_t)u->n_saved + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	u->saved = grown;
	grown[u->n_saved++] = *s;
	return 0;
}

int av_plan_write_fn(struct av_plan *p, int unit, const char *bdf, const char *attr, const char *value,
                     const char *why)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s/%s", AV_DEVICES, bdf, attr);
	return av_plan_step(p, AV_STEP_WRITE, unit, path, value, why);
}

const char *av_driver_text(const char *driver)
{
	return driver && *driver ? driver : "(none)";
}

/* Sysfs values are written with their newline where the kernel needs one
 * ("\n" clears driver_override); people read them without it. */
static void print_value(FILE *out, const char *v)
{
	fputc('"', out);
	for (; v && *v; v++) {
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
	fputc('"', out);
}

static void print_check(FILE *out, const struct av_step *s)
{
	switch (s->check) {
	case AV_CHECK_DRIVER:
		fprintf(out, "%s driver is %s", s->path, av_driver_text(s->value));
		break;
	case AV_CHECK_TEXT:
		fprintf(out, "%s reads ", s->path);
		print_value(out, s->value);
		break;
	case AV_CHECK_EXISTS:
		fprintf(out, "%s exists", s->path);
		break;
	case AV_CHECK_ABSENT:
		fprintf(out, "%s is absent", s->path);
		break;
	case AV_CHECK_NOT_OPEN:
		fprintf(out, "%s is not open", s->path);
		break;
	case AV_CHECK_POSITIVE:
		fprintf(out, "%s is above 0", s->path);
		break;
	}
}

static void print_step_raw(FILE *out, const struct av_step *s)
{
	switch (s->kind) {
	case AV_STEP_WRITE:
		fprintf(out, "write   %s <- ", s->path);
		print_value(out, s->value);
		break;
	case AV_STEP_MODULE_LOAD:
		fprintf(out, "load    %s", s->path);
		if (s->value && *s->value)
			fprintf(out, " %s", s->value);
		break;
	case AV_STEP_MODULE_UNLOAD:
		fprintf(out, "unload  %s", s->path);
		break;
	case AV_STEP_VERIFY:
		fputs(s->pre ? "check   " : "verify  ", out);
		print_check(out, s);
		break;
	case AV_STEP_RECORD:
		fprintf(out, "record  %s: %s", s->path, s->value);
		break;
	case AV_STEP_FORGET:
		fprintf(out, "forget  %s: %s", s->path, s->value);
		break;
	case AV_STEP_FILE:
		if (s->value) {
			fprintf(out, "file    %s <- ", s->path);
			print_value(out, s->value);
		} else {
			fprintf(out, "remove  %s", s->path);
		}
		break;
	}
	if (s->why && *s->why)
		fprintf(out, "  (%s)", s->why);
	fputc('\n', out);
}

static void print_plan_raw(FILE *out, const struct av_plan *p)
{
	fprintf(out, "%s\n", p->title ? p->title : "plan");
	for (int i = 0; i < p->n_refusals; i++)
		fprintf(out, "  refused: %s\n", p->refusals[i]);
	for (int i = 0; i < p->n_notes; i++)
		fprintf(out, "  note: %s\n", p->notes[i]);
	if (p->n_refusals)
		return;
	if (!p->n_steps) {
		fputs("  nothing to do\n", out);
		return;
	}
	fprintf(out, "  %2d. lock    %s\n", 0, AV_LOCK_FILE);
	for (int i = 0; i < p->n_steps; i++) {
		fprintf(out, "  %2d. ", i + 1);
		print_step_raw(out, &p->steps[i]);
	}
	fputs("  on failure: the unit being changed is restored to its recorded state:\n", out);
	for (int u = 0; u < p->n_units; u++)
		for (int k = 0; k < p->units[u].n_saved; k++) {
			const struct av_saved_func *s = &p->units[u].saved[k];
			fprintf(out, "      %s: driver %s, driver_override ", s->bdf, av_driver_text(s->driver));
			print_value(out, s->driver_override);
			if (s->autoprobe >= 0)
				fprintf(out, ", sriov_drivers_autoprobe %d", s->autoprobe);
			fputc('\n', out);
		}
}

/* A plan carries names read from the host (drivers, refusals quoting
 * sysfs): it reaches a terminal or a log only escaped, line by line. */
static void put_escaped(FILE *out, const char *text)
{
	char line[AV_SAFE_MAX];
	while (*text) {
		size_t n = strcspn(text, "\n");
		av_text_escape_n(line, sizeof(line), text, n);
		fputs(line, out);
		if (text[n] == '\n')
			fputc('\n', out);
		text += n + (text[n] == '\n');
	}
}

typedef void (*render_fn)(FILE *, const void *);

static void print_escaped(FILE *out, render_fn render, const void *what)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem) {
		fputs("(out of memory)\n", out);
		return;
	}
	render(mem, what);
	if (fclose(mem) == 0 && text)
		put_escaped(out, text);
	else
		fputs("(out of memory)\n", out);
	free(text);
}

static void render_step(FILE *out, const void *s) { print_step_raw(out, s); }
static void render_plan(FILE *out, const void *p) { print_plan_raw(out, p); }

void av_plan_print_step(FILE *out, const struct av_step *s)
{
	print_escaped(out, render_step, s);
}

void av_plan_print(FILE *out, const struct av_plan *p)
{
	print_escaped(out, render_plan, p);
}

void av_plan_clear(struct av_plan *p)
{
	if (!p)
		return;
	free(p->title);
	for (int i = 0; i < p->n_steps; i++) {
		free(p->steps[i].path);
		free(p->steps[i].value);
		free(p->steps[i].why);
	}
	free(p->steps);
	for (int i = 0; i < p->n_refusals; i++)
		free(p->refusals[i]);
	free(p->refusals);
	for (int i = 0; i < p->n_notes; i++)
		free(p->notes[i]);
	free(p->notes);
	for (int i = 0; i < p->n_units; i++) {
		free(p->units[i].what);
		free(p->units[i].saved);
	}
	free(p->units);
	memset(p, 0, sizeof(*p));
}
