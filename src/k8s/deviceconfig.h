/* The amd.com/v1alpha1 DeviceConfig object from the API server. */
#ifndef AV_K8S_DEVICECONFIG_H
#define AV_K8S_DEVICECONFIG_H

#include "host/devconfig.h"
#include "k8s/client.h"

/* Reads the DeviceConfig "NS/NAME" into cfg (same fields as the file form).
 * Returns 0, -EINVAL (bad reference or object), -EACCES, -ENOENT, -EIO,
 * -ENOMEM with *cause set. */
int av_k8s_get_deviceconfig(struct av_k8s *k, const char *ref, struct av_config *cfg,
                            char **cause);

#endif
