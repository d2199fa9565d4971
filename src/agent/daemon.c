#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/daemon.h"
#include "agent/daemon_int.h"
#include "agent/cfgcheck.h"
#include "agent/devconfig_watch.h"
#include "agent/dra_agent.h"
#include "agent/drivers.h"
#include "agent/labelling.h"
#include "agent/scan.h"
#include "grpc/frame.h"
#include "grpc/unixsock.h"
#include "base/log.h"
#include "base/textsafe.h"
#include "host/devconfig.h"
#include "plugin/deviceplugin.pb-c.h"

/* Kubelet dials us back with a 10 s timeout inside Register. */
#define REGISTER_TIMEOUT_MS 15000
/* Waiting for the last empty list to reach kubelet on shutdown. */
#define DRAIN_MS 1000

static const int retry_ms[] = { 1000, 2000, 5000, 10000 };

/* ROOT/var/lib/kubelet/device-plugins may not exist before kubelet runs;
 * kubelet creates it the same way, so making it ourselves is harmless.  Made
 * and opened inside ROOT: a link among its parents cannot lead out of it. */
static int open_plugin_dir(struct av_daemon *d)
{
	int fd = av_open_dir(d->cli->host, AV_PLUGIN_DIR, true);

	if (fd < 0)
		return fd;
	if (d->dirfd >= 0)
		close(d->dirfd);
	d->dirfd = fd;
	return 0;
}

static int serve(struct av_daemon *d)
{
	size_t n_methods;
	const struct av_grpc_method *methods = av_plugin_methods(&n_methods);
	struct stat st;
	int r, lfd;

	r = open_plugin_dir(d);
	if (r < 0) {
		av_log("cannot open %s: %s", d->dir, strerror(-r));
		return r;
	}
	av_daemon_watch_plugins(d);
	lfd = av_unix_listen(d->dirfd, d->dir, d->sock_name);
	if (lfd < 0) {
		av_log("cannot serve %s/%s: %s", d->dir, d->sock_name, strerror(-lfd));
		return lfd;
	}
	if (fstatat(d->dirfd, d->sock_name, &st, 0) == 0) {
		d->sock_dev = st.st_dev;
		d->sock_ino = st.st_ino;
	}
	d->server = av_grpc_server_new(d->loop, lfd, methods, n_methods, &d->plugin);
	if (d->server == NULL) {
		av_log("cannot serve %s/%s: out of memory", d->dir, d->sock_name);
		return -ENOMEM;
	}
	return 0;
}

static void retry_later(struct av_daemon *d)
{
	int i = d->backoff < 3 ? d->backoff : 3;

	/* kubelet.sock is created by bind(), a moment before kubelet
	 * listens on it: a refused connect right then is retried soon. */
	if (d->quick_retries > 0) {
		d->quick_retries--;
		av_timer_arm(d->reg_timer, 50);
		return;
	}

	d->backoff++;
	av_timer_arm(d->reg_timer, retry_ms[i]);
}

static void on_registered(void *user, int code, const char *message, const uint8_t *resp,
                          size_t len)
{
	struct av_daemon *d = user;

	av_grpc_client_free(d->kubelet);
	d->kubelet = NULL;
	if (code == AV_GRPC_OK) {
		d->reg = AV_REG_DONE;
		d->backoff = 0;
		d->absent_logged = false;
		av_log("registered %s with kubelet (endpoint %s, %.1f ms after start)", d->resource,
		       d->sock_name, av_clock_ms() - d->started_ms);
		return;
	}
	d->reg = AV_REG_IDLE;
	av_log("kubelet did not accept %s: %s: %s; retrying in %d s", d->resource,
	       av_grpc_code_name(code), message[0] ? message : "(no message)",
	       retry_ms[d->backoff < 3 ? d->backoff : 3] / 1000);
	retry_later(d);
}

