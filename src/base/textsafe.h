/* Text from the host (sysfs names, file contents), from peers (gRPC
 * requests) and from the API server is untrusted: it may hold bytes that
 * are not UTF-8 and characters that steer a terminal or split a log line.
 * Everything amdvirt prints passes through here on the way out (doc/json.md
 * describes the escapes). */
#ifndef AV_TEXTSAFE_H
#define AV_TEXTSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

/* The length (1..4) of the well-formed UTF-8 sequence at s, with at most
 * left bytes to look at, and its code point; 0 when the bytes there are
 * not one (overlong forms, surrogates and values above U+10FFFF are not). */
size_t av_utf8_seq(const char *s, size_t left, uint32_t *cp);

/* Whether a code point would act on a terminal or a log reader rather than
 * be shown: C0 and C1 controls, DEL, the line and paragraph separators and
 * the bidirectional overrides and isolates. */
bool av_text_control(uint32_t cp);

/* Copies n bytes of s into out (size bytes, always NUL-terminated) for a
 * terminal or a log: a byte that is not part of well-formed UTF-8, and a
 * C0 control or DEL, becomes \xNN; another control character becomes
 * \uNNNN; everything else is copied.  Text that does not fit is cut at a
 * character boundary and ends in "...".  Returns the length written. */
size_t av_text_escape_n(char *out, size_t size, const char *s, size_t n);
/* The same for a C string (NULL is ""); returns out. */
char *av_text_escape(char *out, size_t size, const char *s);

/* A safe copy of s for one printf argument, valid until the end of the
 * enclosing block: printf("%s", AV_SAFE(name)). */
#define AV_SAFE_MAX 2048
#define AV_SAFE(s) av_text_escape((char[AV_SAFE_MAX]){ 0 }, AV_SAFE_MAX, (s))

/* Replaces, in place, every byte of s that is not part of well-formed
 * UTF-8 with U+FFFD; since that takes three bytes, the result is a new
 * string (s is freed), or NULL when memory ran out (s is freed too). */
char *av_utf8_repair(char *s);

/* cJSON_Print (formatted) or cJSON_PrintUnformatted, made valid UTF-8:
 * cJSON escapes control characters but copies other bytes as they are.
 * NULL when memory ran out. */
char *av_json_print(const struct cJSON *doc, bool formatted);

#endif
