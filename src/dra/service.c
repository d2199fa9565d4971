#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/textsafe.h"
#include "base/util.h"
#include "dra/dra.pb-c.h"
#include "dra/names.h"
#include "dra/pluginregistration.pb-c.h"
#include "dra/service.h"

typedef K8s__Io__Kubelet__Pkg__Apis__Dra__V1__NodePrepareResourcesRequest PrepareReq;
typedef K8s__Io__Kubelet__Pkg__Apis__Dra__V1__NodeUnprepareResourcesRequest UnprepareReq;
typedef K8s__Io__Kubelet__Pkg__Apis__Dra__V1__Claim Claim;
typedef K8s__Io__Kubelet__Pkg__Apis__Dra__V1__NodePrepareResourcesResponse PrepareResp;
typedef K8s__Io__Kubelet__Pkg__Apis__Dra__V1__NodePrepareResourcesResponse__ClaimsEntry PrepareEntry;
typedef K8s__Io__Kubelet__Pkg__Apis__Dra__V1__NodePrepareResourceResponse PrepareOne;
typedef K8s__Io__Kubelet__Pkg__Apis__Dra__V1__Device Device;
typedef K8s__Io__Kubelet__Pkg__Apis__Dra__V1__NodeUnprepareResourcesResponse UnprepareResp;
typedef K8s__Io__Kubelet__Pkg__Apis__Dra__V1__NodeUnprepareResourcesResponse__ClaimsEntry UnprepareEntry;
typedef K8s__Io__Kubelet__Pkg__Apis__Dra__V1__NodeUnprepareResourceResponse UnprepareOne;

#define DRA_V1 "/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/"
#define DRA_V1BETA1 "/k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin/"

/* --- registration --------------------------------------------------------------- */

static void get_info(struct av_grpc_call *call, const uint8_t *req, size_t len, void *user)
{
	struct av_dra_service *s = user;
	Pluginregistration__InfoRequest *in = pluginregistration__info_request__unpack(NULL, len, req);
	Pluginregistration__PluginInfo info = PLUGINREGISTRATION__PLUGIN_INFO__INIT;
	/* In kubelet's order of preference: it takes the first it knows. */
	static char *versions[] = { (char *)"v1.DRAPlugin", (char *)"v1beta1.DRAPlugin" };

	if (!in) {
		av_grpc_call_finish(call, AV_GRPC_INVALID_ARGUMENT, "malformed InfoRequest");
		return;
	}
	pluginregistration__info_request__free_unpacked(in, NULL);
	info.type = (char *)"DRAPlugin";
	info.name = (char *)AV_DRA_DRIVER;
	info.endpoint = s->endpoint;
	info.n_supported_versions = sizeof(versions) / sizeof(*versions);
	info.supported_versions = versions;
	av_grpc_call_reply(call, &info.base);
}

static void notify(struct av_grpc_call *call, const uint8_t *req, size_t len, void *user)
{
	struct av_dra_service *s = user;
	Pluginregistration__RegistrationStatus *in = pluginregistration__registration_status__unpack(NULL, len, req);
	Pluginregistration__RegistrationStatusResponse out = PLUGINREGISTRATION__REGISTRATION_STATUS_RESPONSE__INIT;

	if (!in) {
		av_grpc_call_finish(call, AV_GRPC_INVALID_ARGUMENT, "malformed RegistrationStatus");
		return;
	}
	av_grpc_call_reply(call, &out.base);
	if (s->registered)
		s->registered(s->user, in->plugin_registered, in->error ? in->error : "");
	pluginregistration__registration_status__free_unpacked(in, NULL);
}

static const struct av_grpc_method reg_methods[] = {
	{ "/pluginregistration.Registration/GetInfo", get_info },
	{ "/pluginregistration.Registration/NotifyRegistrationStatus", notify },
};

const struct av_grpc_method *av_dra_reg_methods(size_t *n)
{
	*n = sizeof(reg_methods) / sizeof(*reg_methods);
	return reg_methods;
}

/* --- DRAPlugin ---------------------------------------------------------------------- */

