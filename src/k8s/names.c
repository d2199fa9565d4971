#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/names.h"
#include "base/textsafe.h"
#include "base/util.h"

static bool alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool av_k8s_label_ok(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !alnum_lower(s[0]) || !alnum_lower(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!alnum_lower(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool av_k8s_subdomain_ok(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	for (size_t start = 0; start <= len;) {
		const char *dot = memchr(s + start, '.', len - start);
		size_t end = dot ? (size_t)(dot - s) : len;
		if (!av_k8s_label_ok(s + start, end - start))
			return false;
		start = end + 1;
	}
	return true;
}

#define NAME_RULE "lower-case letters, digits, '-' and '.', starting and ending with a letter " \
	"or digit, at most 253 characters"

const char *av_k8s_node_name(const char *flag)
{
	if (flag && *flag)
		return flag;
	const char *env = getenv("NODE_NAME");
	return env && *env ? env : NULL;
}

int av_k8s_node_name_check(const char *flag, const char **out, char **cause)
{
	const char *name = av_k8s_node_name(flag);
	*out = name;
	if (!name || av_k8s_subdomain_ok(name, strlen(name)))
		return 0;
	*out = NULL;
	/* The value is the caller's, but it may hold anything: escaped. */
	av_set_cause(cause, "%s '%s': not a node name (" NAME_RULE ")",
	             flag && *flag ? "--node-name" : "NODE_NAME", AV_SAFE(name));
	return -EINVAL;
}

int av_k8s_deviceconfig_ref_check(const char *ref, char **cause)
{
	const char *slash = strchr(ref, '/');
	if (slash && av_k8s_label_ok(ref, (size_t)(slash - ref))
	    && av_k8s_subdomain_ok(slash + 1, strlen(slash + 1)))
		return 0;
	av_set_cause(cause, "--deviceconfig '%s': expected NAMESPACE/NAME (a namespace of lower-case "
	             "letters, digits and '-'; a name of " NAME_RULE ")", AV_SAFE(ref));
	return -EINVAL;
}
