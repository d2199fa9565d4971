/* Daemon log: one line per event on stderr, "amdvirt: " first, so that
 * kubectl logs and journald show what happened and when without decoration
 * from us (both add their own timestamps). */
#ifndef AV_LOG_H
#define AV_LOG_H

#include <stdbool.h>

void av_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Lines for every request (each Allocate...), written only when
 * AMDVIRT_DEBUG is set to something other than "" or "0": a line costs a
 * system call, which is a measurable part of a call's time. */
bool av_debug_on(void);
#define av_debug(...) \
	do { \
		if (av_debug_on()) \
			av_log(__VA_ARGS__); \
	} while (0)

#endif
