#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void av_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	/* One write per line keeps lines whole when stderr is shared. */
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fprintf(stderr, "amdvirt: %.*s", n, line);
	fflush(stderr);
}

bool av_debug_on(void)
{
	static int on = -1;

	if (on < 0) {
		const char *v = getenv("AMDVIRT_DEBUG");

		on = v != NULL && *v != '\0' && strcmp(v, "0") != 0;
	}
	return on;
}
