#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/textsafe.h"

void av_log(const char *fmt, ...)
{
	char line[1024], safe[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	/* Messages carry peers' and the host's text: escaped, a newline or
	 * a terminal sequence in it cannot start a forged line. */
	size_t len = av_text_escape_n(safe, sizeof(safe) - 1, line, (size_t)n);
	safe[len++] = '\n';
	/* One write per line keeps lines whole when stderr is shared. */
	fprintf(stderr, "amdvirt: %.*s", (int)len, safe);
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
