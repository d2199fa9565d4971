/* Keeping the device list current: rediscovery on inotify events, kernel
 * uevents and a slow timer; kubelet restarts seen in the plugin directory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/scan.h"
#include "host/discover.h"
#include "base/log.h"
#include "plugin/alloc.h"

#define DIR_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
                    IN_MOVE_SELF | IN_ONLYDIR)

/* --- rediscovery ------------------------------------------------------------ */

static int cmp_dev(const void *a, const void *b)
{
	const struct av_plugin_device *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* A device kubelet knows keeps its place while it is gone from the host,
 * as Unhealthy: a GPU whose function left vfio-pci or whose group node
 * vanished is then reported unusable instead of silently lowering the
 * capacity, and comes back Healthy under the same ID. */
static int keep_vanished(const struct av_plugin *p, const struct av_model *m,
                         struct av_resources *r)
{
	if (!p->have_model)
		return 0;
	for (int i = 0; i < p->res.n_devices; i++) {
		const struct av_plugin_device *old = &p->res.devices[i];
		struct av_plugin_device *nd;

		if (av_alloc_find(r, old->id) >= 0)
			continue;
		nd = realloc(r->devices, ((size_t)r->n_devices + 1) * sizeof(*nd));
		if (nd == NULL)
			return -ENOMEM;
		r->devices = nd;
		nd = &r->devices[r->n_devices];
		*nd = *old;
		nd->healthy = false;
		nd->funcs = calloc((size_t)old->n_funcs + 1, sizeof(int));
		if (nd->funcs == NULL)
			return -ENOMEM;
		nd->n_funcs = 0;
		for (int k = 0; k < old->n_funcs; k++) {
			int f = av_model_find(m, p->model.funcs[old->funcs[k]].bdf);

			if (f >= 0)
				nd->funcs[nd->n_funcs++] = f;
		}
		r->n_devices++;
	}
	if (r->n_devices > 1)   /* qsort may not be given NULL, even for none */
		qsort(r->devices, (size_t)r->n_devices, sizeof(*r->devices), cmp_dev);
	return 0;
}

/* Why a device is unhealthy, for the log. */
static void reason(const struct av_model *m, const struct av_plugin_device *dev,
                   char *buf, size_t size)
{
	const struct av_group *g = dev->group >= 0 ? av_model_group(m, dev->group) : NULL;

	snprintf(buf, size, "%s", "not usable");
	if (dev->group >= 0 && (g == NULL || !g->vfio_node)) {
		snprintf(buf, size, "/dev/vfio/%d is missing", dev->group);
		return;
	}
	for (int k = 0; k < dev->n_funcs; k++) {
		const struct av_func *f = &m->funcs[dev->funcs[k]];

		if (dev->group >= 0 && !av_func_on(f, "vfio-pci")) {
			snprintf(buf, size, "%s is on %s, not vfio-pci", f->bdf,
			         f->driver[0] ? f->driver : "no driver");
			return;
		}
	}
	if (dev->n_funcs == 0)
		snprintf(buf, size, "its functions are gone from the host");
	else if (g != NULL && !g->viable)
		snprintf(buf, size, "IOMMU group %d is not viable (a member is on a host driver)",
		         g->id);
}

static void log_changes(const struct av_plugin *p, const struct av_model *m,
                        const struct av_resources *r)
{
	char why[256];

	for (int i = 0; i < r->n_devices; i++) {
		const struct av_plugin_device *nd = &r->devices[i];
		int o = p->have_model ? av_alloc_find(&p->res, nd->id) : -1;
		bool was = o >= 0 && p->res.devices[o].healthy;

		if (o >= 0 && was == nd->healthy)
			continue;
		if (nd->healthy) {
			av_log("device %s: Healthy%s", nd->id, o >= 0 ? " again" : " (new)");
		} else {
			reason(m, nd, why, sizeof(why));
			av_log("device %s: Unhealthy: %s", nd->id, why);
		}
	}
}

static void watch_funcs(struct av_daemon *d, const struct av_model *m, const struct av_resources *r)
{
	char path[PATH_MAX + 64];

	if (d->ino_fd < 0)
		return;
	/* sysfs itself sends no inotify events; a fake host tree does, and
	 * watching the same directory again costs nothing. */
	for (int i = 0; i < r->n_devices; i++) {
		for (int k = 0; k < r->devices[i].n_funcs; k++) {
			const struct av_func *f = &m->funcs[r->devices[i].funcs[k]];
			char rel[64];

			snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s", f->bdf);
			av_host_path(d->cli->host, rel, path, sizeof(path));
			inotify_add_watch(d->ino_fd, path, IN_CREATE | IN_DELETE | IN_MOVED_FROM |
			                                    IN_MOVED_TO | IN_ONLYDIR);
		}
	}
}

int av_daemon_open_host(struct av_opts *cli)
{
	char *cause = NULL;

	if (cli->host == NULL && (cli->host = av_host_open(cli->root, &cause)) == NULL) {
		fprintf(stderr, "amdvirt: cannot open host root %s\n", cause ? cause : cli->root);
		free(cause);
		return -ENOENT;
	}
	return 0;
}

/* What av_opts_discover does, minus libpci's name database: the daemon shows
 * no product names, and pci.ids costs megabytes and milliseconds. */
static int discover(struct av_opts *cli, bool first, struct av_model *m)
{
	struct av_discover_opts opts = {
		.config = cli->config.present ? &cli->config : NULL,
		.forced_mode_set = cli->forced_mode_set,
		.forced_mode = cli->forced_mode,
		.record_hives = first && !cli->demo,
	};
	int rc;

	memset(m, 0, sizeof(*m));
	rc = av_daemon_open_host(cli);
	if (rc < 0)
		return rc;
	opts.config = cli->config.present ? &cli->config : NULL;
	rc = av_discover(cli->host, &opts, m);
	if (rc < 0) {
		if (first)
			fprintf(stderr, "amdvirt: %s: cannot read the host (%s)\n", cli->root,
			        strerror(-rc));
		else
			av_log("rescan failed: %s; keeping the last device list", strerror(-rc));
		av_model_free(m);
		return rc;
	}
	for (int i = 0; first && i < m->n_diags; i++)
		fprintf(stderr, "amdvirt: %s\n", m->diags[i].msg);
	if (first && m->mode_warning != NULL)
		fprintf(stderr, "amdvirt: warning: %s\n", m->mode_warning);
	return 0;
}

int av_daemon_rescan(struct av_daemon *d, bool first)
{
	struct av_opts *cli = d->cli;
	struct av_model m;
	struct av_resources r;
	bool renamed;
	int rc;

	double t0 = av_clock_ms();

	rc = discover(cli, first, &m);
	if (rc < 0)
		return rc;
	d->scan_ms = av_clock_ms() - t0;
	rc = av_resources_compute(&m, av_opts_naming(cli), &r);
	renamed = rc == 0 && d->plugin.have_model && strcmp(r.resource, d->plugin.res.resource) != 0;
	/* A new mode can mean another resource: devices of the old one are
	 * not carried over, and the old registration is withdrawn. */
	if (rc == 0 && !renamed)
		rc = keep_vanished(&d->plugin, &m, &r);
	if (rc < 0) {
		av_log("rescan failed: %s", strerror(-rc));
		av_resources_clear(&r);
		av_model_free(&m);
		return rc;
	}
	r.n_healthy = 0;
	for (int i = 0; i < r.n_devices; i++)
		r.n_healthy += r.devices[i].healthy;
	if (!first && !renamed)
		log_changes(&d->plugin, &m, &r);
	watch_funcs(d, &m, &r);
	if (renamed) {
		av_log("resource changes from %s to %s", d->plugin.res.resource, r.resource);
		av_plugin_stop(&d->plugin);
		d->plugin.stopped = false;
	}
	av_plugin_update(&d->plugin, &m, &r);
	d->hooks.scanned(d);
	if (renamed) {
		snprintf(d->resource, sizeof(d->resource), "%s", d->plugin.res.resource);
		av_daemon_socket_name(d->resource, d->sock_name, sizeof(d->sock_name));
		d->hooks.restart(d, "resource name changed");
	}
	return 0;
}

static void on_rescan(struct av_loop *loop, void *user)
{
	av_daemon_rescan(user, false);
}

void av_daemon_rescan_soon(struct av_daemon *d)
{
	/* Zero delay: every event read in this loop turn is folded into one
	 * rescan, which runs right after. */
	if (!av_timer_armed(d->rescan_timer))
		av_timer_arm(d->rescan_timer, 0);
}

void av_daemon_socket_name(const char *resource, char *buf, size_t size)
{
	snprintf(buf, size, "amdvirt-%s.sock", resource);
	for (char *p = buf + strlen("amdvirt-"); *p != '\0' && strcmp(p, ".sock") != 0; p++)
		if (*p == '/' || *p == '.')
			*p = '_';
}

/* --- inotify ------------------------------------------------------------------ */

static int add_dir_watch(struct av_daemon *d, const char *host_path, uint32_t mask)
{
	char path[PATH_MAX];

	av_host_path(d->cli->host, host_path, path, sizeof(path));
	return inotify_add_watch(d->ino_fd, path, mask);
}

static bool our_socket_present(const struct av_daemon *d)
{
	struct stat st;

	return fstatat(d->dirfd, d->sock_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       st.st_ino == d->sock_ino && st.st_dev == d->sock_dev;
}

static void on_inotify(struct av_loop *loop, int fd, uint32_t events, void *user)
{
	struct av_daemon *d = user;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool restart = false, kubelet_new = false, rescan = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			const char *name = ev->len ? ev->name : "";

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				rescan = true;
			} else if (ev->wd == d->wd_plugins) {
				if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
					d->wd_plugins = -1;
					restart = true;
				} else if (strcmp(name, d->sock_name) == 0 &&
				           (ev->mask & (IN_DELETE | IN_MOVED_FROM))) {
					restart |= !our_socket_present(d);
				} else if (strcmp(name, "kubelet.sock") == 0 &&
				           (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
					kubelet_new = true;
				}
			} else if (ev->wd == d->wd_vfio || ev->wd == d->wd_dri) {
				rescan = true;
				if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
					if (ev->wd == d->wd_vfio)
						d->wd_vfio = -1;
					else
						d->wd_dri = -1;
				}
			} else if (ev->wd == d->wd_dev) {
				if (strcmp(name, "vfio") == 0 || strcmp(name, "dri") == 0 ||
				    strcmp(name, "kfd") == 0 || strcmp(name, "iommu") == 0)
					rescan = true;
				if (strcmp(name, "vfio") == 0 && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
					d->wd_vfio = add_dir_watch(d, "/dev/vfio", DIR_EVENTS);
				if (strcmp(name, "dri") == 0 && (ev->mask & (IN_CREATE | IN_MOVED_TO)))
					d->wd_dri = add_dir_watch(d, "/dev/dri", DIR_EVENTS);
			} else if (strcmp(name, "driver") == 0) {
				rescan = true;     /* a function's driver link changed */
			}
		}
	}
	if (rescan)
		av_daemon_rescan_soon(d);
	if (d->stopping)
		return;
	if (restart) {
		d->quick_retries = kubelet_new ? 20 : 0;
		d->hooks.restart(d, d->wd_plugins < 0 ? "plugin directory was removed"
		                                       : "our socket was removed (kubelet restarted)");
	} else if (kubelet_new) {
		d->quick_retries = 20;
		if (d->reg == AV_REG_DONE)
			d->hooks.restart(d, "kubelet.sock was created again (kubelet restarted)");
		else
			d->hooks.register_now(d);
	}
}

