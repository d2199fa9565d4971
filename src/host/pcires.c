/* The `resource` parser; see pcires.h for the format. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "host/pcires.h"

static int hex64(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	while (*p == ' ' || *p == '\t')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	uint64_t v = 0;
	int digits = 0;
	for (;; p++, digits++) {
		int d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (digits >= 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	*pp = p;
	return 0;
}

int av_resource_parse(const char *text, struct av_resource *out, int max, int *bad_line)
{
	int n = 0, line = 0;
	for (const char *p = text; *p && n < max;) {
		line++;
		size_t len = strcspn(p, "\n");
		const char *q = p;
		struct av_resource r;
		if (hex64(&q, &r.start) < 0 || hex64(&q, &r.end) < 0 || hex64(&q, &r.flags) < 0) {
			if (bad_line)
				*bad_line = line;
			return -EINVAL;
		}
		while (*q == ' ' || *q == '\t' || *q == '\r')
			q++;
		if (q != p + len) {
			if (bad_line)
				*bad_line = line;
			return -EINVAL;
		}
		out[n++] = r;
		p += len;
		if (*p)
			p++;
	}
	return n;
}

bool av_resource_present(const struct av_resource *r)
{
	return r->flags || r->start || r->end;
}

bool av_resource_unassigned(const struct av_resource *r)
{
	return (r->flags & AV_RES_MEM) && (r->start == 0 || (r->flags & AV_RES_UNSET));
}

uint64_t av_resource_size(const struct av_resource *r)
{
	if (!av_resource_present(r) || r->end < r->start)
		return 0;
	return r->end - r->start + 1;
}

bool av_resource_above_4g(const struct av_resource *r)
{
	return !av_resource_unassigned(r) && r->start >= 0x100000000ull;
}

void av_size_str(uint64_t bytes, char *buf, int size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	int u = 0;
	uint64_t v = bytes;
	while (v >= 1024 && v % 1024 == 0 && u < 6) {
		v /= 1024;
		u++;
	}
	snprintf(buf, (size_t)size, "%" PRIu64 " %s", v, units[u]);
}
