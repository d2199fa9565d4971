/* A watch's stream: lines split at any byte, bounded; each event checked
 * before it is used, and a bad one refused with one line saying why. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "k8s/watch.h"

/* What the splitter handed on: lines joined by '|', an overlong one as
 * "<TOO LONG n>". */
struct seen {
	char text[4096];
	int calls;
	int stop_after;              /* > 0: return -1 at this call */
};

static int collect(void *user, const char *line, size_t len)
{
	struct seen *s = user;
	size_t at = strlen(s->text);
	s->calls++;
	if (line)
		snprintf(s->text + at, sizeof(s->text) - at, "%s%.*s", at ? "|" : "", (int)len, line);
	else
		snprintf(s->text + at, sizeof(s->text) - at, "%s<TOO LONG %zu>", at ? "|" : "", len);
	return s->stop_after && s->calls >= s->stop_after ? -1 : 0;
}

static void feed_bytewise(struct av_watch_lines *l, const char *text, struct seen *s)
{
	for (size_t i = 0; text[i]; i++)
		assert_int_equal(av_watch_lines_feed(l, text + i, 1, collect, s), 0);
}

static void test_lines_split_anywhere(void **state)
{
	const char *stream = "{\"a\":1}\n\r\n  \n{\"b\":2}\r\n{\"c\":";
	struct av_watch_lines l;
	struct seen whole = { .text = "" }, bytes = { .text = "" };
	(void)state;

	av_watch_lines_init(&l, 64);
	assert_int_equal(av_watch_lines_feed(&l, stream, strlen(stream), collect, &whole), 0);
	assert_string_equal(whole.text, "{\"a\":1}|{\"b\":2}");
	/* The partial last line waits for the rest. */
	assert_int_equal(av_watch_lines_feed(&l, "3}\n", 3, collect, &whole), 0);
	assert_string_equal(whole.text, "{\"a\":1}|{\"b\":2}|{\"c\":3}");
	av_watch_lines_free(&l);

	av_watch_lines_init(&l, 64);
	feed_bytewise(&l, stream, &bytes);
	feed_bytewise(&l, "3}\n", &bytes);
	assert_string_equal(bytes.text, whole.text);
	av_watch_lines_free(&l);
}

static void test_lines_overlong(void **state)
{
	struct av_watch_lines l;
	struct seen s = { .text = "" };
	char big[200];
	(void)state;

	memset(big, 'x', sizeof(big));
	av_watch_lines_init(&l, 16);
	/* One line of 600 bytes, in three pieces, none with its end: given up
	 * once, at the first piece; its rest is skipped, the next line read. */
	assert_int_equal(av_watch_lines_feed(&l, "ok1\n", 4, collect, &s), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(av_watch_lines_feed(&l, big, sizeof(big), collect, &s), 0);
	assert_int_equal(av_watch_lines_feed(&l, "tail\nok2\n", 9, collect, &s), 0);
	assert_string_equal(s.text, "ok1|<TOO LONG 200>|ok2");
	/* Never more buffered than the bound. */
	assert_true(l.cap <= 16);

	/* A line of exactly the bound passes; one byte more does not. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(av_watch_lines_feed(&l, "0123456789abcdef\n0123456789abcdefg\nz\n", 37, collect, &s), 0);
	assert_string_equal(s.text, "0123456789abcdef|<TOO LONG 17>|z");
	av_watch_lines_free(&l);
}

static void test_lines_stop(void **state)
{
	struct av_watch_lines l;
	struct seen s = { .text = "", .stop_after = 2 };
	(void)state;

	av_watch_lines_init(&l, 64);
	assert_int_equal(av_watch_lines_feed(&l, "a\nb\nc\n", 6, collect, &s), -1);
	assert_string_equal(s.text, "a|b");
	/* A new stream starts clean. */
	av_watch_lines_reset(&l);
	memset(&s, 0, sizeof(s));
	assert_int_equal(av_watch_lines_feed(&l, "half", 4, collect, &s), 0);
	av_watch_lines_reset(&l);
	assert_int_equal(av_watch_lines_feed(&l, "new\n", 4, collect, &s), 0);
	assert_string_equal(s.text, "new");
	av_watch_lines_free(&l);

	/* A long partial line's buffer is not kept past the stream. */
	static char part[100000];
	memset(part, 'p', sizeof(part));
	av_watch_lines_init(&l, 1 << 20);
	assert_int_equal(av_watch_lines_feed(&l, part, sizeof(part), collect, &s), 0);
	assert_true(l.cap >= sizeof(part));
	av_watch_lines_reset(&l);
	assert_int_equal(l.cap, 0);
	assert_null(l.buf);
	av_watch_lines_free(&l);
}

static int parse(const char *line, struct av_watch_event *ev, char **cause)
{
	*cause = NULL;
	return av_watch_event_parse(line, strlen(line), ev, cause);
}

static void test_parse_events(void **state)
{
	struct av_watch_event ev;
	char *cause;
	(void)state;

	assert_int_equal(parse("{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"DeviceConfig\","
	                       "\"metadata\":{\"name\":\"dc\",\"resourceVersion\":\"123\"},"
	                       "\"spec\":{\"driver\":{\"enable\":true}}}}", &ev, &cause), 0);
	assert_int_equal(ev.type, AV_WATCH_MODIFIED);
	assert_string_equal(ev.rv, "123");
	assert_string_equal(ev.name, "dc");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(ev.object, "spec"));
	av_watch_event_clear(&ev);

	/* A bookmark carries only a version. */
	assert_int_equal(parse("{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":"
	                       "{\"resourceVersion\":\"9\"}}}", &ev, &cause), 0);
	assert_int_equal(ev.type, AV_WATCH_BOOKMARK);
	assert_string_equal(ev.rv, "9");
	assert_string_equal(ev.name, "");
	av_watch_event_clear(&ev);

	assert_int_equal(parse("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
	                       "\"reason\":\"Expired\",\"message\":\"too old resource version\"}}",
	                       &ev, &cause), 0);
	assert_int_equal(ev.type, AV_WATCH_ERROR);
	assert_int_equal(ev.code, 410);
	av_watch_event_clear(&ev);

	/* Whitespace around the object is no error. */
	assert_int_equal(parse("  {\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"dc\","
	                       "\"resourceVersion\":\"5\"}}}  \r", &ev, &cause), 0);
	assert_int_equal(ev.type, AV_WATCH_DELETED);
	av_watch_event_clear(&ev);
	assert_null(cause);
}

