/* The daemon's driver management: after each reading of the host, run the
 * next plan the DeviceConfig asks for (src/actions/manage.c) on the plan
 * runner's thread.  A plan that ran makes the host be read again, which
 * yields the next plan (gim, then its VFs), until there is nothing to do.
 * Refusals change nothing and are logged once; a failed plan was rolled
 * back and is not tried again before a growing pause, so a host that
 * cannot be fixed is not churned. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/actions.h"
#include "agent/drivers.h"
#include "agent/scan.h"
#include "base/log.h"
#include "agent/plan_runner.h"

#define HOLD_FIRST_MS 30000.0
#define HOLD_MAX_MS 600000.0

/* Logs msg unless it is what was said last. */
static void say_once(struct av_daemon *d, const char *msg)
{
	if (d->drivers_said && strcmp(d->drivers_said, msg) == 0)
		return;
	av_log("drivers: %s", msg);
	free(d->drivers_said);
	d->drivers_said = strdup(msg);
}

static void refused(struct av_daemon *d, const struct av_plan *p)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg), "%s: refused: %s", p->title, p->refusals[0]);
	if (p->n_refusals > 1 && n > 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, " (and %d more)", p->n_refusals - 1);
	say_once(d, msg);
}

/* --dry-run: the plan as `bind --dry-run` prints it, logged line by line
 * once (until it changes), and nothing run. */
static void dry_run(struct av_daemon *d, const struct av_plan *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	av_plan_print(f, p);
	if (fclose(f) != 0 || !text) {
		free(text);
		return;
	}
	if (!d->drivers_said || strcmp(d->drivers_said, text) != 0) {
		av_log("drivers: --dry-run, so this plan is not run:");
		for (const char *line = text; *line;) {
			size_t n = strcspn(line, "\n");
			av_log("drivers: %.*s", (int)n, line);
			line += n + (line[n] == '\n');
		}
		free(d->drivers_said);
		d->drivers_said = text;
		return;
	}
	free(text);
}

static void on_retry(struct av_loop *loop, void *user)
{
	(void)loop;
	av_daemon_rescan(user, false);
}

static void failed(struct av_daemon *d, const struct av_plan *p, const char *cause)
{
	double now = av_clock_ms();
	double hold = HOLD_FIRST_MS;
	for (int i = 0; i < d->drivers_failures && hold < HOLD_MAX_MS; i++)
		hold *= 2;
	if (hold > HOLD_MAX_MS)
		hold = HOLD_MAX_MS;
	d->drivers_failures++;
	d->drivers_hold_until = now + hold;
	av_log("drivers: %s: failed: %s; next attempt in %.0f s", p->title, cause ? cause : "(no cause)",
	       hold / 1000);
	/* The attempt is due even if nothing else makes the host be read
	 * (the resync may be hours away). */
	if (!d->drivers_timer)
		d->drivers_timer = av_timer_new(d->loop, on_retry, d);
	if (d->drivers_timer)
		av_timer_arm(d->drivers_timer, (int64_t)hold + 1);
	free(d->drivers_said);
	d->drivers_said = NULL;
}

static void on_done(void *user, const struct av_plan *p, int r, const char *cause, double ms)
{
	struct av_daemon *d = user;
	if (r < 0) {
		failed(d, p, cause);
	} else {
		av_log("drivers: %s: done in %.0f ms", p->title, ms);
		d->drivers_failures = 0;
		free(d->drivers_said);
		d->drivers_said = NULL;
	}
	/* Done or rolled back, the host is not what was read. */
	av_daemon_rescan_soon(d);
}

static void run(struct av_daemon *d, struct av_plan *p)
{
	if (!d->drivers_runner)
		d->drivers_runner = av_plan_runner_new(d->loop, d->cli->host, on_done, d);
	int r = d->drivers_runner ? av_plan_runner_start(d->drivers_runner, p) : -errno;
	if (r < 0)
		av_log("drivers: %s: cannot start: %s", p->title, strerror(-r));
}

void av_daemon_drivers(struct av_daemon *d, const struct av_model *m)
{
	struct av_opts *cli = d->cli;
	const char *off = cli->demo ? "the demo host's simulated kernel serves the commands and the console, not the daemon" : av_manage_off_reason(m);
	if (off) {
		if (!d->drivers_announced)
			av_log("driver management off: %s", off);
		d->drivers_announced = true;
		return;
	}
	if (!d->drivers_announced)
		av_log("driver management on: %s from %s", av_mode_name(m->mode),
		       m->mode_source == AV_SOURCE_FLAG ? "--driver-type" : "the DeviceConfig");
	d->drivers_announced = true;
	/* The running plan's end brings a re-read, and with it the next plan. */
	if (av_plan_runner_busy(d->drivers_runner))
		return;
	double now = av_clock_ms();
	if (now < d->drivers_hold_until) {
		av_debug("drivers: after the failure, next attempt in %.0f s", (d->drivers_hold_until - now) / 1000);
		return;
	}
	struct av_action_opts o = {
		.host = cli->host, .force = cli->force, .module_path = cli->module_path,
		.params = (const char *const *)cli->params, .n_params = cli->n_params,
	};
	struct av_plan p;
	if (av_plan_manage(m, &o, &p) < 0) {
		av_log("drivers: cannot plan: out of memory");
		return;
	}
	if (p.n_refusals) {
		refused(d, &p);
	} else if (p.n_steps && cli->dry_run) {
		dry_run(d, &p);
	} else if (p.n_steps) {
		run(d, &p);
	} else {
		say_once(d, m->mode == AV_MODE_VF ? "gim is loaded and every selected VF is on vfio-pci"
		                                  : "every selected PF is on vfio-pci");
		d->drivers_failures = 0;
	}
	av_plan_clear(&p);
}

void av_daemon_drivers_clear(struct av_daemon *d)
{
	if (av_plan_runner_busy(d->drivers_runner))
		av_log("drivers: waiting for the plan in progress to end");
	av_plan_runner_free(d->drivers_runner);
	d->drivers_runner = NULL;
	av_timer_free(d->drivers_timer);
	d->drivers_timer = NULL;
	free(d->drivers_said);
	d->drivers_said = NULL;
}
