#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

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

const char *av_strerror(int err)
{
	if (err < 0)
		err = -err;
	return err == AV_ENOTREG ? "not a regular file" : strerror(err);
}

int av_fd_regular(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	return S_ISREG(st.st_mode) ? 0 : -AV_ENOTREG;
}

int av_fd_keep_regular(int fd)
{
	if (fd < 0)
		return fd;
	int r = av_fd_regular(fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int av_open_regular_at(int dirfd, const char *path)
{
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	return av_fd_keep_regular(fd < 0 ? -errno : fd);
}

ssize_t av_fd_read_all(int fd, size_t max_size, char **out)
{
	size_t cap = max_size < 4096 ? max_size : 4096, len = 0;
	char *buf = malloc(cap + 1);
	*out = NULL;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			/* One byte past the cap tells a file of exactly max_size
			 * from a larger one. */
			char probe;
			ssize_t n;
			if (cap >= max_size) {
				do
					n = read(fd, &probe, 1);
				while (n < 0 && errno == EINTR);
				if (n == 0)
					break;
				free(buf);
				return n < 0 ? -errno : -EFBIG;
			}
			size_t ncap = cap * 2 > max_size ? max_size : cap * 2;
			char *nbuf = realloc(buf, ncap + 1);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			free(buf);
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
}

ssize_t av_file_read_all(const char *path, size_t max_size, char **out)
{
	*out = NULL;
	int fd = av_open_regular_at(AT_FDCWD, path);
	if (fd < 0)
		return fd;
	ssize_t n = av_fd_read_all(fd, max_size, out);
	close(fd);
	return n;
}
