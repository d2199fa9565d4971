/* The host facts behind the labels that the model does not carry: module
 * versions, product names and the KFD topology (container mode). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels/labels.h"

#define KFD_NODES "/sys/class/kfd/kfd/topology/nodes"

/* One GPU node of the KFD topology. */
struct kfd_node {
	long long domain, location_id, render_minor, simd_count, simd_per_cu, vram;
};

static char *read_string(const struct av_host *host, const char *path)
{
	char buf[256];
	if (av_read_text(host, path, buf, sizeof(buf)) <= 0)
		return NULL;
	return strdup(buf);
}

/* KFD properties files are "name value" lines. */
static long long prop(const char *text, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, len) == 0 && p[len] == ' ')
			return strtoll(p + len + 1, NULL, 10);
	}
	return -1;
}

static bool kfd_read(const struct av_host *host, const char *node, struct kfd_node *k)
{
	char path[512], *text = NULL;
	snprintf(path, sizeof(path), KFD_NODES "/%s/properties", node);
	if (av_read_all(host, path, 1 << 16, &text) < 0)
		return false;
	k->simd_count = prop(text, "simd_count");
	k->simd_per_cu = prop(text, "simd_per_cu");
	k->domain = prop(text, "domain");
	k->location_id = prop(text, "location_id");
	k->render_minor = prop(text, "drm_render_minor");
	free(text);

	k->vram = -1;
	snprintf(path, sizeof(path), KFD_NODES "/%s/mem_banks/0/properties", node);
	if (av_read_all(host, path, 1 << 16, &text) >= 0) {
		k->vram = prop(text, "size_in_bytes");
		free(text);
	}
	/* CPU nodes have no SIMDs. */
	return k->simd_count > 0;
}

/* location_id is the PCI bus/devfn ((bus << 8) | devfn); older kernels
 * lack it, and then the render node is the link to the PF. */
static bool kfd_matches(const struct kfd_node *k, const struct av_func *f)
{
	if (k->location_id >= 0) {
		char bdf[AV_BDF_LEN];
		long long loc = k->location_id;
		snprintf(bdf, sizeof(bdf), "%04llx:%02llx:%02llx.%llx",
		         k->domain > 0 ? k->domain & 0xffff : 0, (loc >> 8) & 0xff,
		         (loc >> 3) & 0x1f, loc & 7);
		return strcmp(bdf, f->bdf) == 0;
	}
	if (k->render_minor < 0)
		return false;
	char want[48];
	snprintf(want, sizeof(want), "/dev/dri/renderD%lld", k->render_minor);
	for (int i = 0; i < f->n_drm_nodes; i++)
		if (strcmp(f->drm_nodes[i], want) == 0)
			return true;
	return false;
}

static int by_name(const void *a, const void *b)
{
	long x = strtol(*(char *const *)a, NULL, 10), y = strtol(*(char *const *)b, NULL, 10);
	return (x > y) - (x < y);
}

/* The GPU nodes, in node-number order (readdir order is not stable). */
static int kfd_list(const struct av_host *host, struct kfd_node **out, int *n)
{
	*out = NULL;
	*n = 0;
	DIR *d = av_opendir(host, KFD_NODES);
	if (!d)
		return 0;
	char **names = NULL;
	int n_names = 0, r = 0;
	struct dirent *e;
	while (!r && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char **nn = realloc(names, (size_t)(n_names + 1) * sizeof(*nn));
		if (!nn || !(nn[n_names] = strdup(e->d_name))) {
			if (nn)
				names = nn;
			r = -ENOMEM;
			break;
		}
		names = nn;
		n_names++;
	}
	closedir(d);
	if (n_names > 1)
		qsort(names, (size_t)n_names, sizeof(*names), by_name);
	for (int i = 0; !r && i < n_names; i++) {
		struct kfd_node k;
		if (!kfd_read(host, names[i], &k))
			continue;
		struct kfd_node *nk = realloc(*out, (size_t)(*n + 1) * sizeof(*nk));
		if (!nk) {
			r = -ENOMEM;
			break;
		}
		*out = nk;
		(*out)[(*n)++] = k;
	}
	for (int i = 0; i < n_names; i++)
		free(names[i]);
	free(names);
	return r;
}

static struct av_gpu_facts *facts_push(struct av_label_facts *f, const struct av_func *pf,
                                       const char *product)
{
	struct av_gpu_facts *g = realloc(f->gpus, (size_t)(f->n_gpus + 1) * sizeof(*g));
	if (!g)
		return NULL;
	f->gpus = g;
	g = &f->gpus[f->n_gpus];
	memset(g, 0, sizeof(*g));
	snprintf(g->bdf, sizeof(g->bdf), "%s", pf->bdf);
	g->vram_bytes = -1;
	g->simd_count = g->simd_per_cu = -1;
	if (product && !(g->product_name = strdup(product)))
		return NULL;
	f->n_gpus++;
	return g;
}

static char *product_name(const struct av_host *host, const struct av_func *pf)
{
	char path[512];
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/product_name", pf->bdf);
	return read_string(host, path);
}

/* One entry per KFD node of a PF (a partitioned GPU has several), or one
 * bare entry when KFD knows nothing of it. */
static int pf_facts(const struct av_host *host, const struct av_func *pf,
                    const struct kfd_node *kfd, int n_kfd, struct av_label_facts *out)
{
	char *product = product_name(host, pf);
	int matched = 0, r = 0;
	for (int i = 0; !r && i < n_kfd; i++) {
		if (!kfd_matches(&kfd[i], pf))
			continue;
		struct av_gpu_facts *g = facts_push(out, pf, product);
		if (!g) {
			r = -ENOMEM;
			break;
		}
		g->vram_bytes = kfd[i].vram;
		g->simd_count = (long)kfd[i].simd_count;
		g->simd_per_cu = (long)kfd[i].simd_per_cu;
		matched++;
	}
	if (!r && !matched && !facts_push(out, pf, product))
		r = -ENOMEM;
	free(product);
	return r;
}

int av_label_facts_read(const struct av_host *host, const struct av_model *m,
                        struct av_label_facts *out)
{
	memset(out, 0, sizeof(*out));
	out->gim_version = read_string(host, "/sys/module/gim/version");
	out->amdgpu_version = read_string(host, "/sys/module/amdgpu/version");

	struct kfd_node *kfd;
	int n_kfd;
	int r = kfd_list(host, &kfd, &n_kfd);
	for (int i = 0; !r && i < m->n_gpus; i++)
		r = pf_facts(host, &m->funcs[m->gpus[i]], kfd, n_kfd, out);
	free(kfd);
	if (r)
		av_label_facts_clear(out);
	return r;
}

void av_label_facts_clear(struct av_label_facts *f)
{
	free(f->gim_version);
	free(f->amdgpu_version);
	for (int i = 0; i < f->n_gpus; i++)
		free(f->gpus[i].product_name);
	free(f->gpus);
	memset(f, 0, sizeof(*f));
}
