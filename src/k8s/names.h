/* Names that become part of an API path.  The API server's names are
 * DNS-1123 subdomains (namespaces: labels); anything else — "..", "/",
 * "%2F", a "?" — would change which object the URL reaches, and libcurl
 * resolves dot segments before the request leaves. */
#ifndef AV_K8S_NAMES_H
#define AV_K8S_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Lower-case letters, digits, '-' and '.', at most 253 characters; each
 * dot-separated label 1 to 63 characters starting and ending with a letter
 * or digit. */
bool av_k8s_subdomain_ok(const char *s, size_t len);
/* One such label (at most 63 characters, no dot): a namespace. */
bool av_k8s_label_ok(const char *s, size_t len);

/* The node's name: flag (--node-name), else $NODE_NAME; NULL when neither.
 * Not checked: av_k8s_node_name_check is the check for names from outside. */
const char *av_k8s_node_name(const char *flag);
/* The node name in force (--node-name flag, else $NODE_NAME; *out NULL
 * when neither is set).  Returns 0, or -EINVAL with *cause naming where
 * the value came from and the value. */
int av_k8s_node_name_check(const char *flag, const char **out, char **cause);
/* A DeviceConfig reference "NAMESPACE/NAME" (--deviceconfig).  Returns 0
 * or -EINVAL with *cause. */
int av_k8s_deviceconfig_ref_check(const char *ref, char **cause);

#endif
