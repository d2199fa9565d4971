#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster/checks.h"
#include "cluster/podresources.h"
#include "base/util.h"
#include "k8s/conf.h"
#include "plugin/alloc.h"

static int add(struct av_check_report *rep, const char *id, enum av_check_status st, const char *hint,
               const char *ev_path, const char *ev_value, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static int add(struct av_check_report *rep, const char *id, enum av_check_status st, const char *hint,
               const char *ev_path, const char *ev_value, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = av_check_report_addv(rep, id, st, NULL, hint, ev_path, ev_value, fmt, ap);
	va_end(ap);
	return r;
}

/* A growing line of text ("65, 66"); on allocation failure it stays short. */
struct line {
	char buf[1024];
	size_t len;
};

static void line_add(struct line *l, const char *sep, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line_add(struct line *l, const char *sep, const char *fmt, ...)
{
	va_list ap;
	if (l->len && l->len < sizeof(l->buf))
		l->len += (size_t)snprintf(l->buf + l->len, sizeof(l->buf) - l->len, "%s", sep);
	if (l->len >= sizeof(l->buf))
		return;
	va_start(ap, fmt);
	l->len += (size_t)vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
}

static const char *text(const struct line *l)
{
	return l->len ? l->buf : "(none)";
}

/* ---- cluster.registered --------------------------------------------------- */

static const char ID_REGISTERED[] = "cluster.registered";
static const char SOCK[] = AV_PODRESOURCES_DIR "/" AV_PODRESOURCES_SOCK;

static bool kubelet_lists(const struct av_kubelet_view *k, const char *id)
{
	for (int i = 0; i < k->n_devices; i++)
		if (strcmp(k->devices[i], id) == 0)
			return true;
	return false;
}

/* api: API access is configured.  Without it the host is not run as part
 * of a cluster yet (a host being provisioned has kubelet before the
 * daemon), so a difference is a WARN: it never changes check's exit. */
static int registered(const struct av_model *m, const struct av_resources *r, bool api,
                      struct av_check_report *rep)
{
	const struct av_kubelet_view *k = &m->kubelet;
	struct line ours = { 0 }, theirs = { 0 }, missing = { 0 }, extra = { 0 };

	if (k->state != AV_KUBELET_OK)
		return add(rep, ID_REGISTERED, AV_CHECK_SKIP, NULL, SOCK, NULL, "%s",
		           k->state == AV_KUBELET_ABSENT ? "no kubelet pod-resources socket on this host"
		           : k->error ? k->error : "kubelet was not asked");
	if (!k->have_allocatable)
		return add(rep, ID_REGISTERED, AV_CHECK_SKIP, NULL, SOCK, NULL,
		           "kubelet did not answer GetAllocatableResources (a kubelet older than 1.23?)");
	for (int i = 0; i < r->n_devices; i++) {
		line_add(&ours, ",", "%s", r->devices[i].id);
		if (!kubelet_lists(k, r->devices[i].id))
			line_add(&missing, ", ", "%s", r->devices[i].id);
	}
	for (int i = 0; i < k->n_devices; i++) {
		line_add(&theirs, ",", "%s", k->devices[i]);
		if (av_alloc_find(r, k->devices[i]) < 0)
			line_add(&extra, ", ", "%s", k->devices[i]);
	}
	if (!missing.len && !extra.len)
		return add(rep, ID_REGISTERED, AV_CHECK_PASS, NULL, SOCK, text(&theirs),
		           "kubelet lists the %d %s device%s advertised here", r->n_devices, r->resource,
		           r->n_devices == 1 ? "" : "s");
	return add(rep, ID_REGISTERED, api ? AV_CHECK_FAIL : AV_CHECK_WARN,
	           "is `amdvirt daemon` running and registered? its log says (doc/daemon.md); kubelet forgets a "
	           "plugin's devices 5 minutes after its stream ends", SOCK, text(&theirs),
	           "kubelet's %s devices differ from the %d advertised here (%s): not listed by kubelet: %s; "
	           "not advertised here: %s", r->resource, r->n_devices, text(&ours), text(&missing), text(&extra));
}

/* ---- cluster.node-allocatable ---------------------------------------------- */

static const char ID_ALLOCATABLE[] = "cluster.node-allocatable";
static const char ID_LABELS[] = "cluster.labels";

/* A SKIP when the Node could not be read; true when it was. */
static bool have_node(const struct av_cluster_facts *f, const char *id, struct av_check_report *rep, int *rc)
{
	if (f->node_obj)
		return true;
	*rc = add(rep, id, AV_CHECK_SKIP, NULL, NULL, NULL, "%s", f->node_why ? f->node_why : "the Node was not read");
	return false;
}

static int node_allocatable(const struct av_resources *r, const struct av_cluster_facts *f,
                            struct av_check_report *rep)
{
	int rc = 0;
	char path[320], want[16];
	if (!have_node(f, ID_ALLOCATABLE, rep, &rc))
		return rc;
	snprintf(path, sizeof(path), "node/%s status.allocatable[\"%s\"]", f->node, r->resource);
	snprintf(want, sizeof(want), "%d", r->n_healthy);
	const cJSON *alloc = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(f->node_obj, "status"), "allocatable");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(alloc, r->resource);
	const char *hint = "kubelet posts the plugin's healthy devices within seconds; if it stays different, see "
	                   "cluster.registered and kubelet's log";
	if (!cJSON_IsString(v))
		return add(rep, ID_ALLOCATABLE, r->n_healthy ? AV_CHECK_FAIL : AV_CHECK_PASS, hint, path, "absent",
		           r->n_healthy ? "Node %s has no %s in status.allocatable; %d healthy device%s advertised here"
		                        : "Node %s has no %s in status.allocatable, and none is advertised here",
		           f->node, r->resource, r->n_healthy, r->n_healthy == 1 ? "" : "s");
	long n;
	if (av_parse_long(v->valuestring, 10, &n) < 0 || n != r->n_healthy)
		return add(rep, ID_ALLOCATABLE, AV_CHECK_FAIL, hint, path, v->valuestring,
		           "Node %s offers %s %s, but %d healthy device%s %s advertised here", f->node,
		           v->valuestring, r->resource, r->n_healthy, r->n_healthy == 1 ? "" : "s",
		           r->n_healthy == 1 ? "is" : "are");
	return add(rep, ID_ALLOCATABLE, AV_CHECK_PASS, NULL, path, v->valuestring,
	           "Node %s offers %s %s, as advertised here", f->node, want, r->resource);
}

/* ---- cluster.labels -------------------------------------------------------- */

static int labels_check(const struct av_model *m, const struct av_labels *want, const struct av_cluster_facts *f,
                        struct av_check_report *rep)
{
	int rc = 0;
	struct line wrong = { 0 }, stale = { 0 };
	char path[300];
	if (!have_node(f, ID_LABELS, rep, &rc))
		return rc;
	snprintf(path, sizeof(path), "node/%s metadata.labels", f->node);
	const cJSON *have = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(f->node_obj, "metadata"), "labels");
	for (int i = 0; i < want->n; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(have, want->items[i].key);
		if (!cJSON_IsString(v))
			line_add(&wrong, ", ", "%s missing", want->items[i].key);
		else if (strcmp(v->valuestring, want->items[i].value) != 0)
			line_add(&wrong, ", ", "%s=%s (want %s)", want->items[i].key, v->valuestring,
			         want->items[i].value);
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, have)
		if (it->string && av_label_owned(it->string, m->config) && !av_labels_get(want, it->string))
			line_add(&stale, ", ", "%s", it->string);
	if (!wrong.len && !stale.len)
		return add(rep, ID_LABELS, AV_CHECK_PASS, NULL, path, NULL,
		           "Node %s carries exactly the %d label%s of `amdvirt labels`", f->node, want->n,
		           want->n == 1 ? "" : "s");
	return add(rep, ID_LABELS, AV_CHECK_FAIL,
	           "`amdvirt labels --apply` brings them in line (the daemon keeps them so)", path,
	           wrong.len ? wrong.buf : stale.buf, "Node %s's labels differ from `amdvirt labels`: %s%s%s%s",
	           f->node, wrong.len ? wrong.buf : "", wrong.len && stale.len ? "; " : "",
	           stale.len ? "stale: " : "", stale.len ? stale.buf : "");
}

