/* The KubeVirt CR (kubevirt.io/v1 KubeVirt) on the API server: read,
 * merged with this host's devices (labels/kubevirt.h) and written back
 * with its resourceVersion as the precondition. */
#ifndef AV_K8S_KUBEVIRT_H
#define AV_K8S_KUBEVIRT_H

#include <stdbool.h>

#include "k8s/client.h"
#include "labels/kubevirt.h"

#define AV_KUBEVIRT_DEFAULT "kubevirt/kubevirt"

struct av_kubevirt_ref {
	char ns[64];                 /* a DNS-1123 label */
	char name[254];              /* a DNS-1123 subdomain */
};

/* "NAMESPACE/NAME" (--kubevirt; NULL is kubevirt/kubevirt).  Returns 0 or
 * -EINVAL with *cause naming the option and the value. */
int av_kubevirt_ref_parse(const char *ref, struct av_kubevirt_ref *out, char **cause);

struct av_kubevirt_apply {
	struct av_kubevirt_merge merge;  /* against the CR as last read */
	char *resource_version;          /* of that CR */
	bool patched;                    /* a PATCH was accepted */
	int conflicts;                   /* 409 answers before that */
};

/* Reads the CR, merges sel's IDs with resource into it and, unless
 * nothing changed or dry_run, sends the changed lists as a merge patch
 * preconditioned on the resourceVersion read; a 409 reads it again, at
 * most 5 times in all.  Returns 0 with res filled, or: -EACCES (401, 403),
 * -ENOENT (no such CR, or no kubevirts on the server), -EINVAL (the CR's
 * lists are not lists), -EIO (another answer, or still conflicting), or
 * the client's -errno when no answer came; *cause is one line. */
int av_k8s_kubevirt_apply(struct av_k8s *k, const struct av_kubevirt_ref *ref, char sel[][10],
                          int n_sel, const char *resource, bool dry_run,
                          struct av_kubevirt_apply *res, char **cause);
void av_kubevirt_apply_clear(struct av_kubevirt_apply *res);

#endif