static void av_daemon_register_now(struct av_daemon *d)
{
	V1beta1__RegisterRequest req = V1BETA1__REGISTER_REQUEST__INIT;
	V1beta1__DevicePluginOptions opts = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
	int r;

	if (d->stopping)
		return;
	av_timer_stop(d->reg_timer);
	av_grpc_client_free(d->kubelet);
	d->kubelet = NULL;
	d->reg = AV_REG_IDLE;
	r = av_grpc_client_connect(d->loop, d->dirfd, d->dir, "kubelet.sock", &d->kubelet);
	if (r < 0) {
		if (!d->absent_logged)
			av_log("kubelet is not listening on %s/kubelet.sock (%s); "
			       "registering as soon as it is", d->dir, strerror(-r));
		d->absent_logged = true;
		retry_later(d);
		return;
	}
	opts.get_preferred_allocation_available = 1;
	req.version = (char *)"v1beta1";
	req.endpoint = d->sock_name;
	req.resource_name = d->resource;
	req.options = &opts;
	r = av_grpc_client_call(d->kubelet, "/v1beta1.Registration/Register", &req.base,
	                        REGISTER_TIMEOUT_MS, on_registered, d);
	if (r < 0) {
		av_log("cannot call kubelet: %s", strerror(-r));
		av_grpc_client_free(d->kubelet);
		d->kubelet = NULL;
		retry_later(d);
		return;
	}
	d->reg = AV_REG_INFLIGHT;
}

static void av_daemon_restart(struct av_daemon *d, const char *why)
{
	if (d->stopping || d->dra)
		return;
	av_log("%s: serving and registering again", why);
	av_grpc_client_free(d->kubelet);
	d->kubelet = NULL;
	d->reg = AV_REG_IDLE;
	/* Old streams end before the new registration, so their disconnect
	 * cannot be taken for the new endpoint's. */
	av_grpc_server_free(d->server);
	d->server = NULL;
	if (serve(d) < 0) {
		retry_later(d);
		return;
	}
	d->backoff = 0;
	av_daemon_register_now(d);
}

/* After each scan: the labels and the drivers follow the new model. */
static void on_scanned(struct av_daemon *d)
{
	av_daemon_config_judge(d, &d->plugin.model, false);
	av_daemon_labels_feed(d);
	av_dra_agent_feed(d);
	av_daemon_drivers(d, &d->plugin.model);
}

static void on_reg_timer(struct av_loop *loop, void *user)
{
	struct av_daemon *d = user;

	if (d->server == NULL)
		av_daemon_restart(d, "plugin socket is not served");
	else
		av_daemon_register_now(d);
}

static void on_resync(struct av_loop *loop, void *user)
{
	struct av_daemon *d = user;

	/* Someone may have edited the Node's labels meanwhile. */
	d->labels_force = true;
	av_daemon_rescan(d, false);
	av_timer_arm(d->resync_timer, d->resync_ms);
}

static void begin_stop(struct av_daemon *d, const char *signame)
{
	if (d->stopping)
		return;
	if (d->dra)
		/* kubelet removes a gone driver's slices after a grace period,
		 * so a quick restart keeps the devices schedulable. */
		av_log("%s: stopping the DRA driver; its ResourceSlice stays for kubelet to remove", signame);
	else
		av_log("%s: withdrawing %d devices of %s and stopping", signame, d->plugin.res.n_devices,
		       d->resource);
	d->stopping = true;
	av_daemon_dcwatch_cancel(d);
	av_plugin_stop(&d->plugin);
	av_timer_stop(d->reg_timer);
	av_grpc_client_free(d->kubelet);
	d->kubelet = NULL;
	av_loop_quit(d->loop);
}

static void on_signal(struct av_loop *loop, int fd, uint32_t events, void *user)
{
	struct av_daemon *d = user;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			d->labels_force = true;
			av_daemon_rescan(d, false);
		} else {
			begin_stop(d, si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
		}
	}
}

static int setup_signals(struct av_daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_fd < 0)
		return -errno;
	return av_loop_add(d->loop, d->sig_fd, EPOLLIN, on_signal, d);
}

