/* DeviceConfig YAML (--config): libyaml's events turned into the cJSON tree
 * the API server's JSON gives, so that one loader reads both.
 *
 * Scalars are typed as kubectl types them (sigs.k8s.io/yaml, YAML 1.1),
 * since that is how the same file reaches a cluster: a quoted scalar, a
 * block scalar or one tagged !!str is a string; a plain one is null (~,
 * null, empty), a boolean (true, yes, on, y and their false
 * counterparts, in their three capitalisations), an integer (decimal,
 * 0x hex, 0o or leading-0 octal, 0b binary, '_' ignored) or a float, and
 * otherwise a string.  So an unquoted device ID 74b5 is a string but 7410
 * is the number 7410: AMD's schema says string, a cluster refuses the
 * number, and so does the loader (naming the field and asking for quotes).
 *
 * Refused, naming FILE:LINE: a second document, aliases (a small file could
 * expand without bound), keys that are not scalars or appear twice, NUL in
 * a scalar, nesting deeper than 64. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <yaml.h>

#include "host/devconfig.h"
#include "base/util.h"

#define MAX_DEPTH 64

struct frame {
	cJSON *node;
	char *key;   /* a mapping's key waiting for its value */
	bool have_key;
};

struct builder {
	struct frame stack[MAX_DEPTH];
	int depth;
	cJSON *root;
	const char *what;
	char **cause;
	int docs;
};

static bool one_of(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, list[i]) == 0)
			return true;
	return false;
}

/* An integer as Go's strconv.ParseInt(s, 0, 64) reads it once go-yaml has
 * removed the underscores.  Returns true and *out, or false. */
