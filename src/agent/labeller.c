#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "agent/labeller.h"
#include "base/textsafe.h"
#include "base/util.h"

int av_labeller_labels(const struct av_host *host, const struct av_model *m,
                       struct av_labels *out)
{
	struct av_label_facts facts;
	int r = av_label_facts_read(host, m, &facts);
	if (r < 0)
		return r;
	r = av_labels_compute(m, &facts, out);
	av_label_facts_clear(&facts);
	return r;
}

int av_labeller_sync(struct av_k8s *k, const char *node, const struct av_host *host,
                     const struct av_model *m, struct av_apply_result *res, char **cause)
{
	struct av_labels labels;
	int r = av_labeller_labels(host, m, &labels);
	if (r < 0) {
		av_set_cause(cause, "out of memory");
		return r;
	}
	for (int i = 0; i < labels.n_notes; i++)
		fprintf(stderr, "amdvirt: %s\n", AV_SAFE(labels.notes[i]));
	r = av_k8s_apply_labels(k, node, &labels, m->config, res, cause);
	av_labels_clear(&labels);
	return r;
}

struct av_k8s *av_labeller_client(const struct av_host *host, const char *kubeconfig,
                                  char **cause)
{
	return av_k8s_open(host, kubeconfig, cause);
}
