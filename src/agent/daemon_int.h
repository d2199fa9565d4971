/* State shared by the daemon's files (not an interface). */
#ifndef AV_DAEMON_INT_H
#define AV_DAEMON_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "host/opts.h"
#include "base/evloop.h"
#include "grpc/client.h"
#include "grpc/server.h"
#include "k8s/client.h"
#include "agent/labeller_worker.h"
#include "agent/plan_runner.h"
#include "plugin/service.h"

#define AV_PLUGIN_DIR "/var/lib/kubelet/device-plugins"

struct av_daemon;
struct av_dcwatch;
struct av_dra_agent;

/* What the scan (scan.c) reports up to the daemon (daemon.c), which sets
 * them: the scan calls no file above it. */
struct av_daemon_hooks {
	/* A scan handed a new list to the plugin: feed the labeller, manage
	 * the drivers. */
	void (*scanned)(struct av_daemon *d);
	/* Serve again and register anew (the socket or kubelet went away, or
	 * the resource name changed). */
	void (*restart)(struct av_daemon *d, const char *why);
	/* Register with kubelet now. */
	void (*register_now)(struct av_daemon *d);
};

enum av_reg_state { AV_REG_IDLE, AV_REG_INFLIGHT, AV_REG_DONE };

struct av_daemon {
	struct av_opts *cli;
	struct av_daemon_hooks hooks;
	struct av_loop *loop;
	struct av_plugin plugin;
	struct av_grpc_server *server;

	char resource[64];
	char sock_name[128];           /* "amdvirt-amd_com_gpu.sock" */
	char dir[PATH_MAX];            /* ROOT + AV_PLUGIN_DIR */
	int dirfd;
	dev_t sock_dev;
	ino_t sock_ino;                /* of our socket, to tell our own unlink apart */

	struct av_grpc_client *kubelet;
	enum av_reg_state reg;
	struct av_timer *reg_timer;
	int backoff;                   /* index into the retry delays */
	bool absent_logged;
	int quick_retries;             /* kubelet.sock just appeared */

	int ino_fd;
	int wd_plugins, wd_vfio, wd_dev, wd_dri;
	int uevent_fd;
	struct av_timer *rescan_timer;
	struct av_timer *resync_timer;
	int resync_ms;

	struct av_k8s *k8s;            /* API client until the labeller takes it */
	struct av_labeller *labeller;  /* NULL without API access */
	bool labels_force;             /* the next feed re-reads the Node (resync) */
	bool labels_noted;
	struct av_dcwatch *dcwatch;    /* following --deviceconfig (devconfig_watch.c) */

	bool drivers_announced;        /* driver management said whether it is on */
	char *drivers_said;            /* the last refusal or state logged, not repeated */
	double drivers_hold_until;     /* after a failed plan: no new attempt before this */
	int drivers_failures;          /* in a row, for the pause */
	struct av_timer *drivers_timer; /* the attempt after the pause */
	struct av_plan_runner *drivers_runner; /* runs plans off the loop's thread */

	char *config_said;             /* the DeviceConfig's contradiction last logged */
	bool config_judged;

	struct av_dra_agent *dra;      /* --dra: the DRA driver instead of the plugin */
	bool dra_by_config;            /* DRA because the DeviceConfig asked, not --dra */

	int sig_fd;
	bool stopping;
	double started_ms;             /* for the figures in the log */
	double scan_ms;                /* duration of the last discovery */
};

#endif