static bool yaml_int(const char *v, double *out)
{
	char buf[80];
	size_t n = 0;
	for (const char *p = v; *p; p++) {
		if (*p == '_')
			continue;
		if (n + 1 >= sizeof(buf))
			return false;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	const char *s = buf;
	bool neg = false;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		base = 8, s += 2;
	else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		base = 2, s += 2;
	else if (s[0] == '0' && s[1])
		base = 8, s += 1;
	if (!*s)
		return false;
	double v10 = 0;
	for (; *s; s++) {
		int d;
		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (isxdigit((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			return false;
		if (d >= base)
			return false;
		v10 = v10 * base + d;
	}
	if (v10 > 9223372036854775807.0)
		return false;
	*out = neg ? -v10 : v10;
	return true;
}

/* go-yaml's float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
 * and the .inf / .nan spellings. */
static bool yaml_float(const char *v, double *out)
{
	static const char *const inf[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF" };
	static const char *const ninf[] = { "-.inf", "-.Inf", "-.INF" };
	static const char *const nan_[] = { ".nan", ".NaN", ".NAN" };
	if (one_of(v, inf, sizeof(inf) / sizeof(*inf)))
		return *out = INFINITY, true;
	if (one_of(v, ninf, sizeof(ninf) / sizeof(*ninf)))
		return *out = -INFINITY, true;
	if (one_of(v, nan_, sizeof(nan_) / sizeof(*nan_)))
		return *out = NAN, true;
	const char *s = v;
	if (*s == '+' || *s == '-')
		s++;
	size_t int_digits = strspn(s, "0123456789");
	s += int_digits;
	size_t frac_digits = 0;
	if (*s == '.') {
		s++;
		frac_digits = strspn(s, "0123456789");
		s += frac_digits;
		if (!int_digits && !frac_digits)
			return false;
	} else if (!int_digits) {
		return false;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		size_t e = strspn(s, "0123456789");
		if (!e)
			return false;
		s += e;
	}
	if (*s)
		return false;
	*out = strtod(v, NULL);
	return true;
}

/* A plain scalar as YAML 1.1 types it (see the top of the file). */
cJSON *av_yaml_plain_scalar(const char *v)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const yes[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
	                                   "on", "On", "ON" };
	static const char *const no[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE",
	                                  "off", "Off", "OFF" };
	double d;
	if (one_of(v, nulls, sizeof(nulls) / sizeof(*nulls)))
		return cJSON_CreateNull();
	if (one_of(v, yes, sizeof(yes) / sizeof(*yes)))
		return cJSON_CreateTrue();
	if (one_of(v, no, sizeof(no) / sizeof(*no)))
		return cJSON_CreateFalse();
	if (yaml_int(v, &d) || yaml_float(v, &d))
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(v);
}

static int fail(struct builder *b, size_t line, const char *msg, const char *arg)
{
	av_set_cause(b->cause, "%s:%zu: %s%s%s%s", b->what, line + 1, msg, arg ? " '" : "",
	             arg ? arg : "", arg ? "'" : "");
	return -EINVAL;
}

/* Puts a finished node where it belongs: the root, the next item of a
 * sequence, a mapping's key, or the value of the key before it. */
static int attach(struct builder *b, cJSON *node, const yaml_event_t *ev, const char *key_text)
{
	size_t line = ev->start_mark.line;
	if (!node) {
		av_set_cause(b->cause, "%s: out of memory", b->what);
		return -ENOMEM;
	}
	if (b->depth == 0) {
		b->root = node;
		return 0;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (cJSON_IsArray(f->node)) {
		cJSON_AddItemToArray(f->node, node);
		return 0;
	}
	if (!f->have_key) {
		cJSON_Delete(node);
		if (!key_text)
			return fail(b, line, "a mapping key must be a plain word or a quoted string", NULL);
		if (cJSON_GetObjectItemCaseSensitive(f->node, key_text))
			return fail(b, line, "duplicate key", key_text);
		if (!(f->key = strdup(key_text))) {
			av_set_cause(b->cause, "%s: out of memory", b->what);
			return -ENOMEM;
		}
		f->have_key = true;
		return 0;
	}
	cJSON_AddItemToObject(f->node, f->key, node);
	free(f->key);
	f->key = NULL;
	f->have_key = false;
	return 0;
}

static int push(struct builder *b, cJSON *node, const yaml_event_t *ev)
{
	if (!node) {
		av_set_cause(b->cause, "%s: out of memory", b->what);
		return -ENOMEM;
	}
	if (b->depth == MAX_DEPTH) {
		cJSON_Delete(node);
		return fail(b, ev->start_mark.line, "nested more than 64 levels deep", NULL);
	}
	/* A mapping or sequence cannot be a key; attach refuses it, so the
	 * node is attached only where a value or an item goes. */
	struct frame *parent = b->depth ? &b->stack[b->depth - 1] : NULL;
	if (parent && cJSON_IsObject(parent->node) && !parent->have_key) {
		cJSON_Delete(node);
		return fail(b, ev->start_mark.line, "a mapping key must be a plain word or a quoted string", NULL);
	}
	int r = attach(b, node, ev, NULL);
	if (r < 0)
		return r;
	b->stack[b->depth++] = (struct frame){ .node = node };
	return 0;
}

static int scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	if (strlen(v) != len)
		return fail(b, ev->start_mark.line, "a NUL character, which no DeviceConfig field may hold", NULL);
	const char *tag = (const char *)ev->data.scalar.tag;
	bool as_string = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE
	                 || (tag && (strcmp(tag, YAML_STR_TAG) == 0 || strcmp(tag, "!") == 0));
	struct frame *f = b->depth ? &b->stack[b->depth - 1] : NULL;
	bool is_key = f && cJSON_IsObject(f->node) && !f->have_key;
	return attach(b, as_string || is_key ? cJSON_CreateString(v) : av_yaml_plain_scalar(v), ev, is_key ? v : NULL);
}

static int event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->docs > 1)
			return fail(b, ev->start_mark.line, "a second YAML document; give one DeviceConfig per file", NULL);
		return 0;
	case YAML_ALIAS_EVENT:
		return fail(b, ev->start_mark.line, "YAML aliases are not supported", (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return push(b, cJSON_CreateArray(), ev);
	case YAML_MAPPING_START_EVENT:
		return push(b, cJSON_CreateObject(), ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		free(b->stack[b->depth].key);
		b->stack[b->depth].key = NULL;
		return 0;
	default:
		return 0;
	}
}

cJSON *av_config_yaml_parse(const char *text, size_t len, const char *what, char **cause)
{
	struct builder b = { .what = what, .cause = cause };
	yaml_parser_t parser;
	yaml_event_t ev;
	int r = 0;
	bool done = false;

	if (!yaml_parser_initialize(&parser)) {
		av_set_cause(cause, "%s: out of memory", what);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && r == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			av_set_cause(cause, "%s:%zu: not valid YAML: %s", what, parser.problem_mark.line + 1,
			             parser.problem ? parser.problem : "syntax error");
			r = -EINVAL;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		r = event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	while (b.depth > 0)
		free(b.stack[--b.depth].key);
	if (r == 0 && !b.root) {
		av_set_cause(cause, "%s: empty: no DeviceConfig in it", what);
		r = -EINVAL;
	}
	if (r < 0) {
		cJSON_Delete(b.root);
		return NULL;
	}
	return b.root;
}
