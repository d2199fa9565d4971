#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "dra/names.h"
#include "k8s/names.h"
#include "base/util.h"

/* The API server's own rules, as the API client checks names for paths. */
bool av_dra_dns_label_ok(const char *s)
{
	return av_k8s_label_ok(s, strlen(s));
}

bool av_dra_dns_subdomain_ok(const char *s)
{
	return av_k8s_subdomain_ok(s, strlen(s));
}

static bool c_ident_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > AV_DRA_MAX_ID || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isascii((unsigned char)s[i]) || !(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

bool av_dra_attr_name_ok(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash)
		return c_ident_ok(s);
	size_t n = (size_t)(slash - s);
	return n <= 63 && av_k8s_subdomain_ok(s, n) && c_ident_ok(slash + 1);
}

/* A numeric identifier: digits, no leading zero unless alone. */
static const char *numeric(const char *p)
{
	if (!isdigit((unsigned char)*p))
		return NULL;
	if (*p == '0' && isdigit((unsigned char)p[1]))
		return NULL;
	while (isdigit((unsigned char)*p))
		p++;
	return p;
}

/* Dot-separated identifiers of [0-9A-Za-z-]; pre-release ones that are
 * all digits may not have a leading zero. */
static const char *idents(const char *p, bool pre)
{
	for (;;) {
		const char *s = p;
		bool digits = true;
		while (isascii((unsigned char)*p) && (isalnum((unsigned char)*p) || *p == '-')) {
			digits &= isdigit((unsigned char)*p) != 0;
			p++;
		}
		if (p == s || (pre && digits && *s == '0' && p - s > 1))
			return NULL;
		if (*p != '.')
			return p;
		p++;
	}
}

bool av_dra_semver_ok(const char *s)
{
	if (strlen(s) > AV_DRA_MAX_STRING)
		return false;
	const char *p = s;
	for (int i = 0; i < 3; i++) {
		if (!(p = numeric(p)))
			return false;
		if (i < 2 && *p++ != '.')
			return false;
	}
	if (*p == '-' && !(p = idents(p + 1, true)))
		return false;
	if (*p == '+' && !(p = idents(p + 1, false)))
		return false;
	return *p == '\0';
}

bool av_dra_semver_from(const char *s, char *out, size_t size)
{
	const char *p = s;
	for (int i = 0; i < 3; i++) {
		const char *e = numeric(p);
		if (!e || (i < 2 && *e != '.'))
			return false;
		p = i < 2 ? e + 1 : e;
	}
	size_t core = (size_t)(p - s);
	char build[AV_DRA_MAX_STRING + 1];
	size_t n = 0;
	/* The rest, as build metadata: runs of other characters become one
	 * dot, so "8.1.0.K" and "6.4.0-rc1" keep all they say. */
	for (const char *q = *p ? p + 1 : p; *q && n + 1 < sizeof(build); q++) {
		if (isascii((unsigned char)*q) && (isalnum((unsigned char)*q) || *q == '-'))
			build[n++] = *q;
		else if (n > 0 && build[n - 1] != '.')
			build[n++] = '.';
	}
	while (n > 0 && build[n - 1] == '.')
		n--;
	build[n] = '\0';
	if (n)
		snprintf(out, size, "%.*s+%s", (int)core, s, build);
	else
		snprintf(out, size, "%.*s", (int)core, s);
	return av_dra_semver_ok(out);
}

void av_dra_device_name(const char *prefix, const char *bdf, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "%s-", prefix);
	for (const char *p = bdf; *p && n + 1 < size; p++)
		out[n++] = (*p == ':' || *p == '.') ? '-' : (char)tolower((unsigned char)*p);
	if (n < size)
		out[n] = '\0';
}

bool av_dra_bdf_from_name(const char *name, char out[13])
{
	char buf[16];
	if ((strncmp(name, "vf-", 3) != 0 && strncmp(name, "pf-", 3) != 0) || strlen(name) != 15)
		return false;
	/* dddd-bb-dd-f */
	snprintf(buf, sizeof(buf), "%s", name + 3);
	if (buf[4] != '-' || buf[7] != '-' || buf[10] != '-')
		return false;
	buf[4] = buf[7] = ':';
	buf[10] = '.';
	return av_bdf_normalise(buf, out) == 0 && strcmp(out, buf) == 0;
}
