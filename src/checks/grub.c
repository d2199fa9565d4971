#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/grub.h"

struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static bool name_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

const char *av_shvars_get(const struct av_shvars *vars, const char *name)
{
	for (int i = vars->n - 1; i >= 0; i--)
		if (strcmp(vars->name[i], name) == 0)
			return vars->value[i];
	return NULL;
}

static int shvars_set(struct av_shvars *vars, const char *name, size_t nlen, char *value)
{
	for (int i = 0; i < vars->n; i++)
		if (strlen(vars->name[i]) == nlen && strncmp(vars->name[i], name, nlen) == 0) {
			free(vars->value[i]);
			vars->value[i] = value;
			return 0;
		}
	char **nn = realloc(vars->name, ((size_t)vars->n + 1) * sizeof(char *));
	if (nn)
		vars->name = nn;
	char **nv = realloc(vars->value, ((size_t)vars->n + 1) * sizeof(char *));
	if (nv)
		vars->value = nv;
	char *copy = strndup(name, nlen);
	if (!nn || !nv || !copy) {
		free(copy);
		free(value);
		return -ENOMEM;
	}
	vars->name[vars->n] = copy;
	vars->value[vars->n++] = value;
	return 0;
}

void av_shvars_free(struct av_shvars *vars)
{
	for (int i = 0; i < vars->n; i++) {
		free(vars->name[i]);
		free(vars->value[i]);
	}
	free(vars->name);
	free(vars->value);
	vars->name = vars->value = NULL;
	vars->n = 0;
}

/* $NAME or ${NAME} at *p (just after the '$'); appends the value. */
static const char *expand(const char *p, const struct av_shvars *vars, struct buf *out)
{
	char name[128];
	size_t n = 0;
	bool braced = *p == '{';
	const char *q = braced ? p + 1 : p;
	if (!name_start(*q)) {
		put(out, "$", 1);
		return p;
	}
	while (name_char(q[n]) && n < sizeof(name) - 1) {
		name[n] = q[n];
		n++;
	}
	name[n] = '\0';
	q += n;
	if (braced) {
		if (*q != '}') { /* ${NAME:-x} and friends: not used by GRUB files */
			put(out, "$", 1);
			return p;
		}
		q++;
	}
	const char *v = av_shvars_get(vars, name);
	if (v)
		put(out, v, strlen(v));
	return q;
}

/* The end of `...` or $(...) at p, or NULL when it is not closed. */
static const char *skip_subst(const char *p)
{
	if (*p == '`') {
		for (p++; *p && *p != '`'; p++)
			if (*p == '\\' && p[1])
				p++;
		return *p ? p + 1 : NULL;
	}
	int depth = 0;
	char quote = 0;
	for (p++; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && --depth == 0) {
			return p + 1;
		}
	}
	return NULL;
}

/* Parses one shell word at *pp.  Returns 0, or -EINVAL on an unterminated
 * quote (then *pp points at the opening quote). */
static int word(const char **pp, const struct av_shvars *vars, struct buf *out)
{
	const char *p = *pp;
	while (*p && !isspace((unsigned char)*p) && *p != ';' && *p != '&' && *p != '|') {
		if (*p == '\'') {
			const char *end = strchr(p + 1, '\'');
			if (!end) {
				*pp = p;
				return -EINVAL;
			}
			put(out, p + 1, (size_t)(end - p - 1));
			p = end + 1;
		} else if (*p == '"') {
			const char *start = p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] && strchr("$`\"\\\n", p[1])) {
					if (p[1] != '\n')
						put(out, p + 1, 1);
					p += 2;
				} else if (*p == '`' || (p[0] == '$' && p[1] == '(')) {
					const char *end = skip_subst(p);
					if (!end) {
						*pp = start;
						return -EINVAL;
					}
					p = end;
				} else if (*p == '$') {
					p = expand(p + 1, vars, out);
				} else {
					put(out, p++, 1);
				}
			}
			if (!*p) {
				*pp = start;
				return -EINVAL;
			}
			p++;
		} else if (*p == '\\') {
			if (p[1] && p[1] != '\n')
				put(out, p + 1, 1);
			p += p[1] ? 2 : 1;
		} else if (*p == '`' || (p[0] == '$' && p[1] == '(')) {
			/* Command substitution: its output is unknowable here, and
			 * what it contains must not be read as assignments. */
			const char *end = skip_subst(p);
			if (!end) {
				*pp = p;
				return -EINVAL;
			}
			p = end;
		} else if (*p == '$') {
			p = expand(p + 1, vars, out);
		} else {
			put(out, p++, 1);
		}
	}
	*pp = p;
	return 0;
}

