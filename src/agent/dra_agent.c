#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "actions/actions.h"
#include "actions/sigdefer.h"
#include "agent/dra_agent.h"
#include "agent/labeller.h"
#include "base/evloop.h"
#include "base/log.h"
#include "base/util.h"
#include "host/draclaims.h"
#include "dra/names.h"
#include "dra/prepare.h"
#include "dra/publish.h"
#include "dra/service.h"
#include "dra/slice.h"
#include "grpc/unixsock.h"
#include "host/discover.h"
#include "k8s/conf.h"
#include "k8s/names.h"

#define RETRY_MIN_MS 2000L
#define RETRY_MAX_MS 300000L
#define QUEUE_MAX 64

struct av_dra_agent {
	struct av_daemon *d;
	struct av_dra_service svc;
	struct av_grpc_server *reg_srv, *dra_srv;
	int reg_dirfd, dra_dirfd;
	char reg_dir[PATH_MAX], dra_dir[PATH_MAX];
	dev_t reg_dev;
	ino_t reg_ino;
	bool registered_logged;
	struct av_timer *verify_timer;

	/* the worker */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_bool stop;
	int efd;                     /* "a request is done", read by the loop */
	struct av_k8s *k;
	char *node;
	struct av_dra_pub pub;       /* worker only */
	struct av_dra_claims claims; /* worker only after start */
	char *gim_version;           /* worker only, from the last feed */

	/* under lock */
	cJSON *want;                 /* spec.devices to publish */
	char *want_gim;
	bool dirty, verify, manage;
	struct timespec retry_at;    /* tv_sec 0: none */
	long retry_ms;
	struct av_dra_request *in[QUEUE_MAX];
	int n_in;
	struct av_dra_request *out[QUEUE_MAX];
	int n_out;
};

/* --- the worker ------------------------------------------------------------------- */

static int read_host(void *user, struct av_model *m, struct av_resources *r)
{
	struct av_dra_agent *a = user;
	struct av_opts *cli = a->d->cli;
	struct av_discover_opts opts = {
		.config = cli->config.present ? &cli->config : NULL,
		.forced_mode_set = cli->forced_mode_set,
		.forced_mode = cli->forced_mode,
	};
	memset(r, 0, sizeof(*r));
	int rc = av_discover(cli->host, &opts, m);
	if (rc == 0)
		rc = av_resources_compute(m, av_opts_naming(cli), r);
	/* A failed discovery leaves a partial model to free, as the scan's. */
	if (rc < 0)
		av_model_free(m);
	return rc;
}

static void save_claims(struct av_dra_agent *a)
{
	int r = av_dra_claims_save(a->d->cli->host, &a->claims);
	if (r < 0)
		av_log("dra: cannot write %s: %s; a restart will not know the prepared claims",
		       AV_DRA_STATE, av_strerror(-r));
}

static void prepare_one(struct av_dra_agent *a, struct av_dra_claim *c, bool manage)
{
	int i = av_dra_claims_find(&a->claims, c->uid);
	if (i >= 0) {
		/* kubelet retries: the same answer, nothing done twice. */
		if (av_dra_claim_copy_devs(c, &a->claims.v[i]) < 0)
			av_dra_claim_fail(c, "out of memory");
		return;
	}
	cJSON *obj = NULL;
	char *cause = NULL;
	if (av_dra_claim_get(a->k, c->namespace_, c->name, &obj, &cause) < 0) {
		av_dra_claim_fail(c, "cannot read claim %s/%s: %s", c->namespace_, c->name,
		                  cause ? cause : "out of memory");
		free(cause);
		return;
	}
	struct av_action_opts bind = { .host = a->d->cli->host, .force = a->d->cli->force };
	struct av_dra_env env = {
		.host = a->d->cli->host, .node = a->node, .read_host = read_host, .user = a,
		.bind_opts = manage ? &bind : NULL, .facts = { .gim_version = a->gim_version },
	};
	struct av_dra_claim res;
	int r = av_dra_prepare(&env, c->namespace_, c->name, c->uid, obj, &res);
	cJSON_Delete(obj);
	if (r < 0) {
		av_dra_claim_fail(c, "out of memory");
	} else if (res.error) {
		av_dra_claim_fail(c, "%s", res.error);
	} else if (av_dra_claim_copy_devs(c, &res) < 0 || av_dra_claims_put(&a->claims, &res) < 0) {
		av_dra_unprepare(a->d->cli->host, &res, NULL);
		av_dra_claim_fail(c, "out of memory");
	} else {
		save_claims(a);
	}
	av_dra_claim_clear(&res);
}

