#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "plugin/alloc.h"
#include "plugin/service.h"
#include "plugin/deviceplugin.pb-c.h"

#define WHY_MAX 1024

void av_plugin_init(struct av_plugin *p)
{
	memset(p, 0, sizeof(*p));
}

void av_plugin_clear(struct av_plugin *p)
{
	if (p->have_model) {
		av_resources_clear(&p->res);
		av_model_free(&p->model);
	}
	free(p->watchers);
	memset(p, 0, sizeof(*p));
}

/* --- ListAndWatch ------------------------------------------------------------ */

static int send_list(struct av_plugin *p, struct av_grpc_call *call, bool empty)
{
	const struct av_resources *r = &p->res;
	int n = empty || !p->have_model ? 0 : r->n_devices;
	V1beta1__ListAndWatchResponse resp = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
	V1beta1__Device *devs = calloc((size_t)n + 1, sizeof(*devs));
	V1beta1__Device **ptrs = calloc((size_t)n + 1, sizeof(*ptrs));
	V1beta1__TopologyInfo *topo = calloc((size_t)n + 1, sizeof(*topo));
	V1beta1__NUMANode *nodes = calloc((size_t)n + 1, sizeof(*nodes));
	V1beta1__NUMANode **node_ptrs = calloc((size_t)n + 1, sizeof(*node_ptrs));
	int rc = -ENOMEM;

	if (devs == NULL || ptrs == NULL || topo == NULL || nodes == NULL || node_ptrs == NULL)
		goto out;
	for (int i = 0; i < n; i++) {
		const struct av_plugin_device *d = &r->devices[i];

		v1beta1__device__init(&devs[i]);
		devs[i].id = (char *)d->id;
		devs[i].health = (char *)(d->healthy ? "Healthy" : "Unhealthy");
		/* No topology for -1: kubelet would take a negative ID for a
		 * real node. */
		if (d->numa_node >= 0) {
			v1beta1__topology_info__init(&topo[i]);
			v1beta1__numanode__init(&nodes[i]);
			nodes[i].id = d->numa_node;
			node_ptrs[i] = &nodes[i];
			topo[i].n_nodes = 1;
			topo[i].nodes = &node_ptrs[i];
			devs[i].topology = &topo[i];
		}
		ptrs[i] = &devs[i];
	}
	resp.n_devices = (size_t)n;
	resp.devices = ptrs;
	rc = av_grpc_call_send(call, &resp.base);
out:
	free(devs);
	free(ptrs);
	free(topo);
	free(nodes);
	free(node_ptrs);
	return rc;
}

static void watcher_gone(struct av_grpc_call *call, void *user)
{
	struct av_plugin *p = user;

	for (int i = 0; i < p->n_watchers; i++) {
		if (p->watchers[i] == call) {
			p->watchers[i] = p->watchers[--p->n_watchers];
			break;
		}
	}
}

static void list_and_watch(struct av_grpc_call *call, const uint8_t *req, size_t len, void *user)
{
	struct av_plugin *p = user;

	if (p->stopped) {
		send_list(p, call, true);
		av_grpc_call_finish(call, 0, NULL);
		return;
	}
	if (p->n_watchers == p->cap_watchers) {
		int cap = p->cap_watchers ? 2 * p->cap_watchers : 4;
		struct av_grpc_call **w = realloc(p->watchers, (size_t)cap * sizeof(*w));

		if (w == NULL) {
			av_grpc_call_finish(call, 8, "out of memory");
			return;
		}
		p->watchers = w;
		p->cap_watchers = cap;
	}
	if (send_list(p, call, false) < 0) {
		av_grpc_call_finish(call, 8, "cannot send the device list");
		return;
	}
	p->watchers[p->n_watchers++] = call;
	av_grpc_call_on_close(call, watcher_gone, p);
	/* Capped with the server's other lines about calls: a client churning
	 * streams would otherwise write a line for each. */
	av_grpc_call_log(call, "ListAndWatch: stream opened, %d devices (%d healthy)",
	                 p->have_model ? p->res.n_devices : 0, p->have_model ? p->res.n_healthy : 0);
}

