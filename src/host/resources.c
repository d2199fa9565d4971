#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/resources.h"
#include "base/util.h"

const char *av_resource_name(enum av_mode mode, enum av_naming naming)
{
	if (naming == AV_NAMING_MIXED && mode == AV_MODE_VF)
		return "amd.com/gpu_vf";
	if (naming == AV_NAMING_MIXED && mode == AV_MODE_PF)
		return "amd.com/gpu_pf";
	return "amd.com/gpu";
}

int av_naming_parse(const char *s, enum av_naming *out)
{
	if (strcmp(s, "single") == 0)
		*out = AV_NAMING_SINGLE;
	else if (strcmp(s, "mixed") == 0)
		*out = AV_NAMING_MIXED;
	else
		return -EINVAL;
	return 0;
}

void av_resource_env_name(const char *resource, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "PCI_RESOURCE_%s", resource);
	for (size_t i = strlen("PCI_RESOURCE_"); i < n && i < size; i++)
		buf[i] = (buf[i] == '/' || buf[i] == '.') ? '_' : (char)toupper((unsigned char)buf[i]);
}

static struct av_plugin_device *add_device(struct av_resources *r)
{
	struct av_plugin_device *d = realloc(r->devices, ((size_t)r->n_devices + 1) * sizeof(*d));
	if (!d)
		return NULL;
	r->devices = d;
	d = &r->devices[r->n_devices++];
	memset(d, 0, sizeof(*d));
	d->group = -1;
	d->numa_node = -1;
	d->hive = -1;
	return d;
}

/* One device per IOMMU group holding a selected function on vfio-pci. */
static int passthrough_devices(const struct av_model *m, struct av_resources *r)
{
	for (int gi = 0; gi < m->n_groups; gi++) {
		const struct av_group *g = &m->groups[gi];
		struct av_plugin_device *d = NULL;
		bool all_on_vfio = true;
		for (int k = 0; k < g->n_members; k++) {
			const struct av_func *f = &m->funcs[g->members[k]];
			if (!f->selected)
				continue;
			if (!av_func_on(f, "vfio-pci")) {
				all_on_vfio = false;
				continue;
			}
			if (!d) {
				if (!(d = add_device(r)))
					return -ENOMEM;
				snprintf(d->id, sizeof(d->id), "%d", g->id);
				d->group = g->id;
			}
			if (av_int_push(&d->funcs, &d->n_funcs, g->members[k]) < 0)
				return -ENOMEM;
			if (d->numa_node < 0)
				d->numa_node = f->numa_node;
			if (d->hive < 0)
				d->hive = f->hive;
		}
		if (d)
			d->healthy = all_on_vfio && g->vfio_node && g->viable;
	}
	return 0;
}

static int container_devices(const struct av_model *m, struct av_resources *r)
{
	for (int i = 0; i < m->n_gpus; i++) {
		const struct av_func *f = &m->funcs[m->gpus[i]];
		if (!f->selected || !av_func_on(f, "amdgpu"))
			continue;
		struct av_plugin_device *d = add_device(r);
		if (!d)
			return -ENOMEM;
		snprintf(d->id, sizeof(d->id), "%s", f->bdf);
		if (av_int_push(&d->funcs, &d->n_funcs, m->gpus[i]) < 0)
			return -ENOMEM;
		d->numa_node = f->numa_node;
		d->hive = f->hive;
		d->healthy = m->have_kfd && f->n_drm_nodes > 0;
	}
	return 0;
}

int av_resources_compute(const struct av_model *m, enum av_naming naming, struct av_resources *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->resource, sizeof(out->resource), "%s", av_resource_name(m->mode, naming));
	int r = 0;
	if (m->mode == AV_MODE_VF || m->mode == AV_MODE_PF)
		r = passthrough_devices(m, out);
	else if (m->mode == AV_MODE_CONTAINER)
		r = container_devices(m, out);
	if (r < 0) {
		av_resources_clear(out);
		return r;
	}
	for (int i = 0; i < out->n_devices; i++)
		out->n_healthy += out->devices[i].healthy;
	return 0;
}

void av_resources_clear(struct av_resources *r)
{
	for (int i = 0; i < r->n_devices; i++)
		free(r->devices[i].funcs);
	free(r->devices);
	memset(r, 0, sizeof(*r));
}
