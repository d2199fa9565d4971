#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checks/cmdline.h"

static int push(struct av_cmdline *c, const char *s, size_t len)
{
	char **t = realloc(c->tok, ((size_t)c->n + 1) * sizeof(char *));
	if (!t)
		return -ENOMEM;
	c->tok = t;
	char *copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	/* The kernel keeps quotes out of names and values: 'a="b c"' is a=b c. */
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '"')
			copy[k++] = s[i];
	copy[k] = '\0';
	c->tok[c->n++] = copy;
	return 0;
}

int av_cmdline_parse(const char *s, struct av_cmdline *out)
{
	out->tok = NULL;
	out->n = 0;
	while (s && *s) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		bool quoted = false;
		size_t i = 0;
		for (; s[i]; i++) {
			if (isspace((unsigned char)s[i]) && !quoted)
				break;
			if (s[i] == '"')
				quoted = !quoted;
		}
		if (i == 2 && s[0] == '-' && s[1] == '-')
			break;
		if (push(out, s, i) < 0) {
			av_cmdline_free(out);
			return -ENOMEM;
		}
		s += i;
	}
	return 0;
}

void av_cmdline_free(struct av_cmdline *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->tok[i]);
	free(c->tok);
	c->tok = NULL;
	c->n = 0;
}

bool av_param_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
		if (x != y)
			return false;
	}
	return true;
}

size_t av_param_name_len(const char *tok)
{
	const char *eq = strchr(tok, '=');
	return eq ? (size_t)(eq - tok) : strlen(tok);
}

bool av_param_eq(const char *a, const char *b)
{
	size_t la = av_param_name_len(a), lb = av_param_name_len(b);
	if (!av_param_name_eq(a, la, b, lb))
		return false;
	return strcmp(a + la, b + lb) == 0;
}

const char *av_cmdline_get(const struct av_cmdline *c, const char *name)
{
	const char *found = NULL;
	size_t nl = strlen(name);
	for (int i = 0; i < c->n; i++) {
		size_t l = av_param_name_len(c->tok[i]);
		if (av_param_name_eq(c->tok[i], l, name, nl))
			found = c->tok[i][l] ? c->tok[i] + l + 1 : "";
	}
	return found;
}

bool av_cmdline_has_item(const struct av_cmdline *c, const char *name, const char *item)
{
	size_t nl = strlen(name), il = strlen(item);
	for (int i = 0; i < c->n; i++) {
		size_t l = av_param_name_len(c->tok[i]);
		if (!c->tok[i][l] || !av_param_name_eq(c->tok[i], l, name, nl))
			continue;
		/* Module names, like parameter names, treat '-' and '_' alike. */
		for (const char *p = c->tok[i] + l + 1; *p;) {
			size_t len = strcspn(p, ",");
			if (av_param_name_eq(p, len, item, il))
				return true;
			p += len;
			if (*p == ',')
				p++;
		}
	}
	return false;
}

static bool contains(const struct av_cmdline *c, const char *tok)
{
	for (int i = 0; i < c->n; i++)
		if (av_param_eq(c->tok[i], tok))
			return true;
	return false;
}

int av_cmdline_minus(const struct av_cmdline *a, const struct av_cmdline *b,
                     bool (*skip)(const char *tok), const char ***out)
{
	int n = 0;
	*out = NULL;
	for (int i = 0; i < a->n; i++) {
		const char *t = a->tok[i];
		if ((skip && skip(t)) || contains(b, t))
			continue;
		bool dup = false;
		for (int k = 0; k < n && !dup; k++)
			dup = av_param_eq((*out)[k], t);
		if (dup)
			continue;
		const char **grown = realloc(*out, ((size_t)n + 1) * sizeof(char *));
		if (!grown) {
			free(*out);
			*out = NULL;
			return -ENOMEM;
		}
		*out = grown;
		(*out)[n++] = t;
	}
	return n;
}
