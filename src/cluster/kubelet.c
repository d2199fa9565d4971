#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "cluster/kubelet.h"
#include "cluster/podresources.h"
#include "host/holders.h"

int av_cluster_holders(const struct av_host *host, struct av_model *m, const struct av_resources *r,
                       bool allocatable, char **cause)
{
	struct av_pr_answer pr;
	struct av_vfio_users users;
	char *why = NULL;
	int q, rc;

	*cause = NULL;
	q = av_podresources_query(host, AV_PODRESOURCES_TIMEOUT_MS, allocatable, &pr, &why);
	if (q == -ENOMEM || av_vfio_users_scan(host, &users) < 0) {
		free(why);
		av_pr_answer_clear(&pr);
		return -ENOMEM;
	}
	rc = av_holders_build(m, r, q == 0 ? &pr : NULL, q == -ENOENT ? AV_KUBELET_ABSENT : AV_KUBELET_ERROR,
	                      why, &users);
	if (q < 0 && q != -ENOENT)
		*cause = why;
	else
		free(why);
	av_pr_answer_clear(&pr);
	/* The checks of this rescan read the same walk (ck_group_holder). */
	av_vfio_users_clear(&m->vfio);
	m->vfio = users;
	m->vfio_scanned = true;
	return rc;
}