static int line_of(const char *text, const char *p)
{
	int line = 1;
	for (const char *q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

/* Skips a statement we do not interpret, honouring quotes so that a quoted
 * newline does not start a new statement. */
static const char *skip_statement(const char *p)
{
	char quote = 0;
	for (; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			else if (quote == '"' && *p == '\\' && p[1])
				p++;
		} else if (*p == '\'' || *p == '"' || *p == '`') {
			quote = *p;
		} else if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '#') {
			while (*p && *p != '\n')
				p++;
			return p;
		} else if (*p == '\n' || *p == ';') {
			return p;
		}
	}
	return p;
}

int av_grub_source(const char *text, struct av_shvars *vars, int *bad_line)
{
	const char *p = text;
	while (*p) {
		while (*p && (isspace((unsigned char)*p) || *p == ';'))
			p++;
		if (!*p)
			break;
		if (*p == '#') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
			p += 6;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		const char *name = p;
		while (name_char(*p))
			p++;
		size_t nlen = (size_t)(p - name);
		bool append = p[0] == '+' && p[1] == '=';
		if (!nlen || !name_start(*name) || (*p != '=' && !append)) {
			p = skip_statement(p);
			continue;
		}
		p += append ? 2 : 1;
		struct buf val = { 0 };
		if (append) {
			char nm[128];
			snprintf(nm, sizeof(nm), "%.*s", (int)(nlen < 127 ? nlen : 127), name);
			const char *old = av_shvars_get(vars, nm);
			if (old)
				put(&val, old, strlen(old));
		}
		put(&val, "", 0);
		if (word(&p, vars, &val) < 0) {
			free(val.s);
			if (bad_line)
				*bad_line = line_of(text, p);
			return -EINVAL;
		}
		if (val.oom) {
			free(val.s);
			return -ENOMEM;
		}
		if (shvars_set(vars, name, nlen, val.s) < 0)
			return -ENOMEM;
		/* "A=1 cmd" runs cmd with A in its environment only; GRUB files
		 * do not do this, so the rest of the statement is ignored. */
		p = skip_statement(p);
	}
	return 0;
}

static char *dup_trim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

int av_bls_parse(const char *text, struct av_bls_entry *out)
{
	memset(out, 0, sizeof(*out));
	struct buf opts = { 0 };
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		const char *line = p;
		p += len;
		if (*p)
			p++;
		while (len && isspace((unsigned char)*line)) {
			line++;
			len--;
		}
		if (!len || *line == '#')
			continue;
		size_t klen = 0;
		while (klen < len && !isspace((unsigned char)line[klen]))
			klen++;
		const char *val = line + klen;
		size_t vlen = len - klen;
		char **slot = NULL;
		if (klen == 5 && strncmp(line, "title", 5) == 0)
			slot = &out->title;
		else if (klen == 7 && strncmp(line, "version", 7) == 0)
			slot = &out->version;
		else if (klen == 5 && strncmp(line, "linux", 5) == 0)
			slot = &out->linux_path;
		else if (klen == 7 && strncmp(line, "options", 7) == 0) {
			char *v = dup_trim(val, vlen);
			if (!v)
				goto oom;
			if (opts.len)
				put(&opts, " ", 1);
			put(&opts, v, strlen(v));
			free(v);
			continue;
		}
		if (slot) {
			free(*slot);
			if (!(*slot = dup_trim(val, vlen)))
				goto oom;
		}
	}
	if (opts.oom)
		goto oom;
	out->options = opts.s ? opts.s : strdup("");
	if (!out->options)
		goto oom;
	return 0;
oom:
	free(opts.s);
	av_bls_free(out);
	return -ENOMEM;
}

void av_bls_free(struct av_bls_entry *e)
{
	free(e->title);
	free(e->version);
	free(e->linux_path);
	free(e->options);
	memset(e, 0, sizeof(*e));
}

char *av_grubenv_get(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=')
			return strndup(p + kl + 1, len - kl - 1);
		p += len;
		if (*p)
			p++;
	}
	return NULL;
}

char *av_expand_vars(const char *s, const char *(*lookup)(const char *name, void *user), void *user)
{
	struct buf out = { 0 };
	put(&out, "", 0);
	while (*s) {
		if (*s != '$') {
			size_t n = strcspn(s, "$");
			put(&out, s, n);
			s += n;
			continue;
		}
		bool braced = s[1] == '{';
		const char *q = s + 1 + braced;
		size_t n = 0;
		while (name_char(q[n]))
			n++;
		if (!n || !name_start(*q) || (braced && q[n] != '}')) {
			put(&out, s++, 1);
			continue;
		}
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(n < 127 ? n : 127), q);
		const char *v = lookup(name, user);
		if (v)
			put(&out, v, strlen(v));
		s = q + n + braced;
	}
	if (out.oom) {
		free(out.s);
		return NULL;
	}
	return out.s;
}