static void unprepare_one(struct av_dra_agent *a, struct av_dra_claim *c)
{
	int i = av_dra_claims_find(&a->claims, c->uid);
	char *cause = NULL;
	/* A claim never prepared here, or already unprepared: done. */
	if (i < 0)
		return;
	if (av_dra_unprepare(a->d->cli->host, &a->claims.v[i], &cause) < 0) {
		av_dra_claim_fail(c, "%s", cause ? cause : "cannot remove the claim's files");
		free(cause);
		return;
	}
	av_dra_claims_remove(&a->claims, i);
	save_claims(a);
}

static void handle(struct av_dra_agent *a, struct av_dra_request *req, bool manage)
{
	for (int i = 0; i < req->n; i++) {
		struct av_dra_claim *c = &req->claims[i];
		if (c->error)
			continue;
		if (req->unprepare)
			unprepare_one(a, c);
		else
			prepare_one(a, c, manage);
	}
}

/* What was published goes on record for `list` and the console. */
static void record_slice(struct av_dra_agent *a, const cJSON *devs)
{
	struct av_dra_slice_info *cur = &a->claims.slice;
	char **names = calloc((size_t)cJSON_GetArraySize(devs) + 1, sizeof(char *));
	int n = 0;
	const cJSON *d;
	if (!names)
		return;
	cJSON_ArrayForEach(d, devs) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(d, "name");
		if (cJSON_IsString(nm))
			names[n++] = nm->valuestring;
	}
	bool same = cur->name && strcmp(cur->name, a->pub.name) == 0 && cur->generation == a->pub.generation &&
	            cur->n_devices == n;
	for (int i = 0; same && i < n; i++)
		same = strcmp(cur->devices[i], names[i]) == 0;
	if (!same && av_dra_claims_set_slice(&a->claims, a->pub.name, a->node, a->pub.generation, names, n) == 0)
		save_claims(a);
	free(names);
}

static void publish(struct av_dra_agent *a, cJSON *want, bool verify)
{
	enum av_dra_pub_did did;
	char *cause = NULL;
	double t0 = av_clock_ms();
	int r = av_dra_pub_sync(&a->pub, want, verify, &did, &cause);

	pthread_mutex_lock(&a->lock);
	if (r < 0) {
		/* Again later, with what is wanted then. */
		a->dirty = true;
		a->verify = true;
		av_deadline_ms(&a->retry_at, a->retry_ms);
		av_log("dra: ResourceSlice not published: %s; again in %ld s", cause ? cause : "out of memory",
		       a->retry_ms / 1000);
		a->retry_ms = a->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : a->retry_ms * 2;
	} else {
		a->retry_at.tv_sec = 0;
		a->retry_ms = RETRY_MIN_MS;
	}
	pthread_mutex_unlock(&a->lock);
	free(cause);
	if (r == 0 && a->pub.name)
		record_slice(a, want);
	if (r == 0 && did != AV_PUB_NOTHING)
		av_log("dra: ResourceSlice %s %s: pool %s generation %lld, %d devices (%.1f ms, %.1f ms after start)",
		       a->pub.name ? a->pub.name : "?",
		       did == AV_PUB_CREATED ? "created" : did == AV_PUB_RECREATED ? "created again (it was deleted)"
		                                                                  : "updated",
		       a->node, a->pub.generation, a->pub.n_devices, av_clock_ms() - t0,
		       av_clock_ms() - a->d->started_ms);
}

