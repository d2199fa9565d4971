#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/textsafe.h"

size_t av_utf8_seq(const char *str, size_t left, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;
	uint32_t v;

	if (left == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	/* The second byte's range excludes overlong forms (E0, F0),
	 * surrogates (ED) and code points above U+10FFFF (F4). */
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		v = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		v = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		v = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (left < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xbf))
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

bool av_text_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029
	       || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* One character of s (at most n bytes) as it is written out: *piece gets
 * the bytes (up to 6), the return value is how many input bytes it took. */
static size_t escape_one(const char *s, size_t n, char piece[8], size_t *pl)
{
	uint32_t cp;
	size_t sl = av_utf8_seq(s, n, &cp);
	if (sl == 0 || (sl == 1 && av_text_control(cp))) {
		*pl = (size_t)snprintf(piece, 8, "\\x%02x", (unsigned char)s[0]);
		return 1;
	}
	if (av_text_control(cp)) {
		*pl = (size_t)snprintf(piece, 8, "\\u%04x", (unsigned)cp);
		return sl;
	}
	memcpy(piece, s, sl);
	*pl = sl;
	return sl;
}

size_t av_text_escape_n(char *out, size_t size, const char *s, size_t n)
{
	static const char dots[] = "...";
	char piece[8];
	size_t o = 0, pl, total = 0;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < n;) {
		i += escape_one(s + i, n - i, piece, &pl);
		total += pl;
	}
	/* Cut text keeps room for the dots after the last whole piece. */
	size_t limit = total < size ? size : size > sizeof(dots) ? size - (sizeof(dots) - 1) : 0;
	for (size_t i = 0; i < n;) {
		size_t sl = escape_one(s + i, n - i, piece, &pl);
		if (o + pl >= limit) {
			if (o + sizeof(dots) <= size) {
				memcpy(out + o, dots, sizeof(dots) - 1);
				o += sizeof(dots) - 1;
			}
			break;
		}
		memcpy(out + o, piece, pl);
		o += pl;
		i += sl;
	}
	out[o] = '\0';
	return o;
}

char *av_text_escape(char *out, size_t size, const char *s)
{
	av_text_escape_n(out, size, s ? s : "", s ? strlen(s) : 0);
	return out;
}

char *av_utf8_repair(char *s)
{
	size_t len = strlen(s), bad = 0;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t sl = av_utf8_seq(s + i, len - i, &cp);
		bad += sl == 0;
		i += sl ? sl : 1;
	}
	if (!bad)
		return s;
	char *out = malloc(len + 2 * bad + 1);
	if (!out) {
		free(s);
		return NULL;
	}
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t sl = av_utf8_seq(s + i, len - i, &cp);
		if (sl == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, sl);
			o += sl;
			i += sl;
		}
	}
	out[o] = '\0';
	free(s);
	return out;
}

char *av_json_print(const cJSON *doc, bool formatted)
{
	char *text = formatted ? cJSON_Print(doc) : cJSON_PrintUnformatted(doc);
	/* Outside strings cJSON writes ASCII only, so a repaired byte is
	 * always inside a string and the document stays well-formed. */
	return text ? av_utf8_repair(text) : NULL;
}