/* Removes our socket unless someone else's now has its name. */
static void remove_socket(struct av_daemon *d)
{
	struct stat st;

	if (d->dirfd >= 0 && fstatat(d->dirfd, d->sock_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_ino == d->sock_ino && st.st_dev == d->sock_dev)
		unlinkat(d->dirfd, d->sock_name, 0);
}

static void drain(struct av_daemon *d)
{
	int64_t deadline = av_now_ms() + DRAIN_MS;

	while (d->server != NULL && av_now_ms() < deadline) {
		av_loop_run_once(d->loop, 20);
		if (!av_grpc_server_busy(d->server))
			break;
	}
}

int av_daemon_run(struct av_opts *cli)
{
	struct av_daemon d = { .cli = cli,
	                       .hooks = { .scanned = on_scanned, .restart = av_daemon_restart,
	                                  .register_now = av_daemon_register_now },
	                       .dirfd = -1, .ino_fd = -1, .uevent_fd = -1,
	                       .sig_fd = -1, .wd_plugins = -1, .wd_vfio = -1, .wd_dev = -1,
	                       .wd_dri = -1 };
	int rc = AV_EXIT_USAGE;
	bool early;

	d.started_ms = av_clock_ms();
	av_plugin_init(&d.plugin);
	d.resync_ms = (cli->resync_seconds > 0 ? cli->resync_seconds : 60) * 1000;
	d.loop = av_loop_new();
	if (d.loop == NULL) {
		fprintf(stderr, "amdvirt: daemon: %s\n", strerror(errno));
		return AV_EXIT_USAGE;
	}
	d.reg_timer = av_timer_new(d.loop, on_reg_timer, &d);
	d.resync_timer = av_timer_new(d.loop, on_resync, &d);
	if (d.reg_timer == NULL || d.resync_timer == NULL || setup_signals(&d) < 0) {
		fprintf(stderr, "amdvirt: daemon: cannot set up the event loop\n");
		goto out;
	}
	if (av_daemon_open_host(cli) < 0 || av_daemon_labels_prepare(&d) < 0)
		goto out;
	av_host_path(cli->host, AV_PLUGIN_DIR, d.dir, sizeof(d.dir));
	if (av_daemon_watch_init(&d) < 0)
		goto out;
	/* With single naming the resource does not depend on the host, so the
	 * Register call goes out first and kubelet works on it while the host
	 * is read (its dial-back is answered once the loop runs). */
	if (!cli->dra && av_config_wants_dra(&cli->config)) {
		cli->dra = d.dra_by_config = true;
		av_log("DeviceConfig %s/%s asks for allocation dra: serving the DRA driver, not the device plugin",
		       AV_SAFE(cli->config.namespace_), AV_SAFE(cli->config.name));
	}
	early = av_opts_naming(cli) == AV_NAMING_SINGLE && !cli->dra;
	if (cli->dra && av_dra_agent_start(&d) < 0)
		goto out;
	if (early) {
		snprintf(d.resource, sizeof(d.resource), "%s",
		         av_resource_name(AV_MODE_NONE, AV_NAMING_SINGLE));
		av_daemon_socket_name(d.resource, d.sock_name, sizeof(d.sock_name));
		if (serve(&d) < 0)
			goto out;
		av_daemon_register_now(&d);
	}
	if (av_daemon_rescan(&d, true) < 0)
		goto out;
	if (!early && !cli->dra) {
		snprintf(d.resource, sizeof(d.resource), "%s", d.plugin.res.resource);
		av_daemon_socket_name(d.resource, d.sock_name, sizeof(d.sock_name));
		if (serve(&d) < 0)
			goto out;
		av_daemon_register_now(&d);
	}
	if (!cli->dra)
		av_log("device plugin %s: %d devices (%d healthy), mode %s, host read in %.1f ms; "
		       "serving %s/%s", d.resource, d.plugin.res.n_devices, d.plugin.res.n_healthy,
		       av_mode_name(d.plugin.model.mode), d.scan_ms, d.dir, d.sock_name);
	av_daemon_labels_start(&d);
	av_daemon_dcwatch_start(&d);
	av_timer_arm(d.resync_timer, d.resync_ms);
	if (av_loop_run(d.loop) < 0) {
		av_log("event loop failed: %s", strerror(errno));
		goto out;
	}
	drain(&d);
	rc = AV_EXIT_OK;
out:
	av_daemon_dcwatch_stop(&d);
	av_dra_agent_stop(&d);
	av_daemon_drivers_clear(&d);
	av_daemon_config_clear(&d);
	av_daemon_labels_stop(&d);
	av_grpc_client_free(d.kubelet);
	av_grpc_server_free(d.server);
	remove_socket(&d);
	av_daemon_watch_close(&d);
	av_timer_free(d.reg_timer);
	av_timer_free(d.resync_timer);
	if (d.sig_fd >= 0) {
		av_loop_del(d.loop, d.sig_fd);
		close(d.sig_fd);
	}
	if (d.dirfd >= 0)
		close(d.dirfd);
	av_plugin_clear(&d.plugin);
	av_loop_free(d.loop);
	if (rc == AV_EXIT_OK)
		av_log("stopped");
	return rc;
}