static void done(struct av_dra_agent *a, struct av_dra_request *req)
{
	uint64_t one = 1;
	pthread_mutex_lock(&a->lock);
	a->out[a->n_out++] = req;
	pthread_mutex_unlock(&a->lock);
	while (write(a->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void *run(void *arg)
{
	struct av_dra_agent *a = arg;
	pthread_mutex_lock(&a->lock);
	while (!atomic_load(&a->stop)) {
		if (a->n_in > 0) {
			/* kubelet's calls first: a pod waits on them. */
			struct av_dra_request *req = a->in[0];
			memmove(a->in, a->in + 1, (size_t)--a->n_in * sizeof(*a->in));
			bool manage = a->manage;
			pthread_mutex_unlock(&a->lock);
			handle(a, req, manage);
			done(a, req);
			pthread_mutex_lock(&a->lock);
			continue;
		}
		if (a->dirty && a->want && !a->retry_at.tv_sec) {
			cJSON *want = cJSON_Duplicate(a->want, true);
			bool verify = a->verify;
			a->dirty = a->verify = false;
			free(a->gim_version);
			a->gim_version = a->want_gim ? strdup(a->want_gim) : NULL;
			pthread_mutex_unlock(&a->lock);
			if (want)
				publish(a, want, verify);
			cJSON_Delete(want);
			pthread_mutex_lock(&a->lock);
			continue;
		}
		int w = a->retry_at.tv_sec ? pthread_cond_timedwait(&a->cond, &a->lock, &a->retry_at)
		                           : pthread_cond_wait(&a->cond, &a->lock);
		if (w == ETIMEDOUT)
			a->retry_at.tv_sec = 0;
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* --- the loop's side --------------------------------------------------------------- */

static void on_request(void *user, struct av_dra_request *req)
{
	struct av_dra_agent *a = user;
	pthread_mutex_lock(&a->lock);
	if (a->n_in == QUEUE_MAX) {
		pthread_mutex_unlock(&a->lock);
		av_grpc_call_finish(req->call, AV_GRPC_UNAVAILABLE, "amdvirt: %d requests queued; try again", QUEUE_MAX);
		req->call = NULL;
		av_dra_request_free(req);
		return;
	}
	a->in[a->n_in++] = req;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static void verify_soon(struct av_dra_agent *a)
{
	pthread_mutex_lock(&a->lock);
	a->dirty = a->verify = true;
	a->retry_at.tv_sec = 0;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static void on_registered(void *user, bool ok, const char *error)
{
	struct av_dra_agent *a = user;
	if (!ok) {
		av_log("dra: kubelet did not register %s: %s", AV_DRA_DRIVER, error[0] ? error : "(no reason given)");
		return;
	}
	av_log("dra: registered %s with kubelet (%.1f ms after start)", AV_DRA_DRIVER,
	       av_clock_ms() - a->d->started_ms);
	/* A kubelet that just started has deleted the node's slices. */
	verify_soon(a);
}

static void on_done(struct av_loop *loop, int fd, uint32_t events, void *user)
{
	struct av_dra_agent *a = user;
	uint64_t n;
	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	for (;;) {
		pthread_mutex_lock(&a->lock);
		struct av_dra_request *req = a->n_out ? a->out[0] : NULL;
		if (req)
			memmove(a->out, a->out + 1, (size_t)--a->n_out * sizeof(*a->out));
		pthread_mutex_unlock(&a->lock);
		if (!req)
			break;
		for (int i = 0; i < req->n; i++) {
			const struct av_dra_claim *c = &req->claims[i];
			if (c->error)
				av_log("dra: %s %s/%s: %s", req->unprepare ? "Unprepare" : "Prepare", c->namespace_,
				       c->name, c->error);
			else
				av_log("dra: %s %s/%s: %d devices (%.1f ms)", req->unprepare ? "unprepared" : "prepared",
				       c->namespace_, c->name, req->unprepare ? 0 : c->n_devs, av_clock_ms() - req->t0);
		}
		av_dra_reply(req);
	}
}

static void on_verify(struct av_loop *loop, void *user)
{
	struct av_dra_agent *a = user;
	(void)loop;
	verify_soon(a);
	av_timer_arm(a->verify_timer, a->d->resync_ms);
}

void av_dra_agent_feed(struct av_daemon *d)
{
	struct av_dra_agent *a = d->dra;
	char gim[128];
	int left = 0;
	if (!a || !d->plugin.have_model)
		return;
	bool have_gim = av_read_text(d->cli->host, "/sys/module/gim/version", gim, sizeof(gim)) > 0;
	struct av_dra_facts facts = { .gim_version = have_gim ? gim : NULL };
	cJSON *devs = av_dra_slice_devices(&d->plugin.model, &d->plugin.res, &facts, &left);
	if (!devs) {
		av_log("dra: ResourceSlice not computed: out of memory");
		return;
	}
	if (left)
		av_log("dra: %d devices left out of the ResourceSlice (at most %d in one)", left, AV_DRA_MAX_DEVICES);
	pthread_mutex_lock(&a->lock);
	cJSON_Delete(a->want);
	a->want = devs;
	free(a->want_gim);
	a->want_gim = have_gim ? strdup(gim) : NULL;
	a->manage = !d->cli->dry_run && !d->cli->demo && av_manage_off_reason(&d->plugin.model) == NULL;
	a->dirty = true;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static int serve_one(struct av_dra_agent *a, const char *host_dir, char *dir, int *dirfd, const char *name,
                     const struct av_grpc_method *methods, size_t n, struct av_grpc_server **srv)
{
	av_host_path(a->d->cli->host, host_dir, dir, PATH_MAX);
	int fd = av_open_dir(a->d->cli->host, host_dir, true);
	if (fd < 0) {
		fprintf(stderr, "amdvirt: cannot open %s: %s\n", dir, strerror(-fd));
		return fd;
	}
	*dirfd = fd;
	int lfd = av_unix_listen(fd, dir, name);
	if (lfd < 0) {
		fprintf(stderr, "amdvirt: cannot serve %s/%s: %s\n", dir, name, strerror(-lfd));
		return lfd;
	}
	*srv = av_grpc_server_new(a->d->loop, lfd, methods, n, &a->svc);
	if (!*srv) {
		fprintf(stderr, "amdvirt: cannot serve %s/%s: out of memory\n", dir, name);
		return -ENOMEM;
	}
	return 0;
}

static void agent_free(struct av_dra_agent *a)
{
	if (a->started) {
		pthread_mutex_lock(&a->lock);
		atomic_store(&a->stop, true);
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
	}
	/* Calls still queued end with the server (their peer sees it close). */
	for (int i = 0; i < a->n_in; i++)
		av_dra_request_free(a->in[i]);
	for (int i = 0; i < a->n_out; i++)
		av_dra_request_free(a->out[i]);
	av_grpc_server_free(a->reg_srv);
	av_grpc_server_free(a->dra_srv);
	if (a->reg_dirfd >= 0)
		close(a->reg_dirfd);
	if (a->dra_dirfd >= 0)
		close(a->dra_dirfd);
	if (a->efd >= 0) {
		av_loop_del(a->d->loop, a->efd);
		close(a->efd);
	}
	av_timer_free(a->verify_timer);
	av_dra_pub_clear(&a->pub);
	av_dra_claims_clear(&a->claims);
	av_k8s_free(a->k);
	cJSON_Delete(a->want);
	free(a->want_gim);
	free(a->gim_version);
	free(a->node);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

int av_dra_agent_start(struct av_daemon *d)
{
	struct av_opts *cli = d->cli;
	const char *node = av_k8s_node_name(cli->node_name);
	char *cause = NULL;
	struct av_dra_agent *a = calloc(1, sizeof(*a));
	size_t n;
	const struct av_grpc_method *m;

	if (!a)
		return -ENOMEM;
	a->d = d;
	a->reg_dirfd = a->dra_dirfd = a->efd = -1;
	a->retry_ms = RETRY_MIN_MS;
	atomic_init(&a->stop, false);
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cond, &ca);
	pthread_condattr_destroy(&ca);
	d->dra = a;
	/* Without slices the scheduler never picks these devices: --dra
	 * without the API is a mistake, not a degraded mode. */
	if (!node || !av_k8s_conf_wanted(cli->kubeconfig)) {
		fprintf(stderr, "amdvirt: daemon --dra needs the API server and a node name: give --kubeconfig "
		        "(or KUBECONFIG, or run in a pod) and --node-name (or NODE_NAME)\n");
		goto fail;
	}
	if (!(a->node = strdup(node)) || !(a->k = av_labeller_client(cli->host, cli->kubeconfig, &cause))) {
		fprintf(stderr, "amdvirt: daemon --dra: %s\n", cause ? cause : "out of memory");
		free(cause);
		goto fail;
	}
	av_k8s_set_cancel(a->k, &a->stop);
	av_dra_pub_init(&a->pub, a->k, node);
	if (av_dra_claims_load(cli->host, &a->claims, &cause) < 0) {
		fprintf(stderr, "amdvirt: %s\n", cause ? cause : "out of memory");
		free(cause);
		goto fail;
	}
	a->svc.request = on_request;
	a->svc.registered = on_registered;
	a->svc.user = a;
	snprintf(a->svc.endpoint, sizeof(a->svc.endpoint), "%s/%s", AV_DRA_PLUGIN_DIR, AV_DRA_SOCK);
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	a->verify_timer = av_timer_new(d->loop, on_verify, a);
	if (a->efd < 0 || !a->verify_timer || av_loop_add(d->loop, a->efd, EPOLLIN, on_done, a) < 0) {
		fprintf(stderr, "amdvirt: daemon --dra: cannot set up the event loop\n");
		goto fail;
	}
	/* The service before the registration socket: kubelet dials the
	 * endpoint as soon as it has read GetInfo. */
	m = av_dra_methods(&n);
	if (serve_one(a, AV_DRA_PLUGIN_DIR, a->dra_dir, &a->dra_dirfd, AV_DRA_SOCK, m, n, &a->dra_srv) < 0)
		goto fail;
	m = av_dra_reg_methods(&n);
	if (serve_one(a, AV_DRA_REG_DIR, a->reg_dir, &a->reg_dirfd, AV_DRA_REG_SOCK, m, n, &a->reg_srv) < 0)
		goto fail;
	struct stat st;
	if (fstatat(a->reg_dirfd, AV_DRA_REG_SOCK, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		a->reg_dev = st.st_dev;
		a->reg_ino = st.st_ino;
	}
	struct av_sigdefer defer;
	av_sigdefer_begin(&defer);
	int e = pthread_create(&a->thread, NULL, run, a);
	av_sigdefer_end(&defer);
	if (e != 0) {
		fprintf(stderr, "amdvirt: daemon --dra: cannot start its thread: %s\n", strerror(e));
		goto fail;
	}
	a->started = true;
	av_timer_arm(a->verify_timer, d->resync_ms);
	av_log("dra: driver %s for node %s: %d prepared claims on record; serving %s/%s, registering "
	       "through %s/%s", AV_DRA_DRIVER, node, a->claims.n, a->dra_dir, AV_DRA_SOCK, a->reg_dir,
	       AV_DRA_REG_SOCK);
	return 0;
fail:
	agent_free(a);
	d->dra = NULL;
	return -EINVAL;
}

void av_dra_agent_stop(struct av_daemon *d)
{
	struct av_dra_agent *a = d->dra;
	struct stat st;
	if (!a)
		return;
	/* The registration socket first: kubelet's watcher then deregisters
	 * the driver before its endpoint goes. */
	if (a->reg_dirfd >= 0 && fstatat(a->reg_dirfd, AV_DRA_REG_SOCK, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_ino == a->reg_ino && st.st_dev == a->reg_dev)
		unlinkat(a->reg_dirfd, AV_DRA_REG_SOCK, 0);
	if (a->dra_dirfd >= 0)
		unlinkat(a->dra_dirfd, AV_DRA_SOCK, 0);
	agent_free(a);
	d->dra = NULL;
}