/* Whether a kubelet would see a difference between the lists. */
static bool same_list(const struct av_resources *a, const struct av_resources *b)
{
	if (a->n_devices != b->n_devices || strcmp(a->resource, b->resource) != 0)
		return false;
	for (int i = 0; i < a->n_devices; i++) {
		const struct av_plugin_device *x = &a->devices[i], *y = &b->devices[i];

		if (strcmp(x->id, y->id) != 0 || x->healthy != y->healthy ||
		    x->numa_node != y->numa_node)
			return false;
	}
	return true;
}

bool av_plugin_update(struct av_plugin *p, struct av_model *model, struct av_resources *res)
{
	bool changed = !p->have_model || !same_list(&p->res, res);

	if (p->have_model) {
		av_resources_clear(&p->res);
		av_model_free(&p->model);
	}
	p->model = *model;
	p->res = *res;
	p->have_model = true;
	/* res->devices refer to model indexes; both now live in p. */
	memset(model, 0, sizeof(*model));
	memset(res, 0, sizeof(*res));
	if (changed && !p->stopped)
		for (int i = 0; i < p->n_watchers; i++)
			send_list(p, p->watchers[i], false);
	return changed;
}

void av_plugin_stop(struct av_plugin *p)
{
	p->stopped = true;
	/* Finishing a stream does not close it under us: close hooks run
	 * from the loop, after this returns. */
	for (int i = 0; i < p->n_watchers; i++) {
		send_list(p, p->watchers[i], true);
		av_grpc_call_finish(p->watchers[i], 0, NULL);
	}
}

/* --- unary methods ------------------------------------------------------------ */

static void get_options(struct av_grpc_call *call, const uint8_t *req, size_t len, void *user)
{
	V1beta1__DevicePluginOptions opts = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;

	opts.pre_start_required = 0;
	opts.get_preferred_allocation_available = 1;
	av_grpc_call_reply(call, &opts.base);
}

static void pre_start(struct av_grpc_call *call, const uint8_t *req, size_t len, void *user)
{
	V1beta1__PreStartContainerResponse resp = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;

	av_grpc_call_reply(call, &resp.base);
}

