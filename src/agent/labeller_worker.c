#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/node.h"
#include "agent/labeller_worker.h"
#include "base/evloop.h"
#include "base/util.h"

struct av_labeller {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;         /* work for the thread, or idle for waiters */
	atomic_bool stop;
	struct av_k8s *k;
	char *node;
	struct av_config cfg;        /* name, namespace and present only */
	av_labeller_log_fn log;
	struct av_labeller_opts opts;

	/* under lock */
	struct av_labels want;       /* the latest desired set */
	bool dirty;                  /* want differs from what was last tried */
	bool force;
	bool busy;                   /* an attempt is in progress */
	int last_result;             /* of the last attempt */
	struct timespec retry_at;    /* tv_sec 0: no retry pending */
	long retry_ms;

	struct av_labels applied;    /* thread only: the set the Node was last brought to */
	bool have_applied;
};

static int labels_copy(struct av_labels *dst, const struct av_labels *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src->n == 0)
		return 0;
	dst->items = calloc((size_t)src->n, sizeof(*dst->items));
	if (!dst->items)
		return -ENOMEM;
	for (int i = 0; i < src->n; i++) {
		dst->items[i].key = strdup(src->items[i].key);
		dst->items[i].value = strdup(src->items[i].value);
		dst->n++;
		if (!dst->items[i].key || !dst->items[i].value) {
			av_labels_clear(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Both sets are sorted by key (av_labels_compute). */
static bool labels_equal(const struct av_labels *a, const struct av_labels *b)
{
	if (a->n != b->n)
		return false;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->items[i].key, b->items[i].key) != 0
		    || strcmp(a->items[i].value, b->items[i].value) != 0)
			return false;
	return true;
}

/* One attempt, outside the lock.  Returns 0 or -errno. */
static int attempt(struct av_labeller *l, struct av_labels *want, bool force)
{
	if (!force && l->have_applied && labels_equal(want, &l->applied))
		return 0;
	struct av_apply_result res;
	char *cause = NULL;
	int r = av_k8s_apply_labels(l->k, l->node, want, &l->cfg, &res, &cause);
	if (r == 0) {
		if (res.patch)
			l->log("node %s: %d label%s set, %d removed", l->node, res.n_set,
			       res.n_set == 1 ? "" : "s", res.n_removed);
		av_labels_clear(&l->applied);
		l->applied = *want;
		memset(want, 0, sizeof(*want));
		l->have_applied = true;
	} else if (r != -ECANCELED) {
		l->log("node %s: labels not applied: %s", l->node, cause ? cause : "out of memory");
	}
	av_apply_result_clear(&res);
	free(cause);
	return r;
}

static void *run(void *arg)
{
	struct av_labeller *l = arg;
	pthread_mutex_lock(&l->lock);
	while (!atomic_load(&l->stop)) {
		if (!l->dirty) {
			int w = l->retry_at.tv_sec ? pthread_cond_timedwait(&l->cond, &l->lock, &l->retry_at)
			                           : pthread_cond_wait(&l->cond, &l->lock);
			if (w == ETIMEDOUT && !l->dirty && l->retry_at.tv_sec) {
				l->dirty = true;
				l->force = true;
			}
			continue;
		}
		struct av_labels want;
		bool force = l->force;
		int r = labels_copy(&want, &l->want);
		l->dirty = l->force = false;
		l->busy = true;
		pthread_mutex_unlock(&l->lock);

		if (r == 0)
			r = attempt(l, &want, force);
		av_labels_clear(&want);

		pthread_mutex_lock(&l->lock);
		l->busy = false;
		l->last_result = r;
		if (r == 0 || r == -ECANCELED) {
			l->retry_at.tv_sec = 0;
			l->retry_ms = l->opts.retry_min_ms;
		} else {
			av_deadline_ms(&l->retry_at, l->retry_ms);
			l->retry_ms = l->retry_ms * 2 > l->opts.retry_max_ms ? l->opts.retry_max_ms
			                                                     : l->retry_ms * 2;
		}
		pthread_cond_broadcast(&l->cond);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

struct av_labeller *av_labeller_start(struct av_k8s *k, const char *node,
                                      const struct av_config *cfg, av_labeller_log_fn log,
                                      const struct av_labeller_opts *opts, char **cause)
{
	struct av_labeller *l = calloc(1, sizeof(*l));
	pthread_condattr_t ca;
	if (!l || !(l->node = strdup(node))) {
		free(l);
		av_k8s_free(k);
		av_set_cause(cause, "out of memory");
		return NULL;
	}
	l->k = k;
	l->log = log;
	l->opts.retry_min_ms = opts && opts->retry_min_ms > 0 ? opts->retry_min_ms : 5000;
	l->opts.retry_max_ms = opts && opts->retry_max_ms > 0 ? opts->retry_max_ms : 300000;
	l->retry_ms = l->opts.retry_min_ms;
	atomic_init(&l->stop, false);
	if (cfg && cfg->present) {
		l->cfg.present = true;
		l->cfg.name = cfg->name ? strdup(cfg->name) : NULL;
		l->cfg.namespace_ = cfg->namespace_ ? strdup(cfg->namespace_) : NULL;
	}
	av_k8s_set_cancel(k, &l->stop);
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	int r = pthread_create(&l->thread, NULL, run, l);
	if (r != 0) {
		av_set_cause(cause, "cannot start the labeller thread: %s", strerror(r));
		pthread_cond_destroy(&l->cond);
		pthread_mutex_destroy(&l->lock);
		free(l->cfg.name);
		free(l->cfg.namespace_);
		free(l->node);
		av_k8s_free(k);
		free(l);
		return NULL;
	}
	return l;
}

int av_labeller_update(struct av_labeller *l, const struct av_labels *desired, bool force)
{
	struct av_labels copy;
	if (labels_copy(&copy, desired) < 0)
		return -ENOMEM;
	pthread_mutex_lock(&l->lock);
	av_labels_clear(&l->want);
	l->want = copy;
	l->dirty = true;
	l->force |= force;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int av_labeller_wait_idle(struct av_labeller *l, long timeout_ms)
{
	struct timespec until;
	int r = 0;
	av_deadline_ms(&until, timeout_ms);
	pthread_mutex_lock(&l->lock);
	while (l->dirty || l->busy) {
		if (pthread_cond_timedwait(&l->cond, &l->lock, &until) == ETIMEDOUT) {
			r = -ETIMEDOUT;
			break;
		}
	}
	if (!r)
		r = l->last_result;
	pthread_mutex_unlock(&l->lock);
	return r;
}

void av_labeller_stop(struct av_labeller *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	atomic_store(&l->stop, true);
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
	av_labels_clear(&l->want);
	av_labels_clear(&l->applied);
	free(l->cfg.name);
	free(l->cfg.namespace_);
	free(l->node);
	av_k8s_free(l->k);
	free(l);
}
