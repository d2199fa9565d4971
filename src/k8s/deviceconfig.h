/* The amd.com/v1alpha1 DeviceConfig object from the API server. */
#ifndef AV_K8S_DEVICECONFIG_H
#define AV_K8S_DEVICECONFIG_H

#include "host/devconfig.h"
#include "host/opts.h"
#include "k8s/client.h"

/* The one reading of the node configuration, for every command: --config
 * FILE (YAML or JSON) or --deviceconfig NS/NAME from the API server (through
 * --kubeconfig, $KUBECONFIG, the pod's service account or, except for the
 * daemon, ~/.kube/config) into o->config, before the host is read.  Opens
 * o->host when the API is needed (the in-cluster files are under ROOT).
 * Prints one line on an error and returns an exit code. */
int av_k8s_config_resolve(struct av_opts *o);

/* Reads the DeviceConfig "NS/NAME" into cfg (same fields as the file form).
 * Returns 0, -EINVAL (bad reference or object), -EACCES, -ENOENT, -EIO,
 * -ENOMEM with *cause set. */
int av_k8s_get_deviceconfig(struct av_k8s *k, const char *ref, struct av_config *cfg,
                            char **cause);

#endif