static void preferred(struct av_grpc_call *call, const uint8_t *req, size_t len, void *user)
{
	struct av_plugin *p = user;
	const struct av_resources *r = &p->res;
	V1beta1__PreferredAllocationRequest *in;
	V1beta1__PreferredAllocationResponse out = V1BETA1__PREFERRED_ALLOCATION_RESPONSE__INIT;
	V1beta1__ContainerPreferredAllocationResponse *cr = NULL, **crp = NULL;
	char ***ids = NULL;
	size_t n_req;

	in = v1beta1__preferred_allocation_request__unpack(NULL, len, req);
	if (in == NULL) {
		av_grpc_call_finish(call, 3, "malformed PreferredAllocationRequest");
		return;
	}
	n_req = in->n_container_requests;
	cr = calloc(n_req + 1, sizeof(*cr));
	crp = calloc(n_req + 1, sizeof(*crp));
	ids = calloc(n_req + 1, sizeof(*ids));
	if (cr == NULL || crp == NULL || ids == NULL) {
		av_grpc_call_finish(call, 8, "out of memory");
		goto out;
	}
	/* Whole requests are judged before anything is picked. */
	for (size_t c = 0; c < n_req; c++) {
		const V1beta1__ContainerPreferredAllocationRequest *q = in->container_requests[c];

		if (q->allocation_size < 0) {
			av_grpc_call_finish(call, 3, "amdvirt: allocation_size %d is negative",
			                    q->allocation_size);
			goto out;
		}
		if (q->n_must_include_deviceids > (size_t)q->allocation_size) {
			av_grpc_call_finish(call, 3, "amdvirt: %zu devices must be included in an "
			                    "allocation of %d", q->n_must_include_deviceids,
			                    q->allocation_size);
			goto out;
		}
	}
	for (size_t c = 0; c < n_req; c++) {
		const V1beta1__ContainerPreferredAllocationRequest *q = in->container_requests[c];
		size_t na = q->n_available_deviceids, nm = q->n_must_include_deviceids;
		int size = q->allocation_size;
		int *avail = calloc(na + 1, sizeof(int)), *must = calloc(nm + 1, sizeof(int));
		int *pick = NULL, n_avail = 0, n_must = 0, n = 0;

		v1beta1__container_preferred_allocation_response__init(&cr[c]);
		crp[c] = &cr[c];
		if ((size_t)size > na)
			size = (int)na;
		pick = calloc((size_t)size + 1, sizeof(int));
		ids[c] = calloc((size_t)size + 1, sizeof(char *));
		if (avail == NULL || must == NULL || pick == NULL || ids[c] == NULL) {
			free(avail);
			free(must);
			free(pick);
			av_grpc_call_finish(call, 8, "out of memory");
			goto out;
		}
		/* Unknown IDs are kubelet's business: leave them out. */
		for (size_t i = 0; i < na; i++) {
			int d = av_alloc_find(r, q->available_deviceids[i]);

			if (d >= 0)
				avail[n_avail++] = d;
		}
		for (size_t i = 0; i < nm; i++) {
			int d = av_alloc_find(r, q->must_include_deviceids[i]);

			if (d >= 0)
				must[n_must++] = d;
		}
		n = av_alloc_prefer(r, avail, n_avail, must, n_must, size, pick);
		for (int i = 0; i < n; i++)
			ids[c][i] = r->devices[pick[i]].id;
		cr[c].n_deviceids = (size_t)n;
		cr[c].deviceids = ids[c];
		free(avail);
		free(must);
		free(pick);
	}
	out.n_container_responses = n_req;
	out.container_responses = crp;
	av_grpc_call_reply(call, &out.base);
out:
	for (size_t c = 0; ids != NULL && c < n_req; c++)
		free(ids[c]);
	free(ids);
	free(cr);
	free(crp);
	v1beta1__preferred_allocation_request__free_unpacked(in, NULL);
}

/* One container's answer; the strings live in g. */
struct grant_msg {
	V1beta1__ContainerAllocateResponse resp;
	V1beta1__ContainerAllocateResponse__EnvsEntry env;
	V1beta1__ContainerAllocateResponse__EnvsEntry *envp;
	V1beta1__DeviceSpec *specs;
	V1beta1__DeviceSpec **specp;
	struct av_alloc_grant g;
};

static int build_grant(struct grant_msg *m)
{
	v1beta1__container_allocate_response__init(&m->resp);
	m->specs = calloc((size_t)m->g.n_specs + 1, sizeof(*m->specs));
	m->specp = calloc((size_t)m->g.n_specs + 1, sizeof(*m->specp));
	if (m->specs == NULL || m->specp == NULL)
		return -ENOMEM;
	if (m->g.env_name[0] != '\0') {
		v1beta1__container_allocate_response__envs_entry__init(&m->env);
		m->env.key = m->g.env_name;
		m->env.value = m->g.env_value;
		m->envp = &m->env;
		m->resp.n_envs = 1;
		m->resp.envs = &m->envp;
	}
	for (int i = 0; i < m->g.n_specs; i++) {
		v1beta1__device_spec__init(&m->specs[i]);
		m->specs[i].container_path = m->g.specs[i].path;
		m->specs[i].host_path = m->g.specs[i].path;
		m->specs[i].permissions = (char *)m->g.permissions;
		m->specp[i] = &m->specs[i];
	}
	m->resp.n_devices = (size_t)m->g.n_specs;
	m->resp.devices = m->specp;
	return 0;
}

