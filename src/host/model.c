#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/model.h"
#include "base/util.h"

int av_model_find(const struct av_model *m, const char *bdf)
{
	int lo = 0, hi = m->n_funcs - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int c = strcmp(m->funcs[mid].bdf, bdf);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

const struct av_group *av_model_group(const struct av_model *m, int id)
{
	int lo = 0, hi = m->n_groups - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (m->groups[mid].id == id)
			return &m->groups[mid];
		if (m->groups[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

bool av_func_is_gpu(const struct av_func *f)
{
	return f->role == AV_ROLE_PF || f->role == AV_ROLE_VF;
}

bool av_func_on(const struct av_func *f, const char *driver)
{
	return strcmp(f->driver, driver) == 0;
}

bool av_func_in_use(const struct av_func *f)
{
	return f->enable_count > 0 && av_func_on(f, "vfio-pci");
}

static const char *const mode_names[] = {
	[AV_MODE_NONE] = "none",
	[AV_MODE_CONTAINER] = "container",
	[AV_MODE_VF] = "vf-passthrough",
	[AV_MODE_PF] = "pf-passthrough",
};

const char *av_mode_name(enum av_mode mode)
{
	return mode_names[mode];
}

int av_mode_parse(const char *s, enum av_mode *out)
{
	for (int i = AV_MODE_CONTAINER; i <= AV_MODE_PF; i++) {
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum av_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *av_mode_source_name(enum av_mode_source s)
{
	return s == AV_SOURCE_FLAG ? "flag" : s == AV_SOURCE_CONFIG ? "config" : "auto";
}

void av_model_diag(struct av_model *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = av_vstrdup_printf(fmt, ap);
	va_end(ap);
	if (!msg)
		return;
	struct av_diag *d = realloc(m->diags, ((size_t)m->n_diags + 1) * sizeof(*d));
	if (!d) {
		free(msg);
		return;
	}
	m->diags = d;
	m->diags[m->n_diags++].msg = msg;
}

const struct av_holder *av_model_func_holder(const struct av_model *m, int i)
{
	for (int h = 0; h < m->n_holders; h++)
		for (int k = 0; k < m->holders[h].n_funcs; k++)
			if (m->holders[h].funcs[k] == i)
				return &m->holders[h];
	return NULL;
}

const struct av_holder *av_model_device_holder(const struct av_model *m, const char *id)
{
	for (int h = 0; h < m->n_holders; h++)
		if (m->holders[h].advertised && strcmp(m->holders[h].device_id, id) == 0)
			return &m->holders[h];
	return NULL;
}

static void free_strv(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void av_model_clear_holders(struct av_model *m)
{
	for (int h = 0; h < m->n_holders; h++) {
		struct av_holder *o = &m->holders[h];
		free(o->ns);
		free(o->pod);
		free(o->container);
		free(o->vm);
		free(o->pod_uid);
		free(o->pids);
		free(o->funcs);
	}
	free(m->holders);
	m->holders = NULL;
	m->n_holders = 0;
	m->holders_known = false;
	free(m->kubelet.error);
	free_strv(m->kubelet.devices, m->kubelet.n_devices);
	free_strv(m->kubelet.problems, m->kubelet.n_problems);
	memset(&m->kubelet, 0, sizeof(m->kubelet));
}

void av_model_free(struct av_model *m)
{
	av_model_clear_holders(m);
	free(m->vfio.v);
	for (int i = 0; i < m->n_funcs; i++) {
		struct av_func *f = &m->funcs[i];
		free(f->name);
		free(f->pci_name);
		free(f->sysfs_dir);
		free(f->vfs);
		free(f->xgmi_hive_id);
		free(f->vfio_cdev);
		for (int k = 0; k < f->n_drm_nodes; k++)
			free(f->drm_nodes[k]);
		free(f->drm_nodes);
	}
	free(m->funcs);
	for (int i = 0; i < m->n_groups; i++) {
		free(m->groups[i].members);
	}
	free(m->groups);
	for (int i = 0; i < m->n_hives; i++) {
		free(m->hives[i].xgmi_id);
		free(m->hives[i].members);
	}
	free(m->hives);
	free(m->gpus);
	for (int i = 0; i < m->n_diags; i++)
		free(m->diags[i].msg);
	free(m->diags);
	free(m->hostname);
	free(m->mode_evidence);
	free(m->mode_warning);
	memset(m, 0, sizeof(*m));
}