/* Each hostile line: refused, with one line that says what was wrong. */
static void refused(const char *line, const char *why)
{
	struct av_watch_event ev;
	char *cause;
	int r = parse(line, &ev, &cause);
	if (r != -EINVAL || !cause || !strstr(cause, why))
		fail_msg("line %s: r=%d cause=%s, wanted '%s'", line, r, cause ? cause : "(none)", why);
	assert_null(strchr(cause, '\n'));
	assert_null(ev.object);
	free(cause);
}

static void test_parse_hostile(void **state)
{
	char rv[300];
	(void)state;

	refused("", "not JSON");
	refused("garbage", "not JSON");
	refused("{\"type\":\"ADDED\",\"object\":{", "not JSON");
	refused("{\"type\":\"ADDED\"} trailing", "text after its JSON");
	refused("[1,2]", "not a JSON object");
	refused("\"ADDED\"", "not a JSON object");
	refused("{\"object\":{}}", "without a \"type\" string");
	refused("{\"type\":7,\"object\":{}}", "without a \"type\" string");
	refused("{\"type\":\"EXPLODED\",\"object\":{}}", "unknown type \"EXPLODED\"");
	refused("{\"type\":\"ADDED\"}", "\"object\" is not an object");
	refused("{\"type\":\"ADDED\",\"object\":\"dc\"}", "\"object\" is not an object");
	refused("{\"type\":\"ADDED\",\"object\":[]}", "\"object\" is not an object");
	refused("{\"type\":\"ADDED\",\"object\":{\"metadata\":3}}", "metadata is not an object");
	refused("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":12}}}",
	        "resourceVersion is not a string");
	refused("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":[],\"resourceVersion\":\"1\"}}}",
	        "metadata.name is not a name");
	refused("{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"dc\"}}}",
	        "has no metadata.resourceVersion");
	refused("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"d\\u0000c\",\"resourceVersion\":\"1\"}}}",
	        "\\u0000");
	snprintf(rv, sizeof(rv), "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"%0200d\"}}}", 1);
	refused(rv, "at most 128 characters");

	/* A NUL byte inside the line (length-delimited, not a C string). */
	struct av_watch_event ev;
	char *cause = NULL;
	static const char nul[] = "{\"type\":\"ADDED\",\0\"object\":{}}";
	assert_int_equal(av_watch_event_parse(nul, sizeof(nul) - 1, &ev, &cause), -EINVAL);
	assert_non_null(strstr(cause, "NUL byte"));
	free(cause);

	/* A type name as long as the line: cut in the message. */
	char longtype[600];
	memset(longtype, 0, sizeof(longtype));
	strcpy(longtype, "{\"type\":\"");
	memset(longtype + strlen(longtype), 'Q', 500);
	strcat(longtype, "\",\"object\":{}}");
	cause = NULL;
	assert_int_equal(parse(longtype, &ev, &cause), -EINVAL);
	assert_true(strlen(cause) < 100);
	free(cause);
}

static void test_text_check(void **state)
{
	char *cause = NULL;
	(void)state;
	assert_int_equal(av_watch_text_check("{\"a\":\"b\\\\u0000\"}", 16, &cause), 0);
	assert_int_equal(av_watch_text_check("{\"a\":\"b\\u0000\"}", 15, &cause), -EINVAL);
	assert_non_null(strstr(cause, "\\u0000"));
	free(cause);
	assert_string_equal(av_watch_type_name(AV_WATCH_LISTED), "LISTED");
	assert_string_equal(av_watch_type_name((enum av_watch_type)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_split_anywhere),
		cmocka_unit_test(test_lines_overlong),
		cmocka_unit_test(test_lines_stop),
		cmocka_unit_test(test_parse_events),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_text_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
