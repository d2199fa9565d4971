#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yaml.h"

/* Plain scalars are safe only when YAML cannot read them as a number,
 * a boolean, null or a mapping ("1002:74b5" is quoted, as in KubeVirt's
 * own examples). */
static bool plain_ok(const char *s)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~" };
	if (!s[0] || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == '/'))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_./-", *p))
			return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i]) == 0)
			return false;
	return true;
}

static void string_out(FILE *f, const char *s)
{
	if (plain_ok(s)) {
		fputs(s, f);
		return;
	}
	/* A JSON string is a valid YAML double-quoted scalar. */
	cJSON *tmp = cJSON_CreateString(s);
	char *q = tmp ? cJSON_PrintUnformatted(tmp) : NULL;
	fputs(q ? q : "\"\"", f);
	free(q);
	cJSON_Delete(tmp);
}

static bool is_scalar(const cJSON *v)
{
	return !cJSON_IsObject(v) && !cJSON_IsArray(v);
}

static void scalar_out(FILE *f, const cJSON *v)
{
	if (cJSON_IsString(v))
		string_out(f, v->valuestring);
	else if (cJSON_IsBool(v))
		fputs(cJSON_IsTrue(v) ? "true" : "false", f);
	else if (cJSON_IsNumber(v)) {
		char *n = cJSON_PrintUnformatted(v);
		fputs(n ? n : "0", f);
		free(n);
	} else {
		fputs("null", f);
	}
}

static void node_out(FILE *f, const cJSON *v, int ind, bool after_dash);

/* key: value, or key: and the value's block below it. */
static void member_out(FILE *f, const cJSON *k, int ind, bool after_dash)
{
	if (!after_dash)
		fprintf(f, "%*s", ind, "");
	string_out(f, k->string ? k->string : "");
	fputc(':', f);
	if (is_scalar(k) || !k->child) {
		fputc(' ', f);
		if (is_scalar(k))
			scalar_out(f, k);
		else
			fputs(cJSON_IsArray(k) ? "[]" : "{}", f);
		fputc('\n', f);
		return;
	}
	fputc('\n', f);
	/* Sequences under a key sit at the key's indent, as kubectl has them. */
	node_out(f, k, cJSON_IsArray(k) ? ind : ind + 2, false);
}

static void node_out(FILE *f, const cJSON *v, int ind, bool after_dash)
{
	if (cJSON_IsObject(v)) {
		for (const cJSON *k = v->child; k; k = k->next, after_dash = false)
			member_out(f, k, ind, after_dash);
	} else if (cJSON_IsArray(v)) {
		for (const cJSON *e = v->child; e; e = e->next) {
			fprintf(f, "%*s- ", ind, "");
			if (cJSON_IsObject(e) && e->child) {
				node_out(f, e, ind + 2, true);
			} else if (is_scalar(e)) {
				scalar_out(f, e);
				fputc('\n', f);
			} else {
				/* Nested sequences and empty maps: flow style keeps them short. */
				char *flow = cJSON_PrintUnformatted(e);
				fprintf(f, "%s\n", flow ? flow : "[]");
				free(flow);
			}
		}
	} else {
		fprintf(f, "%*s", ind, "");
		scalar_out(f, v);
		fputc('\n', f);
	}
}

char *ui_yaml(const cJSON *v)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	if (v)
		node_out(f, v, 0, false);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
