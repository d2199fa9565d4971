/* Label keys and values: which the labeller owns, and Kubernetes' syntax
 * rules (an invalid label makes the API server refuse the whole patch, so
 * the labeller never sends one). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "labels/labels.h"

#define NAME_MAX_LEN 63
#define PREFIX_MAX_LEN 253

static bool is_alnum(char c)
{
	return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

static bool name_char(char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

/* The name part of a key, and a non-empty value, share one rule. */
static bool name_valid(const char *s, size_t len)
{
	if (len == 0 || len > NAME_MAX_LEN || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

/* A DNS subdomain: lower-case labels of [a-z0-9-] separated by dots. */
static bool prefix_valid(const char *s, size_t len)
{
	if (len == 0 || len > PREFIX_MAX_LEN)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
				return false;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

bool av_label_key_valid(const char *key)
{
	const char *slash = strchr(key, '/');
	if (!slash)
		return name_valid(key, strlen(key));
	return prefix_valid(key, (size_t)(slash - key)) && name_valid(slash + 1, strlen(slash + 1));
}

bool av_label_value_valid(const char *value)
{
	return !*value || name_valid(value, strlen(value));
}

char *av_label_value_clean(const char *in, bool cut_plus, char *buf, size_t size)
{
	size_t n = 0;
	if (size == 0)
		return buf;
	for (const char *p = in; *p && n + 1 < size && n < NAME_MAX_LEN; p++) {
		if (cut_plus && *p == '+')
			break;
		if (*p == ' ')
			buf[n++] = '_';
		else if (name_char(*p))
			buf[n++] = *p;
		/* anything else ("(", "/", control characters) is dropped */
	}
	buf[n] = '\0';
	size_t start = 0;
	while (start < n && !is_alnum(buf[start]))
		start++;
	while (n > start && !is_alnum(buf[n - 1]))
		n--;
	memmove(buf, buf + start, n - start);
	buf[n - start] = '\0';
	return buf;
}

bool av_label_operator_prefix(const struct av_config *cfg, char *buf, size_t size)
{
	if (!cfg || !cfg->present || !cfg->name || !*cfg->name)
		return false;
	const char *ns = cfg->namespace_ && *cfg->namespace_ ? cfg->namespace_ : "default";
	int len = snprintf(buf, size, "gpu.operator.amd.com/%s.%s.", ns, cfg->name);
	return len > 0 && (size_t)len < size;
}

static bool all_hex4(const char *s)
{
	if (strlen(s) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

static bool all_digits(const char *s, bool g_suffix)
{
	size_t len = strlen(s);
	if (g_suffix) {
		if (len < 2 || s[len - 1] != 'G')
			return false;
		len--;
	}
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* rest is what follows "<prefix>gpu.": a kind, optionally ".<value>" for
 * the kinds that get per-value counters. */
static bool amd_kind_owned(const char *rest, bool beta)
{
	static const char *const plain[] = { "mode", "driver-version" };
	static const char *const counted[] = { "device-id", "product-name", "vram", "cu-count", "simd-count" };

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strcmp(rest, plain[i]) == 0)
			return !beta || strcmp(plain[i], "mode") == 0;
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		size_t len = strlen(counted[i]);
		if (strncmp(rest, counted[i], len) != 0)
			continue;
		if (beta && i != 0)
			return false;
		if (rest[len] == '\0')
			return true;
		if (rest[len] != '.')
			continue;
		const char *v = rest + len + 1;
		switch (i) {
		case 0: return all_hex4(v);
		case 1: return name_valid(v, strlen(v));
		case 2: return all_digits(v, true);
		default: return all_digits(v, false);
		}
	}
	return false;
}

bool av_label_owned(const char *key, const struct av_config *cfg)
{
	if (strncmp(key, "amd.com/gpu.", 12) == 0)
		return amd_kind_owned(key + 12, false);
	if (strncmp(key, "beta.amd.com/gpu.", 17) == 0)
		return amd_kind_owned(key + 17, true);

	/* Only the DeviceConfig we follow: AMD's operator writes the same
	 * keys for its own DeviceConfigs, and those are not ours to remove. */
	char prefix[512];
	if (!av_label_operator_prefix(cfg, prefix, sizeof(prefix)))
		return false;
	size_t len = strlen(prefix);
	if (strncmp(key, prefix, len) != 0)
		return false;
	return strcmp(key + len, "driver") == 0 || strcmp(key + len, "vfio.ready") == 0;
}
