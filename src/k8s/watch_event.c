/* A watch's answer is a stream of JSON objects, one per line; the server
 * is trusted no further than any peer: lines are bounded, and each one is
 * checked for the shape the watcher relies on before it is used. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "k8s/watch.h"
#include "base/util.h"

static const char *const type_names[] = {
	[AV_WATCH_ADDED] = "ADDED",
	[AV_WATCH_MODIFIED] = "MODIFIED",
	[AV_WATCH_DELETED] = "DELETED",
	[AV_WATCH_BOOKMARK] = "BOOKMARK",
	[AV_WATCH_ERROR] = "ERROR",
	[AV_WATCH_LISTED] = "LISTED",
};

const char *av_watch_type_name(enum av_watch_type t)
{
	return (size_t)t < sizeof(type_names) / sizeof(type_names[0]) ? type_names[t] : "?";
}

void av_watch_lines_init(struct av_watch_lines *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->max = max;
}

void av_watch_lines_reset(struct av_watch_lines *l)
{
	l->len = 0;
	l->skipping = false;
	/* One long event must not keep megabytes for the daemon's life. */
	if (l->cap > 65536) {
		free(l->buf);
		l->buf = NULL;
		l->cap = 0;
	}
}

void av_watch_lines_free(struct av_watch_lines *l)
{
	free(l->buf);
	av_watch_lines_init(l, l->max);
}

static int append(struct av_watch_lines *l, const char *data, size_t n)
{
	if (l->len + n > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		while (cap < l->len + n)
			cap *= 2;
		if (cap > l->max)
			cap = l->max;
		char *b = realloc(l->buf, cap);
		if (!b)
			return -ENOMEM;
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, data, n);
	l->len += n;
	return 0;
}

static int emit(const char *line, size_t len, av_watch_line_fn fn, void *user)
{
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < len ? fn(user, line + i, len - i) : 0;
}

int av_watch_lines_feed(struct av_watch_lines *l, const char *data, size_t len,
                        av_watch_line_fn fn, void *user)
{
	while (len > 0) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		size_t step = n + (nl != NULL);
		int r = 0;

		if (l->skipping) {
			l->skipping = nl == NULL;
		} else if (l->len + n > l->max) {
			/* Given up at once, not buffered to its end: the
			 * memory a line takes is bounded whatever is sent. */
			size_t seen = l->len + n;
			l->len = 0;
			l->skipping = nl == NULL;
			r = fn(user, NULL, seen);
		} else if (!nl) {
			r = append(l, data, n);
		} else if (l->len) {
			r = append(l, data, n);
			if (r == 0) {
				size_t whole = l->len;
				l->len = 0;
				r = emit(l->buf, whole, fn, user);
			}
		} else {
			r = emit(data, n, fn, user);
		}
		if (r < 0)
			return r;
		data += step;
		len -= step;
	}
	return 0;
}

/* cJSON turns \u0000 into a NUL inside a C string, which would read as the
 * string's prefix; no field the watcher or its users read may hold one. */
static const char *nul_in(const char *text, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\0')
			return "a NUL byte";
		if (text[i] == '"') {
			in_string = !in_string;
		} else if (in_string && text[i] == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && i + 5 < len && strncmp(text + i + 2, "0000", 4) == 0)
				return "\\u0000 (NUL) in a string";
			i++;
		}
	}
	return NULL;
}

int av_watch_event_parse(const char *line, size_t len, struct av_watch_event *ev, char **cause)
{
	memset(ev, 0, sizeof(*ev));
	const char *bad = nul_in(line, len);
	if (bad) {
		av_set_cause(cause, "an event holding %s", bad);
		return -EINVAL;
	}
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(line, len, &end, false);
	if (!doc) {
		size_t at = end && end >= line && end <= line + len ? (size_t)(end - line) : 0;
		av_set_cause(cause, "an event that is not JSON (at byte %zu of %zu)", at, len);
		return -EINVAL;
	}
	for (; end && end < line + len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\r') {
			av_set_cause(cause, "an event with text after its JSON object (at byte %zu)",
			             (size_t)(end - line));
			cJSON_Delete(doc);
			return -EINVAL;
		}
	}
	int r = -EINVAL;
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(doc, "object");
	if (!cJSON_IsObject(doc)) {
		av_set_cause(cause, "an event that is not a JSON object");
		goto out;
	}
	if (!cJSON_IsString(type)) {
		av_set_cause(cause, "an event without a \"type\" string");
		goto out;
	}
	bool known = false;
	for (int t = AV_WATCH_ADDED; t <= AV_WATCH_ERROR; t++) {
		if (strcmp(type->valuestring, type_names[t]) == 0) {
			ev->type = (enum av_watch_type)t;
			known = true;
		}
	}
	if (!known) {
		/* The type is the peer's text: cut, and escaped by the log. */
		av_set_cause(cause, "an event of unknown type \"%.40s\"", type->valuestring);
		goto out;
	}
	if (!cJSON_IsObject(obj)) {
		av_set_cause(cause, "a %s event whose \"object\" is not an object", type_names[ev->type]);
		goto out;
	}
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	if (meta && !cJSON_IsObject(meta) && !cJSON_IsNull(meta)) {
		av_set_cause(cause, "a %s event whose object.metadata is not an object", type_names[ev->type]);
		goto out;
	}
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
	if (rv && !cJSON_IsNull(rv)) {
		if (!cJSON_IsString(rv) || strlen(rv->valuestring) > AV_WATCH_RV_MAX) {
			av_set_cause(cause, "a %s event whose resourceVersion is not a string of at most %d "
			             "characters", type_names[ev->type], AV_WATCH_RV_MAX);
			goto out;
		}
		snprintf(ev->rv, sizeof(ev->rv), "%s", rv->valuestring);
	}
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	if (name && !cJSON_IsNull(name)) {
		if (!cJSON_IsString(name) || strlen(name->valuestring) >= sizeof(ev->name)) {
			av_set_cause(cause, "a %s event whose metadata.name is not a name", type_names[ev->type]);
			goto out;
		}
		snprintf(ev->name, sizeof(ev->name), "%s", name->valuestring);
	}
	if (ev->type == AV_WATCH_ERROR) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble < 1000)
			ev->code = (long)code->valuedouble;
	} else if (ev->type != AV_WATCH_BOOKMARK && !ev->rv[0]) {
		av_set_cause(cause, "a %s event whose object has no metadata.resourceVersion",
		             type_names[ev->type]);
		goto out;
	}
	ev->object = cJSON_DetachItemViaPointer(doc, obj);
	r = ev->object ? 0 : -ENOMEM;
out:
	cJSON_Delete(doc);
	return r;
}

void av_watch_event_clear(struct av_watch_event *ev)
{
	cJSON_Delete(ev->object);
	memset(ev, 0, sizeof(*ev));
}

int av_watch_text_check(const char *text, size_t len, char **cause)
{
	const char *bad = nul_in(text, len);
	if (!bad)
		return 0;
	av_set_cause(cause, "the answer holds %s", bad);
	return -EINVAL;
}
