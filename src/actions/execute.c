/* Running a plan: lock, steps in order, and on any failure the unit being
 * changed goes back to its saved state. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/internal.h"
#include "actions/kmod.h"
#include "actions/lock.h"
#include "actions/sigdefer.h"
#include "actions/state.h"
#include "base/util.h"

#define LOCK_WAIT_MS 10000

struct run {
	struct av_host *host;
	const struct av_plan *plan;
	FILE *log;
	int unit;                 /* the unit being changed, -1 before the first */
	const char **loaded;      /* modules this unit loaded that rollback unloads */
	int n_loaded;
	struct av_state before;   /* state.json before this unit's RECORD */
	bool recorded;
	bool changed;             /* this unit has written something */
	int units_done;
	const char *file;         /* a FILE step's path, and what it held before */
	char *file_before;        /* NULL when it did not exist */
	bool file_saved;
};

/* Remembers what the file held, then writes or removes it. */
static int file_step(struct run *x, const struct av_step *s, char **cause)
{
	if (!x->file_saved) {
		char *old = NULL;
		ssize_t n = av_read_all(x->host, s->path, 1 << 20, &old);
		if (n < 0 && n != -ENOENT) {
			av_set_cause(cause, "%s: %s", s->path, strerror((int)-n));
			return (int)n;
		}
		x->file = s->path;
		x->file_before = n < 0 ? NULL : old;
		x->file_saved = true;
	}
	int r = s->value ? av_write_atomic(x->host, s->path, s->value, strlen(s->value)) : av_unlink(x->host, s->path);
	if (r < 0)
		av_set_cause(cause, "%s %s: %s", s->value ? "write" : "remove", s->path, strerror(-r));
	return r;
}