/* ---- cluster.kubevirt-permitted -------------------------------------------- */

static const char ID_KUBEVIRT[] = "cluster.kubevirt-permitted";

static const cJSON *at(const cJSON *o, const char *a, const char *b, const char *c)
{
	o = cJSON_GetObjectItemCaseSensitive(o, a);
	o = cJSON_GetObjectItemCaseSensitive(o, b);
	return c ? cJSON_GetObjectItemCaseSensitive(o, c) : o;
}

/* What KubeVirt makes of the CR for one vendor:device: "" when permitted as
 * resource with an external provider, else why not. */
static const char *device_verdict(const cJSON *pci, const char *selector, const char *resource)
{
	const char *why = "no pciHostDevices entry";
	const cJSON *e;
	cJSON_ArrayForEach(e, pci) {
		const cJSON *sel = cJSON_GetObjectItemCaseSensitive(e, "pciVendorSelector");
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(e, "resourceName");
		if (!cJSON_IsString(sel) || strcasecmp(sel->valuestring, selector) != 0)
			continue;
		if (!cJSON_IsString(res) || strcmp(res->valuestring, resource) != 0) {
			why = "an entry under another resourceName";
			continue;
		}
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "externalResourceProvider"))) {
			why = "an entry without externalResourceProvider: true (KubeVirt would run its own plugin)";
			continue;
		}
		return "";
	}
	return why;
}

