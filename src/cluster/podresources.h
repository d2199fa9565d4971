/* kubelet's pod-resources API (v1.PodResourcesLister on
 * ROOT/var/lib/kubelet/pod-resources/kubelet.sock): one List and one
 * GetAllocatableResources call, decoded into plain data
 * (doc/podresources.md). */
#ifndef AV_PODRESOURCES_H
#define AV_PODRESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/holders.h"
#include "host/host.h"

#define AV_PODRESOURCES_DIR "/var/lib/kubelet/pod-resources"
#define AV_PODRESOURCES_SOCK "kubelet.sock"
/* Each call's deadline: kubelet answers from memory. */
#define AV_PODRESOURCES_TIMEOUT_MS 1000

/* Asks kubelet: List, and GetAllocatableResources when allocatable is set.
 * Returns 0 with out filled (have_allocatable false when not asked or
 * GetAllocatableResources failed: an older kubelet), -ENOENT when there
 * is no socket (no kubelet on this host), or another -errno with *cause
 * one line naming the socket (refused, no answer in time, not gRPC). */
int av_podresources_query(const struct av_host *host, int timeout_ms, bool allocatable,
                          struct av_pr_answer *out, char **cause);

/* The replies' decoders, for the query and the tests.  Return 0,
 * -EBADMSG when the bytes are not such a message, or -ENOMEM. */
int av_podresources_decode_list(const uint8_t *buf, size_t len, struct av_pr_answer *out);
int av_podresources_decode_allocatable(const uint8_t *buf, size_t len, struct av_pr_answer *out);

#endif