/* --- kernel uevents (real host only) -------------------------------------------- */

static void on_uevent(struct av_loop *loop, int fd, uint32_t events, void *user)
{
	struct av_daemon *d = user;
	char buf[8192];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		bool pci = false, action = false;

		buf[n] = '\0';
		for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
			if (strcmp(p, "SUBSYSTEM=pci") == 0 || strcmp(p, "SUBSYSTEM=vfio") == 0 ||
			    strcmp(p, "SUBSYSTEM=drm") == 0)
				pci = true;
			else if (strcmp(p, "ACTION=bind") == 0 || strcmp(p, "ACTION=unbind") == 0 ||
			         strcmp(p, "ACTION=add") == 0 || strcmp(p, "ACTION=remove") == 0)
				action = true;
		}
		if (pci && action)
			av_daemon_rescan_soon(d);
	}
}

static void open_uevents(struct av_daemon *d)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                NETLINK_KOBJECT_UEVENT);

	/* Driver binds and unbinds show up here at once; without it (another
	 * network namespace) the resync timer catches them. */
	if (fd < 0)
		return;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    av_loop_add(d->loop, fd, EPOLLIN, on_uevent, d) < 0) {
		close(fd);
		return;
	}
	d->uevent_fd = fd;
}

int av_daemon_watch_init(struct av_daemon *d)
{
	d->rescan_timer = av_timer_new(d->loop, on_rescan, d);
	if (d->rescan_timer == NULL)
		return -ENOMEM;
	d->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ino_fd < 0) {
		av_log("inotify: %s; relying on the resync timer", strerror(errno));
		return 0;
	}
	if (av_loop_add(d->loop, d->ino_fd, EPOLLIN, on_inotify, d) < 0) {
		close(d->ino_fd);
		d->ino_fd = -1;
		return 0;
	}
	d->wd_dev = add_dir_watch(d, "/dev", IN_CREATE | IN_DELETE | IN_MOVED_FROM |
	                                     IN_MOVED_TO | IN_ONLYDIR);
	d->wd_vfio = add_dir_watch(d, "/dev/vfio", DIR_EVENTS);
	d->wd_dri = add_dir_watch(d, "/dev/dri", DIR_EVENTS);
	if (av_host_is_real_root(d->cli->host))
		open_uevents(d);
	watch_funcs(d, &d->plugin.model, &d->plugin.res);
	return 0;
}

/* Called once serving: the directory exists by then. */
int av_daemon_watch_plugins(struct av_daemon *d)
{
	if (d->ino_fd >= 0 && d->wd_plugins < 0)
		d->wd_plugins = add_dir_watch(d, AV_PLUGIN_DIR, DIR_EVENTS);
	return d->wd_plugins;
}

void av_daemon_watch_close(struct av_daemon *d)
{
	if (d->ino_fd >= 0) {
		av_loop_del(d->loop, d->ino_fd);
		close(d->ino_fd);
		d->ino_fd = -1;
	}
	if (d->uevent_fd >= 0) {
		av_loop_del(d->loop, d->uevent_fd);
		close(d->uevent_fd);
		d->uevent_fd = -1;
	}
	av_timer_free(d->rescan_timer);
	d->rescan_timer = NULL;
}
