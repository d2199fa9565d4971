#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"

int fh_fail(struct fh_host *h, int err, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	/* The first failure is the cause; later ones are consequences. */
	if (h->cause)
		return -h->err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	h->cause = h->what[0] ? fh_printf("%s: %s", h->what, msg) : fh_strdup(msg);
	h->err = err;
	return -err;
}

void *fh_alloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);

	if (!p)
		abort();
	return p;
}

void *fh_grow(void *p, int *cap, int need, size_t elem)
{
	int n = *cap;

	if (need <= n)
		return p;
	while (n < need)
		n = n ? n * 2 : 16;
	p = realloc(p, (size_t)n * elem);
	if (!p)
		abort();
	memset((char *)p + (size_t)*cap * elem, 0, (size_t)(n - *cap) * elem);
	*cap = n;
	return p;
}

char *fh_strdup(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		abort();
	return p;
}

char *fh_printf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		abort();
	va_end(ap);
	return p;
}

const cJSON *fh_get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

int fh_keys(struct fh_host *h, const cJSON *obj, const char *where, const char *const *allowed)
{
	const cJSON *it;

	if (!cJSON_IsObject(obj))
		return fh_fail(h, EINVAL, "%s: expected an object", where);
	cJSON_ArrayForEach(it, obj) {
		bool ok = it->string[0] == '_';

		for (const char *const *a = allowed; !ok && *a; a++)
			ok = strcmp(*a, it->string) == 0;
		if (!ok)
			return fh_fail(h, EINVAL, "%s.%s: unknown field", where, it->string);
	}
	return 0;
}

int fh_get_bool(struct fh_host *h, const cJSON *obj, const char *key, const char *where, bool *out)
{
	const cJSON *v = fh_get(obj, key);

	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return fh_fail(h, EINVAL, "%s.%s: expected true or false", where, key);
	*out = cJSON_IsTrue(v);
	return 1;
}

int fh_get_int(struct fh_host *h, const cJSON *obj, const char *key, const char *where,
               long lo, long hi, int *out)
{
	const cJSON *v = fh_get(obj, key);

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble ||
	    (long)v->valuedouble < lo || (long)v->valuedouble > hi)
		return fh_fail(h, EINVAL, "%s.%s: expected an integer in %ld..%ld", where, key, lo, hi);
	*out = (int)v->valuedouble;
	return 1;
}

int fh_get_str(struct fh_host *h, const cJSON *obj, const char *key, const char *where,
               const char **out)
{
	const cJSON *v = fh_get(obj, key);

	if (!v)
		return 0;
	if (cJSON_IsNull(v)) {
		*out = NULL;
		return 1;
	}
	if (!cJSON_IsString(v))
		return fh_fail(h, EINVAL, "%s.%s: expected a string or null", where, key);
	*out = v->valuestring;
	return 1;
}

int fh_get_hex(struct fh_host *h, const cJSON *obj, const char *key, const char *where,
               uint32_t max, uint32_t *out)
{
	const cJSON *v = fh_get(obj, key);
	unsigned long x;
	char *end;

	if (!v)
		return 0;
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= max) {
		*out = (uint32_t)v->valuedouble;
		return 1;
	}
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return fh_fail(h, EINVAL, "%s.%s: expected a hex string", where, key);
	errno = 0;
	x = strtoul(v->valuestring, &end, 16);
	if (errno || *end || x > max)
		return fh_fail(h, EINVAL, "%s.%s: '%s' is not a hex number up to 0x%x", where, key,
			       v->valuestring, (unsigned)max);
	*out = (uint32_t)x;
	return 1;
}

int fh_get_size(struct fh_host *h, const cJSON *obj, const char *key, const char *where,
                uint64_t *out)
{
	const cJSON *v = fh_get(obj, key);
	unsigned long long x;
	char *end;

	if (!v)
		return 0;
	if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
		*out = (uint64_t)v->valuedouble;
		return 1;
	}
	if (!cJSON_IsString(v))
		return fh_fail(h, EINVAL, "%s.%s: expected a size such as \"256M\"", where, key);
	errno = 0;
	x = strtoull(v->valuestring, &end, 0);
	switch (*end) {
	case 'K': x <<= 10; end++; break;
	case 'M': x <<= 20; end++; break;
	case 'G': x <<= 30; end++; break;
	case 'T': x <<= 40; end++; break;
	default: break;
	}
	if (errno || *end || end == v->valuestring)
		return fh_fail(h, EINVAL, "%s.%s: '%s' is not a size such as \"256M\"", where, key,
			       v->valuestring);
	*out = x;
	return 1;
}

int fh_parse_bdf(const char *s, int *domain, int *bus, int *devfn)
{
	unsigned d, b, dev, fn;
	char tail;

	if (!s || sscanf(s, "%4x:%2x:%2x.%1x%c", &d, &b, &dev, &fn, &tail) != 4 ||
	    strlen(s) != 12 || dev > 31 || fn > 7)
		return -EINVAL;
	*domain = (int)d;
	*bus = (int)b;
	*devfn = (int)(dev << 3 | fn);
	return 0;
}

void fh_format_bdf(char *buf, int domain, int bus, int devfn)
{
	snprintf(buf, FH_BDF_LEN, "%04x:%02x:%02x.%x", (unsigned)domain & 0xffff,
		 (unsigned)bus & 0xff, (unsigned)(devfn >> 3) & 0x1f, (unsigned)devfn & 7);
}

int fh_each(struct fh_host *h, const cJSON *list, const char *key, fh_entry_fn fn)
{
	const cJSON *e;
	int i = 0;

	if (!list)
		return 0;
	if (!cJSON_IsArray(list))
		return fh_fail(h, EINVAL, "%s: expected a list", key);
	cJSON_ArrayForEach(e, list) {
		char where[48];

		snprintf(where, sizeof(where), "%s[%d]", key, i++);
		if (!cJSON_IsObject(e))
			return fh_fail(h, EINVAL, "%s: expected an object", where);
		if (fn(h, e, where) < 0)
			return -h->err;
	}
	return 0;
}