int av_cluster_kubevirt_permitted(const cJSON *kv, const char *why, const struct av_model *m,
                                  const char *resource, struct av_check_report *rep)
{
	static const char hint[] = "merge `amdvirt kubevirt-config` into the KubeVirt CR: kubectl patch kubevirt "
	                           "-n NAMESPACE NAME --type merge -p \"$(amdvirt kubevirt-config)\"";
	struct line bad = { 0 }, ids = { 0 };
	char sel[16];

	if (!kv)
		return add(rep, ID_KUBEVIRT, AV_CHECK_SKIP, NULL, NULL, NULL, "%s", why ? why : "the KubeVirt CR was not read");
	if (m->mode != AV_MODE_VF && m->mode != AV_MODE_PF)
		return add(rep, ID_KUBEVIRT, AV_CHECK_SKIP, NULL, NULL, NULL,
		           "%s mode passes no function to VMs", av_mode_name(m->mode));
	const cJSON *gates = at(kv, "spec", "configuration", "developerConfiguration");
	gates = cJSON_GetObjectItemCaseSensitive(gates, "featureGates");
	bool gate = false;
	const cJSON *g;
	cJSON_ArrayForEach(g, gates)
		gate |= cJSON_IsString(g) && strcmp(g->valuestring, "HostDevices") == 0;
	const cJSON *pci = cJSON_GetObjectItemCaseSensitive(at(kv, "spec", "configuration", "permittedHostDevices"),
	                                                    "pciHostDevices");
	/* Every vendor:device a VM may get, once each. */
	for (int i = 0; i < m->n_funcs; i++) {
		const struct av_func *f = &m->funcs[i];
		bool seen = false;
		if (!f->selected || !av_func_is_gpu(f))
			continue;
		for (int k = 0; k < i; k++)
			seen |= m->funcs[k].selected && av_func_is_gpu(&m->funcs[k]) && m->funcs[k].vendor == f->vendor
			        && m->funcs[k].device == f->device;
		if (seen)
			continue;
		snprintf(sel, sizeof(sel), "%04X:%04X", f->vendor, f->device);
		line_add(&ids, ", ", "%s", sel);
		const char *v = device_verdict(pci, sel, resource);
		if (*v)
			line_add(&bad, "; ", "%s: %s", sel, v);
	}
	if (!ids.len)
		return add(rep, ID_KUBEVIRT, AV_CHECK_SKIP, NULL, NULL, NULL, "no GPU function is selected on this host");
	if (!gate)
		line_add(&bad, "; ", "the HostDevices feature gate is not in developerConfiguration.featureGates");
	if (bad.len)
		return add(rep, ID_KUBEVIRT, AV_CHECK_FAIL, hint, "spec.configuration", bad.buf,
		           "KubeVirt does not permit %s as %s: %s", ids.buf, resource, bad.buf);
	return add(rep, ID_KUBEVIRT, AV_CHECK_PASS, NULL, "spec.configuration", ids.buf,
	           "KubeVirt permits %s as %s from an external provider", ids.buf, resource);
}

/* ---- the run ---------------------------------------------------------------- */

bool av_cluster_checks_wanted(const struct av_model *m, const char *kubeconfig)
{
	return (m->kubelet.state != AV_KUBELET_ABSENT && m->kubelet.state != AV_KUBELET_NOT_ASKED)
	       || av_k8s_conf_wanted(kubeconfig);
}

int av_cluster_checks_run(const struct av_model *m, const struct av_resources *r,
                          const struct av_labels *labels, const struct av_cluster_facts *f,
                          struct av_check_report *rep)
{
	int rc = registered(m, r, f->api, rep);
	if (rc == 0)
		rc = node_allocatable(r, f, rep);
	if (rc == 0)
		rc = labels_check(m, labels, f, rep);
	if (rc == 0)
		rc = av_cluster_kubevirt_permitted(f->kubevirt, f->kubevirt_why, m, r->resource, rep);
	return rc;
}
