/* Drives the daemon's labeller thread (src/agent/labeller_worker.c) through a
 * script of steps, for tests/integration/labels.sh:
 *
 *   labeller-drive NODE STEP...
 *     set FILE | force FILE   hand over the labels in FILE (a JSON object)
 *     wait                    wait until idle, print "wait: RESULT"
 *     wait-ok                 wait until an attempt succeeded
 *     sleep MS                let the thread work
 *     stop                    stop, print "stopped in N ms"
 *
 * Credentials as for `labels --apply` ($KUBECONFIG or in-cluster). Retries
 * are made fast so the test does not sleep through real backoff. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "agent/labeller.h"
#include "agent/labeller_worker.h"

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_line(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("log: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct av_label *)a)->key, ((const struct av_label *)b)->key);
}

static int load(const char *path, struct av_labels *l)
{
	FILE *f = fopen(path, "re");
	char buf[65536];
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	cJSON *doc = cJSON_Parse(buf);
	memset(l, 0, sizeof(*l));
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return -EINVAL;
	}
	l->items = calloc((size_t)cJSON_GetArraySize(doc) + 1, sizeof(*l->items));
	const cJSON *e;
	cJSON_ArrayForEach(e, doc) {
		l->items[l->n].key = strdup(e->string);
		l->items[l->n].value = strdup(cJSON_IsString(e) ? e->valuestring : "");
		l->n++;
	}
	qsort(l->items, (size_t)l->n, sizeof(*l->items), by_key);
	cJSON_Delete(doc);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	char *cause = NULL;
	if (argc < 3) {
		fprintf(stderr, "usage: labeller-drive NODE STEP...\n");
		return 2;
	}
	struct av_host *host = av_host_open(getenv("AV_ROOT") ? getenv("AV_ROOT") : "/", &cause);
	struct av_k8s *k = host ? av_labeller_client(host, NULL, &cause) : NULL;
	if (!k) {
		fprintf(stderr, "labeller-drive: %s\n", cause);
		return 2;
	}
	struct av_k8s_retry retry = av_k8s_retry_defaults();
	retry.base_ms = 10;
	retry.cap_ms = 40;
	av_k8s_set_retry(k, &retry);
	struct av_labeller_opts opts = { .retry_min_ms = 100, .retry_max_ms = 400 };
	struct av_labeller *l = av_labeller_start(k, argv[1], NULL, log_line, &opts, &cause);
	if (!l) {
		fprintf(stderr, "labeller-drive: %s\n", cause);
		return 2;
	}
	int rc = 0;
	for (int i = 2; i < argc; i++) {
		if ((strcmp(argv[i], "set") == 0 || strcmp(argv[i], "force") == 0) && i + 1 < argc) {
			struct av_labels labels;
			if (load(argv[i + 1], &labels) < 0) {
				fprintf(stderr, "labeller-drive: %s: not a JSON object\n", argv[i + 1]);
				rc = 2;
				break;
			}
			av_labeller_update(l, &labels, argv[i][0] == 'f');
			av_labels_clear(&labels);
			i++;
		} else if (strcmp(argv[i], "wait") == 0) {
			printf("wait: %d\n", av_labeller_wait_idle(l, 20000));
		} else if (strcmp(argv[i], "wait-ok") == 0) {
			long until = now_ms() + 20000;
			int r;
			while ((r = av_labeller_wait_idle(l, 20000)) != 0 && now_ms() < until) {
				struct timespec ts = { 0, 20000000L };
				nanosleep(&ts, NULL);
			}
			printf("wait-ok: %d\n", r);
		} else if (strcmp(argv[i], "sleep") == 0 && i + 1 < argc) {
			long ms = atol(argv[++i]);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		} else if (strcmp(argv[i], "stop") == 0) {
			long t0 = now_ms();
			av_labeller_stop(l);
			l = NULL;
			printf("stopped in %ld ms\n", now_ms() - t0);
			break;
		} else {
			fprintf(stderr, "labeller-drive: unknown step %s\n", argv[i]);
			rc = 2;
			break;
		}
		fflush(stdout);
	}
	av_labeller_stop(l);
	av_host_free(host);
	return rc;
}
