/* The agent's node labels: the API client and the labeller thread. */
#ifndef AV_AGENT_LABELLING_H
#define AV_AGENT_LABELLING_H

#include "agent/daemon_int.h"

/* Opens the API client named by --kubeconfig and reads --deviceconfig.
 * Returns 0 or -errno (reported). */
int av_daemon_labels_prepare(struct av_daemon *d);
/* Starts the labeller thread when API access is configured and hands it
 * the current labels; logs why not otherwise. */
void av_daemon_labels_start(struct av_daemon *d);
/* Hands the labels of the current model to the labeller (if any). */
void av_daemon_labels_feed(struct av_daemon *d);
void av_daemon_labels_stop(struct av_daemon *d);

#endif
