/* Small helpers shared by the core: messages, parsing, growable arrays. */
#ifndef AV_UTIL_H
#define AV_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Appends to a growable int array; returns 0 or -ENOMEM. */
int av_int_push(int **arr, int *n, int value);

#endif
