/* Rollback of one function to its saved state, whatever half-way state a
 * failed step left it in (the kernel may leave a PF without a driver). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/internal.h"
#include "base/util.h"

static int put(struct av_host *host, const char *path, const char *value, FILE *log, int *first)
{
	int r = av_write(host, path, value);
	if (log) {
		fprintf(log, "  rollback: write %s <- \"%s\"", path, strcmp(value, "\n") ? value : "\\n");
		fprintf(log, r < 0 ? ": %s\n" : "\n", strerror(-r));
	}
	if (r < 0 && !*first)
		*first = r;
	return r;
}

int av_restore_func(struct av_host *host, const struct av_saved_func *s, FILE *log)
{
	char dev[128], path[192], cur[AV_DRIVER_LEN] = "", ovr[AV_DRIVER_LEN] = "";
	int first = 0;
	const char *want_ovr = s->driver_override[0] ? s->driver_override : "\n";

	snprintf(dev, sizeof(dev), "%s/%s", AV_DEVICES, s->bdf);
	if (!av_exists(host, dev)) {
		if (log)
			fprintf(log, "  rollback: %s is gone; nothing to restore\n", s->bdf);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/driver", dev);
	av_read_link_base(host, path, cur, sizeof(cur));
	snprintf(path, sizeof(path), "%s/driver_override", dev);
	if (av_read_text(host, path, ovr, sizeof(ovr)) < 0 || strcmp(ovr, "(null)") == 0)
		ovr[0] = '\0';

	if (s->binding && strcmp(cur, s->driver) != 0) {
		if (cur[0]) {
			snprintf(path, sizeof(path), "%s/%s/unbind", AV_DRIVERS, cur);
			put(host, path, s->bdf, log, &first);
		}
		snprintf(path, sizeof(path), "%s/driver_override", dev);
		put(host, path, s->driver[0] ? s->driver : want_ovr, log, &first);
		snprintf(ovr, sizeof(ovr), "%s", s->driver[0] ? s->driver : s->driver_override);
		if (s->driver[0]) {
			snprintf(path, sizeof(path), "%s/%s/bind", AV_DRIVERS, s->driver);
			put(host, path, s->bdf, log, &first);
		}
	}
	if (strcmp(ovr, s->driver_override) != 0) {
		snprintf(path, sizeof(path), "%s/driver_override", dev);
		put(host, path, want_ovr, log, &first);
	}
	if (s->autoprobe >= 0) {
		char v[16];
		snprintf(path, sizeof(path), "%s/sriov_drivers_autoprobe", dev);
		snprintf(v, sizeof(v), "%d", s->autoprobe);
		put(host, path, v, log, &first);
	}
	if (s->binding) {
		struct av_step check = { .kind = AV_STEP_VERIFY, .check = AV_CHECK_DRIVER, .path = dev,
		                         .value = (char *)s->driver };
		char *cause = NULL;
		int r = av_check_step(host, &check, true, &cause);
		if (log)
			fprintf(log, "  rollback: %s is on %s%s%s\n", s->bdf, av_driver_text(s->driver), r < 0 ? ": NO, " : "",
			        r < 0 && cause ? cause : "");
		free(cause);
		if (r < 0 && !first)
			first = -EIO;
	}
	return first;
}
