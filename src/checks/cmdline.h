/* Kernel command lines: tokenizing (as the kernel's next_arg() does),
 * parameter lookup and token-by-token comparison.  Pure functions. */
#ifndef AV_CMDLINE_H
#define AV_CMDLINE_H

#include <stdbool.h>

struct av_cmdline {
	char **tok;              /* "name" or "name=value", quotes removed */
	int n;
};

/* Splits s into parameters.  Double quotes group blanks ("a=\"b c\"");
 * a lone "--" ends the kernel's part (the rest belongs to init).
 * Returns 0 or -ENOMEM; out is valid (possibly empty) on success. */
int av_cmdline_parse(const char *s, struct av_cmdline *out);
void av_cmdline_free(struct av_cmdline *c);

/* Parameter names compare as the kernel does: '-' and '_' are equal. */
bool av_param_name_eq(const char *a, size_t alen, const char *b, size_t blen);
/* The name part of a token (length up to '='). */
size_t av_param_name_len(const char *tok);
/* Tokens are equal when names match (as above) and values are identical. */
bool av_param_eq(const char *a, const char *b);

/* The value of the last occurrence of name: "" for a bare flag, NULL when
 * absent. */
const char *av_cmdline_get(const struct av_cmdline *c, const char *name);
/* True when some occurrence of name has item in its comma-separated list
 * ("modprobe.blacklist=ast,amdgpu"). */
bool av_cmdline_has_item(const struct av_cmdline *c, const char *name, const char *item);

/* Tokens of a not present in b (each once, in a's order).  skip, when not
 * NULL, drops tokens the comparison must ignore.  Returns the count, or
 * -ENOMEM; *out holds pointers into a (free the array only). */
int av_cmdline_minus(const struct av_cmdline *a, const struct av_cmdline *b,
                     bool (*skip)(const char *tok), const char ***out);

#endif
