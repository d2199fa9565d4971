/* Executable checks: a VERIFY step tested against the live host. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actions/internal.h"
#include "base/util.h"

static int settle_ms = 5000;

void av_actions_set_settle_ms(int ms)
{
	settle_ms = ms < 0 ? 0 : ms;
}

int av_actions_settle_ms(void)
{
	return settle_ms;
}

/* Returns true when the check holds; *seen says what was there. */
static bool once(struct av_host *host, const struct av_step *s, char *seen, size_t size)
{
	char path[4096];
	long v;
	seen[0] = '\0';
	switch (s->check) {
	case AV_CHECK_DRIVER:
		snprintf(path, sizeof(path), "%s/driver", s->path);
		av_read_link_base(host, path, seen, size);
		return strcmp(seen, s->value ? s->value : "") == 0;
	case AV_CHECK_TEXT:
		if (av_read_text(host, s->path, seen, size) < 0)
			snprintf(seen, size, "%s", "(unreadable)");
		else if (strcmp(seen, "(null)") == 0)
			seen[0] = '\0';
		return strcmp(seen, s->value ? s->value : "") == 0;
	case AV_CHECK_EXISTS:
		return av_exists(host, s->path);
	case AV_CHECK_ABSENT:
		return !av_exists(host, s->path);
	case AV_CHECK_NOT_OPEN:
		return !av_path_is_open(host, s->path);
	case AV_CHECK_POSITIVE:
		if (av_read_long(host, s->path, 10, &v) < 0)
			return false;
		snprintf(seen, size, "%ld", v);
		return v > 0;
	}
	return false;
}

int av_check_step(struct av_host *host, const struct av_step *s, bool wait, char **cause)
{
	char seen[256];
	int waited = 0, limit = wait ? settle_ms : 0;
	/* Probes may be asynchronous (nvme) and devtmpfs nodes appear a moment
	 * after the bind returns: post-conditions get time to settle. */
	while (!once(host, s, seen, sizeof(seen))) {
		if (waited >= limit) {
			switch (s->check) {
			case AV_CHECK_DRIVER:
				av_set_cause(cause, "%s is on %s, not %s", s->path, av_driver_text(seen),
				             av_driver_text(s->value));
				break;
			case AV_CHECK_TEXT:
			case AV_CHECK_POSITIVE:
				av_set_cause(cause, "%s reads \"%s\", expected %s%s%s", s->path, seen,
				             s->check == AV_CHECK_TEXT ? "\"" : "a number above 0",
				             s->check == AV_CHECK_TEXT ? s->value : "", s->check == AV_CHECK_TEXT ? "\"" : "");
				break;
			case AV_CHECK_EXISTS:
				av_set_cause(cause, "%s does not exist", s->path);
				break;
			case AV_CHECK_ABSENT:
				av_set_cause(cause, "%s is still there", s->path);
				break;
			case AV_CHECK_NOT_OPEN:
				av_set_cause(cause, "%s is open: something uses it", s->path);
				break;
			}
			return -EAGAIN;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
		waited += 50;
	}
	return 0;
}