static int restore_file(struct run *x)
{
	if (!x->file_saved)
		return 0;
	int r = x->file_before ? av_write_atomic(x->host, x->file, x->file_before, strlen(x->file_before))
	                       : av_unlink(x->host, x->file);
	if (x->log)
		fprintf(x->log, "  rollback: %s as before%s%s\n", x->file, r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
	return r;
}

static int state_step(struct run *x, const struct av_step *s, char **cause)
{
	struct av_state st;
	int r = av_state_load(x->host, &st, cause);
	if (r < 0)
		return r;
	const struct av_plan_unit *u = &x->plan->units[s->unit];
	if (s->kind == AV_STEP_RECORD) {
		av_state_clear(&x->before);
		x->before.e = malloc(((size_t)st.n + 1) * sizeof(*st.e));
		if (!x->before.e) {
			av_state_clear(&st);
			return -ENOMEM;
		}
		if (st.n)
			memcpy(x->before.e, st.e, (size_t)st.n * sizeof(*st.e));
		x->before.n = st.n;
	}
	for (int k = 0; k < u->n_saved && r == 0; k++) {
		if (s->kind == AV_STEP_RECORD)
			r = av_state_put(&st, &u->saved[k]);
		else
			av_state_drop(&st, &u->saved[k]);
	}
	if (r == 0)
		r = av_state_save(x->host, &st);
	av_state_clear(&st);
	if (r < 0) {
		char path[4096];
		av_set_cause(cause, "%s: %s", av_host_path(x->host, AV_STATE_FILE, path, sizeof(path)), strerror(-r));
	} else if (s->kind == AV_STEP_RECORD) {
		x->recorded = true;
	}
	return r;
}

static int run_step(struct run *x, const struct av_step *s, char **cause)
{
	int r = 0;
	switch (s->kind) {
	case AV_STEP_WRITE:
		r = av_write(x->host, s->path, s->value);
		if (r < 0)
			av_set_cause(cause, "write %s <- \"%s\": %s", s->path, strcmp(s->value, "\n") ? s->value : "\\n",
			             strerror(-r));
		return r;
	case AV_STEP_MODULE_LOAD:
		r = av_kmod_load(x->host, s->path, s->value, cause);
		if (r == 0 && s->undo) {
			const char **grown = realloc(x->loaded, ((size_t)x->n_loaded + 1) * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			x->loaded = grown;
			grown[x->n_loaded++] = s->path;
		}
		return r;
	case AV_STEP_MODULE_UNLOAD:
		return av_kmod_unload(x->host, s->path, cause);
	case AV_STEP_VERIFY:
		return av_check_step(x->host, s, !s->pre, cause);
	case AV_STEP_RECORD:
	case AV_STEP_FORGET:
		return state_step(x, s, cause);
	case AV_STEP_FILE:
		return file_step(x, s, cause);
	}
	return -EINVAL;
}

static void begin_unit(struct run *x, int unit)
{
	if (x->unit >= 0)
		x->units_done++;
	x->unit = unit;
	x->n_loaded = 0;
	x->recorded = false;
	x->changed = false;
	av_state_clear(&x->before);
	free(x->file_before);
	x->file_before = NULL;
	x->file_saved = false;
}

/* Returns 0 when the unit is back where it started. */
static int rollback(struct run *x)
{
	int first = 0;
	if (x->unit < 0 || !x->changed)
		return 0;
	const struct av_plan_unit *u = &x->plan->units[x->unit];
	if (x->log)
		fprintf(x->log, "rolling back %s\n", u->what);
	for (int k = x->n_loaded - 1; k >= 0; k--) {
		char *cause = NULL;
		int r = av_kmod_unload(x->host, x->loaded[k], &cause);
		if (x->log)
			fprintf(x->log, "  rollback: unload %s%s%s\n", x->loaded[k], r < 0 ? ": " : "", r < 0 && cause ? cause : "");
		free(cause);
		if (r < 0 && !first)
			first = r;
	}
	for (int k = u->n_saved - 1; k >= 0; k--) {
		int r = av_restore_func(x->host, &u->saved[k], x->log);
		if (r < 0 && !first)
			first = r;
	}
	int fr = restore_file(x);
	if (fr < 0 && !first)
		first = fr;
	if (x->recorded) {
		int r = av_state_save(x->host, &x->before);
		if (x->log)
			fprintf(x->log, "  rollback: %s as before%s%s\n", AV_STATE_FILE, r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		if (r < 0 && !first)
			first = r;
	}
	return first;
}

static void report(struct run *x, const struct av_step *s, int rb, char **cause)
{
	const char *why = cause && *cause ? *cause : "failed";
	const char *what = x->unit >= 0 ? x->plan->units[x->unit].what : NULL;
	char *msg;
	if (!what || !x->changed)
		msg = av_strdup_printf("%s; nothing was changed", why);
	else if (rb == 0)
		msg = av_strdup_printf("%s; %s was rolled back to its recorded state", why, what);
	else
		msg = av_strdup_printf("%s; rolling back %s failed too: %s keeps the record needed to restore it by hand",
		                       why, what, AV_STATE_FILE);
	if (msg && x->units_done) {
		char *more = av_strdup_printf("%s (%d unit%s before it stay done and recorded)", msg, x->units_done,
		                              x->units_done == 1 ? "" : "s");
		free(msg);
		msg = more;
	}
	(void)s;
	if (cause && msg) {
		free(*cause);
		*cause = msg;
	} else {
		free(msg);
	}
}

static const char *signame(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

/* A signal between two units: the units before stay done (and recorded,
 * so unbind undoes them); the next one is not begun. */
static int interrupted(struct run *x, int next, int sig, char **cause)
{
	if (x->log)
		fprintf(x->log, "%s: stopping before %s\n", signame(sig), x->plan->units[next].what);
	if (x->unit >= 0)
		x->units_done++;
	if (x->units_done)
		av_set_cause(cause, "interrupted by %s before %s; the %d unit%s before it stay done and recorded", signame(sig),
		             x->plan->units[next].what, x->units_done, x->units_done == 1 ? "" : "s");
	else
		av_set_cause(cause, "interrupted by %s before %s; nothing was changed", signame(sig),
		             x->plan->units[next].what);
	return -EINTR;
}

/* AMDVIRT_TEST_FAIL_STEP=N makes step N (as av_plan_print numbers them)
 * fail before it runs: the real-kernel test lane uses it to prove rollback
 * on a kernel whose writes cannot otherwise be made to fail on cue. */
static int step_env(const char *name)
{
	const char *s = getenv(name);
	long n;
	return s && av_parse_long(s, 10, &n) == 0 && n > 0 && n < 100000 ? (int)n : 0;
}

static int injected_step(void)
{
	return step_env("AMDVIRT_TEST_FAIL_STEP");
}

/* AMDVIRT_TEST_KILL_STEP=N: the process dies of SIGKILL just before step
 * N, as an OOM kill or a power cut would leave the host, so that the
 * repair by unbind / gim unload alone is rehearsed on a real kernel. */
static void killed_step(int i, int kill_at)
{
	if (i + 1 == kill_at) {
		fflush(NULL);
		raise(SIGKILL);
	}
}

int av_plan_execute(struct av_host *host, const struct av_plan *plan, FILE *log, char **cause)
{
	int fail_at = injected_step(), kill_at = step_env("AMDVIRT_TEST_KILL_STEP");
	if (plan->n_refusals) {
		av_set_cause(cause, "%s", plan->refusals[0]);
		return -EPERM;
	}
	if (!plan->n_steps)
		return 0;
	int fd = av_lock_take(host, LOCK_WAIT_MS, cause);
	if (fd < 0)
		return fd;
	/* From here a signal waits for the unit being changed to be done or
	 * rolled back; it stops the plan before the next unit. */
	struct av_sigdefer defer;
	av_sigdefer_begin(&defer);
	struct run x = { .host = host, .plan = plan, .log = log, .unit = -1 };
	int r = 0, sig = 0;
	for (int i = 0; i < plan->n_steps && r == 0; i++) {
		const struct av_step *s = &plan->steps[i];
		if (s->unit != x.unit && s->unit >= 0 && (sig = av_sigdefer_pending(&defer))) {
			r = interrupted(&x, s->unit, sig, cause);
			break;
		}
		if (s->unit != x.unit && s->unit >= 0)
			begin_unit(&x, s->unit);
		char *why = NULL;
		killed_step(i, kill_at);
		if (s->kind != AV_STEP_VERIFY)
			x.changed = true;
		if (i + 1 == fail_at) {
			why = strdup("injected failure (AMDVIRT_TEST_FAIL_STEP)");
			r = -EIO;
		} else {
			r = run_step(&x, s, &why);
		}
		if (log) {
			fprintf(log, r == 0 ? "  ok      " : "  FAILED  ");
			av_plan_print_step(log, s);
			if (r < 0)
				fprintf(log, "          %s\n", why ? why : strerror(-r));
		}
		if (r < 0) {
			if (!why)
				why = strdup(strerror(-r));
			int rb = rollback(&x);
			if (cause) {
				free(*cause);
				*cause = why;
				why = NULL;
			}
			report(&x, s, rb, cause);
		}
		free(why);
	}
	if (!sig && (sig = av_sigdefer_pending(&defer)) && log)
		fprintf(log, "%s arrived meanwhile: it waited until the plan was %s\n", signame(sig),
		        r == 0 ? "done" : "rolled back");
	free(x.loaded);
	free(x.file_before);
	av_state_clear(&x.before);
	av_lock_release(fd);
	av_sigdefer_end(&defer);
	return r;
}
