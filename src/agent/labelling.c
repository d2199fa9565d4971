/* The labeller in the daemon: the same labels as `labels --apply`, handed
 * to a thread (labeller_worker.c) after every rescan so that API calls,
 * their retries and timeouts never hold up kubelet's requests. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/labelling.h"
#include "k8s/client.h"
#include "k8s/conf.h"
#include "k8s/names.h"
#include "k8s/node.h"
#include "agent/labeller.h"
#include "agent/labeller_worker.h"
#include "base/log.h"
#include "base/util.h"

static int usage_error(char *cause)
{
	fprintf(stderr, "amdvirt: daemon: %s\n", cause ? cause : "out of memory");
	free(cause);
	return -EINVAL;
}

/* What the command line asks for explicitly is checked before anything is
 * served, so that a mistake there ends the daemon before kubelet sees it.
 * --deviceconfig was read before the daemon started (the same reading as
 * every command's, av_k8s_config_resolve).  The in-cluster client waits
 * until registration is on its way. */
int av_daemon_labels_prepare(struct av_daemon *d)
{
	struct av_opts *cli = d->cli;
	char *cause = NULL;
	const char *node;

	/* A name that is not a node name would put another path in the
	 * labeller's requests; it is a mistake in the manifest or the
	 * command line, and ends the daemon before it serves. */
	if (av_k8s_node_name_check(cli->node_name, &node, &cause) < 0)
		return usage_error(cause);
	long timeout_ms;
	if (av_k8s_timeout_env(&timeout_ms, &cause) < 0)
		return usage_error(cause);
	if (!cli->deviceconfig && !cli->kubeconfig)
		return 0;
	d->k8s = av_labeller_client(cli->host, cli->kubeconfig, &cause);
	if (!d->k8s)
		return usage_error(cause);
	return 0;
}

/* Without a usable API client the device plugin still runs: every pod has
 * the in-cluster variables, and a deployment without RBAC for nodes (or
 * without NODE_NAME) just means no labels. */
void av_daemon_labels_start(struct av_daemon *d)
{
	struct av_opts *cli = d->cli;
	const char *node = av_k8s_node_name(cli->node_name);
	char *cause = NULL;

	if (!av_k8s_conf_wanted(cli->kubeconfig))
		return;
	if (!node) {
		av_log("labeller off: no node name (set NODE_NAME from the downward API "
		       "or give --node-name)");
		return;
	}
	if (!d->k8s && !(d->k8s = av_labeller_client(cli->host, cli->kubeconfig, &cause))) {
		av_log("labeller off: %s", cause ? cause : "out of memory");
		free(cause);
		return;
	}
	char *origin = av_strdup_printf("%s", av_k8s_origin(d->k8s));
	d->labeller = av_labeller_start(d->k8s, node, cli->config.present ? &cli->config : NULL,
	                                av_log, NULL, &cause);
	d->k8s = NULL;     /* the worker owns it, even when it failed to start */
	if (!d->labeller) {
		av_log("labeller off: %s", cause ? cause : "out of memory");
		free(cause);
		free(origin);
		return;
	}
	av_log("labeller: keeping the labels of node %s (%s)", node, origin ? origin : "?");
	free(origin);
	av_daemon_labels_feed(d);
}

void av_daemon_labels_feed(struct av_daemon *d)
{
	struct av_labels labels;

	if (!d->labeller || !d->plugin.have_model)
		return;
	if (av_labeller_labels(d->cli->host, &d->plugin.model, &labels) < 0) {
		av_log("labels not computed: out of memory");
		return;
	}
	/* Notes name labels that cannot be set at all; once is enough, a
	 * rescan a minute later would only repeat them. */
	for (int i = 0; !d->labels_noted && i < labels.n_notes; i++)
		av_log("%s", labels.notes[i]);
	d->labels_noted = true;
	if (av_labeller_update(d->labeller, &labels, d->labels_force) == 0)
		d->labels_force = false;
	av_labels_clear(&labels);
}

void av_daemon_labels_stop(struct av_daemon *d)
{
	av_labeller_stop(d->labeller);
	d->labeller = NULL;
	av_k8s_free(d->k8s);
	d->k8s = NULL;
}