void av_dra_request_free(struct av_dra_request *req)
{
	if (!req)
		return;
	if (req->call)
		av_grpc_call_on_close(req->call, NULL, NULL);
	for (int i = 0; i < req->n; i++)
		av_dra_claim_clear(&req->claims[i]);
	free(req->claims);
	free(req);
}

static void call_gone(struct av_grpc_call *call, void *user)
{
	struct av_dra_request *req = user;
	(void)call;
	req->call = NULL;
}

/* kubelet's claim references become the request's claims; a reference
 * that cannot name an object gets its error now and never reaches the API
 * server's paths. */
static void take_claims(struct av_grpc_call *call, struct av_dra_service *s, bool unprepare,
                        Claim **claims, size_t n)
{
	struct av_dra_request *req = calloc(1, sizeof(*req));

	if (!req || !(req->claims = calloc(n + 1, sizeof(*req->claims)))) {
		free(req);
		av_grpc_call_finish(call, AV_GRPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	req->unprepare = unprepare;
	req->t0 = av_clock_ms();
	for (size_t i = 0; i < n; i++) {
		struct av_dra_claim *c = &req->claims[req->n++];
		const char *ns = claims[i]->namespace_, *uid = claims[i]->uid, *name = claims[i]->name;
		c->uid = strdup(uid);
		c->namespace_ = strdup(ns);
		c->name = strdup(name);
		if (!c->uid || !c->namespace_ || !c->name) {
			av_dra_request_free(req);
			av_grpc_call_finish(call, AV_GRPC_RESOURCE_EXHAUSTED, "out of memory");
			return;
		}
		if (!av_dra_dns_label_ok(uid) || !av_dra_dns_label_ok(ns) || !av_dra_dns_subdomain_ok(name))
			c->error = av_strdup_printf("claim reference %s/%s (uid %s) does not name a ResourceClaim",
			                            AV_SAFE(ns), AV_SAFE(name), AV_SAFE(uid));
	}
	req->call = call;
	av_grpc_call_on_close(call, call_gone, req);
	s->request(s->user, req);
}

static void prepare(struct av_grpc_call *call, const uint8_t *data, size_t len, void *user)
{
	PrepareReq *in = k8s__io__kubelet__pkg__apis__dra__v1__node_prepare_resources_request__unpack(NULL, len, data);
	if (!in) {
		av_grpc_call_finish(call, AV_GRPC_INVALID_ARGUMENT, "malformed NodePrepareResourcesRequest");
		return;
	}
	take_claims(call, user, false, in->claims, in->n_claims);
	k8s__io__kubelet__pkg__apis__dra__v1__node_prepare_resources_request__free_unpacked(in, NULL);
}

static void unprepare(struct av_grpc_call *call, const uint8_t *data, size_t len, void *user)
{
	UnprepareReq *in = k8s__io__kubelet__pkg__apis__dra__v1__node_unprepare_resources_request__unpack(NULL, len, data);
	if (!in) {
		av_grpc_call_finish(call, AV_GRPC_INVALID_ARGUMENT, "malformed NodeUnprepareResourcesRequest");
		return;
	}
	take_claims(call, user, true, in->claims, in->n_claims);
	k8s__io__kubelet__pkg__apis__dra__v1__node_unprepare_resources_request__free_unpacked(in, NULL);
}

static const struct av_grpc_method methods[] = {
	{ DRA_V1 "NodePrepareResources", prepare },
	{ DRA_V1 "NodeUnprepareResources", unprepare },
	/* Same messages (reference 1.1): for a kubelet that picks v1beta1. */
	{ DRA_V1BETA1 "NodePrepareResources", prepare },
	{ DRA_V1BETA1 "NodeUnprepareResources", unprepare },
};

const struct av_grpc_method *av_dra_methods(size_t *n)
{
	*n = sizeof(methods) / sizeof(*methods);
	return methods;
}

static void reply_prepare(struct av_dra_request *req)
{
	int n = req->n, n_devs = 0;
	for (int i = 0; i < n; i++)
		n_devs += req->claims[i].error ? 0 : req->claims[i].n_devs;
	PrepareResp out = K8S__IO__KUBELET__PKG__APIS__DRA__V1__NODE_PREPARE_RESOURCES_RESPONSE__INIT;
	PrepareEntry *e = calloc((size_t)n + 1, sizeof(*e));
	PrepareEntry **ep = calloc((size_t)n + 1, sizeof(*ep));
	PrepareOne *one = calloc((size_t)n + 1, sizeof(*one));
	Device *d = calloc((size_t)n_devs + 1, sizeof(*d));
	Device **dp = calloc((size_t)n_devs + 1, sizeof(*dp));
	char **names = calloc((size_t)n_devs + 1, sizeof(*names));
	int k = 0;

	if (!e || !ep || !one || !d || !dp || !names) {
		av_grpc_call_finish(req->call, AV_GRPC_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const struct av_dra_claim *c = &req->claims[i];
		k8s__io__kubelet__pkg__apis__dra__v1__node_prepare_resources_response__claims_entry__init(&e[i]);
		k8s__io__kubelet__pkg__apis__dra__v1__node_prepare_resource_response__init(&one[i]);
		e[i].key = c->uid;
		e[i].value = &one[i];
		ep[i] = &e[i];
		if (c->error) {
			one[i].error = c->error;
			continue;
		}
		one[i].devices = &dp[k];
		for (int j = 0; j < c->n_devs; j++, k++) {
			k8s__io__kubelet__pkg__apis__dra__v1__device__init(&d[k]);
			names[k] = c->devs[j].request;
			d[k].n_request_names = 1;
			d[k].request_names = &names[k];
			d[k].pool_name = c->devs[j].pool;
			d[k].device_name = c->devs[j].device;
			d[k].n_cdi_device_ids = (size_t)c->devs[j].n_cdi;
			d[k].cdi_device_ids = c->devs[j].cdi;
			dp[k] = &d[k];
		}
		one[i].n_devices = (size_t)c->n_devs;
	}
	out.n_claims = (size_t)n;
	out.claims = ep;
	av_grpc_call_reply(req->call, &out.base);
out:
	free(e);
	free(ep);
	free(one);
	free(d);
	free(dp);
	free(names);
}

static void reply_unprepare(struct av_dra_request *req)
{
	int n = req->n;
	UnprepareResp out = K8S__IO__KUBELET__PKG__APIS__DRA__V1__NODE_UNPREPARE_RESOURCES_RESPONSE__INIT;
	UnprepareEntry *e = calloc((size_t)n + 1, sizeof(*e));
	UnprepareEntry **ep = calloc((size_t)n + 1, sizeof(*ep));
	UnprepareOne *one = calloc((size_t)n + 1, sizeof(*one));

	if (!e || !ep || !one) {
		av_grpc_call_finish(req->call, AV_GRPC_RESOURCE_EXHAUSTED, "out of memory");
	} else {
		/* Every claim gets an entry, an empty one when all went well:
		 * a missing one makes kubelet call again. */
		for (int i = 0; i < n; i++) {
			k8s__io__kubelet__pkg__apis__dra__v1__node_unprepare_resources_response__claims_entry__init(&e[i]);
			k8s__io__kubelet__pkg__apis__dra__v1__node_unprepare_resource_response__init(&one[i]);
			e[i].key = req->claims[i].uid;
			e[i].value = &one[i];
			if (req->claims[i].error)
				one[i].error = req->claims[i].error;
			ep[i] = &e[i];
		}
		out.n_claims = (size_t)n;
		out.claims = ep;
		av_grpc_call_reply(req->call, &out.base);
	}
	free(e);
	free(ep);
	free(one);
}

void av_dra_reply(struct av_dra_request *req)
{
	if (req->call) {
		/* The call ends here; its close hook must not reach req after. */
		av_grpc_call_on_close(req->call, NULL, NULL);
		if (req->unprepare)
			reply_unprepare(req);
		else
			reply_prepare(req);
		req->call = NULL;
	}
	av_dra_request_free(req);
}
