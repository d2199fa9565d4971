/* Who holds each device: kubelet's pod-resources answer as plain data,
 * the processes holding /dev/vfio/<group> under ROOT/proc, and the pure
 * function that puts both on the model (doc/podresources.md). */
#ifndef AV_HOLDERS_H
#define AV_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>

#include "host/host.h"
#include "host/model.h"
#include "host/resources.h"

/* One container's devices of one resource (List), or one resource's
 * allocatable devices (GetAllocatableResources: no pod). */
struct av_pr_entry {
	char *ns, *pod, *container;  /* NULL for allocatable entries */
	char *resource;
	char **ids;
	int n_ids;
};

struct av_pr_answer {
	struct av_pr_entry *assigned;   /* from List */
	int n_assigned;
	struct av_pr_entry *allocatable; /* from GetAllocatableResources */
	int n_allocatable;
	bool have_allocatable;          /* false: the call failed or is not served */
};

/* Appends an entry (strings copied; ns/pod/container may be NULL).
 * Returns the entry or NULL on allocation failure. */
struct av_pr_entry *av_pr_add(struct av_pr_entry **v, int *n, const char *ns, const char *pod,
                              const char *container, const char *resource);
int av_pr_add_id(struct av_pr_entry *e, const char *id);   /* 0 or -ENOMEM */
void av_pr_answer_clear(struct av_pr_answer *a);

/* struct av_vfio_users is in host/model.h: the model keeps the last scan.
 * One pass over ROOT/proc/[pid]/fd for links to /dev/vfio/<N>, with each
 * holder's pod UID from ROOT/proc/[pid]/cgroup when readable.  A /proc
 * that cannot be read gives no users.  Returns 0 or -ENOMEM. */
int av_vfio_users_scan(const struct av_host *host, struct av_vfio_users *out);
void av_vfio_users_clear(struct av_vfio_users *u);

/* The pod UID in /proc/PID/cgroup text: the cgroupfs form
 * ".../kubepods/<qos>/pod<uid>/..." or the systemd form
 * ".../kubepods-<qos>-pod<uid_with_underscores>.slice/...".  Writes the
 * UID with dashes and returns true, or false when no line names a pod. */
bool av_cgroup_pod_uid(const char *text, char *buf, size_t size);

/* The VM behind a KubeVirt pod: "virt-launcher-<vm>-<5 chars>" (the
 * suffix as Kubernetes' generateName makes it).  Writes the name and
 * returns true, or false when pod is not such a pod.  A 63-character pod
 * name had its generateName base cut to 58 characters, so a VM name over
 * 43 characters comes out cut to its first 43 or 44. */
bool av_virt_launcher_vm(const char *pod, char *buf, size_t size);

/* Fills m's holders and kubelet's view from the pure inputs: r is what the
 * plugin advertises; pr is kubelet's answer (NULL: not reached, and state
 * says why: AV_KUBELET_ABSENT, _ERROR with error, or _NOT_ASKED); users
 * may be NULL.  Replaces what m held.  Returns 0 or -ENOMEM. */
int av_holders_build(struct av_model *m, const struct av_resources *r, const struct av_pr_answer *pr,
                     enum av_kubelet_state state, const char *error, const struct av_vfio_users *users);

/* For people: "vm NAME (NS/POD)", "pod NS/POD", "pid 4242 (pod uid U)"
 * or "pid 4242, 4243".  short_form: only the VM, the pod or the first
 * pid, for a narrow column. */
void av_holder_describe(const struct av_holder *h, char *buf, size_t size);
void av_holder_short(const struct av_holder *h, char *buf, size_t size);

#endif