static void allocate(struct av_grpc_call *call, const uint8_t *req, size_t len, void *user)
{
	struct av_plugin *p = user;
	V1beta1__AllocateRequest *in;
	V1beta1__AllocateResponse out = V1BETA1__ALLOCATE_RESPONSE__INIT;
	struct grant_msg *msgs = NULL;
	V1beta1__ContainerAllocateResponse **ptrs = NULL;
	size_t n_req = 0;
	char why[WHY_MAX];

	in = v1beta1__allocate_request__unpack(NULL, len, req);
	if (in == NULL) {
		av_grpc_call_finish(call, 3, "malformed AllocateRequest");
		return;
	}
	n_req = in->n_container_requests;
	if (n_req == 0) {
		/* kubelet reads container_responses[0]: never answer with none. */
		av_grpc_call_finish(call, 3, "AllocateRequest without container requests");
		goto out;
	}
	msgs = calloc(n_req + 1, sizeof(*msgs));
	ptrs = calloc(n_req + 1, sizeof(*ptrs));
	if (msgs == NULL || ptrs == NULL) {
		av_grpc_call_finish(call, 8, "out of memory");
		goto out;
	}
	for (size_t c = 0; c < n_req; c++) {
		const V1beta1__ContainerAllocateRequest *q = in->container_requests[c];
		int n = (int)q->n_devices_ids;
		int *devs = calloc((size_t)n + 1, sizeof(int));
		int code;

		if (devs == NULL) {
			av_grpc_call_finish(call, 8, "out of memory");
			goto out;
		}
		code = p->have_model ? av_alloc_check(&p->res, &p->model,
		                                      (const char *const *)q->devices_ids, n,
		                                      devs, why, sizeof(why))
		                     : 14;
		if (code == 14)
			snprintf(why, sizeof(why), "no device list yet");
		if (code == 0 && (av_alloc_grant(&p->res, &p->model, devs, n, &msgs[c].g) < 0 ||
		                  build_grant(&msgs[c]) < 0)) {
			code = 8;
			snprintf(why, sizeof(why), "out of memory");
		}
		free(devs);
		if (code != 0) {
			av_grpc_call_log(call, "Allocate refused: %s", why);
			av_grpc_call_finish(call, code, "amdvirt: %s", why);
			goto out;
		}
		ptrs[c] = &msgs[c].resp;
		av_debug("Allocate %s: %s=%s (%d device nodes)", p->res.resource,
			       msgs[c].g.env_name[0] ? msgs[c].g.env_name : "devices",
			       msgs[c].g.env_value ? msgs[c].g.env_value : "", msgs[c].g.n_specs);
	}
	out.n_container_responses = n_req;
	out.container_responses = ptrs;
	av_grpc_call_reply(call, &out.base);
out:
	for (size_t c = 0; msgs != NULL && c < n_req; c++) {
		free(msgs[c].specs);
		free(msgs[c].specp);
		av_alloc_grant_clear(&msgs[c].g);
	}
	free(msgs);
	free(ptrs);
	v1beta1__allocate_request__free_unpacked(in, NULL);
}

static void get_options_checked(struct av_grpc_call *call, const uint8_t *req, size_t len,
                                void *user)
{
	V1beta1__Empty *in = v1beta1__empty__unpack(NULL, len, req);

	if (in == NULL) {
		av_grpc_call_finish(call, 3, "malformed Empty");
		return;
	}
	v1beta1__empty__free_unpacked(in, NULL);
	get_options(call, req, len, user);
}

static const struct av_grpc_method methods[] = {
	{ "/v1beta1.DevicePlugin/GetDevicePluginOptions", get_options_checked },
	{ "/v1beta1.DevicePlugin/ListAndWatch", list_and_watch },
	{ "/v1beta1.DevicePlugin/GetPreferredAllocation", preferred },
	{ "/v1beta1.DevicePlugin/Allocate", allocate },
	{ "/v1beta1.DevicePlugin/PreStartContainer", pre_start },
};

const struct av_grpc_method *av_plugin_methods(size_t *n)
{
	*n = sizeof(methods) / sizeof(methods[0]);
	return methods;
}
