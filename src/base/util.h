/* Small helpers shared by the core: messages, parsing, growable arrays. */
#ifndef AV_UTIL_H
#define AV_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Sets *cause (when cause is not NULL) to an allocated message. */
void av_set_cause(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* asprintf that returns NULL on failure. */
char *av_vstrdup_printf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
char *av_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whole-string integer parse, surrounding blanks allowed.  0 or -EINVAL/-ERANGE. */
int av_parse_long(const char *s, int base, long *out);
/* "1002" or "0x1002" -> 0x1002, exactly 1..4 hex digits.  0 or -EINVAL. */
int av_parse_hex16(const char *s, uint16_t *out);
/* Validates and normalises a BDF ("85:00.0" gets domain 0000; upper case is
 * lowered).  Returns 0 or -EINVAL. */
int av_bdf_normalise(const char *in, char out[13]);
bool av_bdf_valid(const char *s);

/* What amdvirt reads or writes must be a regular file: a FIFO would block
 * it for good, a device or socket is not what any host path it knows
 * holds.  No open or read returns this errno for files, so it stands for
 * "not a regular file" (av_strerror says so; plain strerror says "Wrong
 * medium type").  A directory is -EISDIR. */
#define AV_ENOTREG EMEDIUMTYPE
/* strerror for a positive or negative errno, AV_ENOTREG included. */
const char *av_strerror(int err);
/* 0 when fd is a regular file, else -EISDIR, -AV_ENOTREG or -errno. */
int av_fd_regular(int fd);
/* fd when it is a regular file; otherwise closes it and returns what
 * av_fd_regular said.  A negative fd (-errno from an open) passes through. */
int av_fd_keep_regular(int fd);
/* Opens path (relative to dirfd, or absolute) for reading without blocking
 * on a FIFO, and only if it is a regular file.  Returns fd or -errno. */
int av_open_regular_at(int dirfd, const char *path);
/* Reads fd to its end into an allocated, NUL-terminated buffer of at most
 * max_size bytes.  Returns the length or -errno (-EFBIG past max_size);
 * *out is NULL on failure.  fd is left open. */
ssize_t av_fd_read_all(int fd, size_t max_size, char **out);
/* A file of the running system named on the command line (--config): the
 * same refusals as reads under the root.  Returns the length or -errno. */
ssize_t av_file_read_all(const char *path, size_t max_size, char **out);

/* Appends to a growable int array; returns 0 or -ENOMEM. */
int av_int_push(int **arr, int *n, int value);

#endif
