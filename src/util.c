#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

char *av_vstrdup_printf(const char *fmt, va_list ap)
{
	char *s;
	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

char *av_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = av_vstrdup_printf(fmt, ap);
	va_end(ap);
	return s;
}

void av_set_cause(char **cause, const char *fmt, ...)
{
	if (!cause)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = av_vstrdup_printf(fmt, ap);
	va_end(ap);
	free(*cause);
	*cause = s;
}

int av_parse_long(const char *s, int base, long *out)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -EINVAL;
	char *end;
	errno = 0;
	long v = strtol(s, &end, base);
	if (errno)
		return -errno;
	while (isspace((unsigned char)*end))
		end++;
	if (end == s || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int av_parse_hex16(const char *s, uint16_t *out)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	size_t n = strlen(s);
	if (n == 0 || n > 4)
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0'
		                        : tolower((unsigned char)s[i]) - 'a' + 10);
	}
	*out = (uint16_t)v;
	return 0;
}

static bool hexn(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool av_bdf_valid(const char *s)
{
	return strlen(s) == 12 && hexn(s, 4) && s[4] == ':' && hexn(s + 5, 2) && s[7] == ':'
	       && hexn(s + 8, 2) && s[10] == '.' && s[11] >= '0' && s[11] <= '7'
	       && strtoul(s + 8, NULL, 16) < 32;
}

int av_bdf_normalise(const char *in, char out[13])
{
	char buf[16];
	size_t n = strlen(in);
	if (n == 7)
		snprintf(buf, sizeof(buf), "0000:%s", in);
	else if (n == 12)
		snprintf(buf, sizeof(buf), "%s", in);
	else
		return -EINVAL;
	for (char *p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!av_bdf_valid(buf))
		return -EINVAL;
	memcpy(out, buf, 13);
	return 0;
}

int av_int_push(int **arr, int *n, int value)
{
	/* Grow in powers of two so pushes stay amortised O(1). */
	if ((*n & (*n - 1)) == 0) {
		size_t cap = *n ? (size_t)*n * 2 : 4;
		int *na = realloc(*arr, cap * sizeof(int));
		if (!na)
			return -ENOMEM;
		*arr = na;
	}
	(*arr)[(*n)++] = value;
	return 0;
}
