/* The cluster checks as pure functions of their facts: the KubeVirt CR,
 * kubelet's view on the model, the Node. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/checks.h"
#include "host/holders.h"
#include "host/mode.h"
#include "host/model.h"
#include "host/resources.h"

#include "model_fixture.h"

/* Two MI300X VFs on vfio-pci (74b5) under gim PFs, and an MI210 VF (7410). */
static void vf_host(struct av_model *m)
{
	memset(m, 0, sizeof(*m));
	int pf0 = fx_add(m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 10, -1);
	fx_vf(m, pf0, fx_add(m, "0000:05:02.0", AV_VENDOR_AMD, 0x74b5, 0x120000, "vfio-pci", 11, -1));
	int pf1 = fx_add(m, "0000:15:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 20, -1);
	fx_vf(m, pf1, fx_add(m, "0000:15:02.0", AV_VENDOR_AMD, 0x74b5, 0x120000, "vfio-pci", 21, -1));
	int nodes[] = { 11, 21 };
	fx_groups(m, nodes, 2);
	av_mode_detect(m, false, AV_MODE_NONE);
	av_select(m);
}

static const struct av_check_result *one(const struct av_check_report *rep, const char *id)
{
	for (int i = 0; i < rep->n_results; i++)
		if (strcmp(rep->results[i].id, id) == 0)
			return &rep->results[i];
	fail_msg("no %s result", id);
	return NULL;
}

static enum av_check_status permitted(const struct av_model *m, const char *cr, const char *resource,
                                      char *msg, size_t size)
{
	struct av_check_report rep = { 0 };
	cJSON *kv = cr ? cJSON_Parse(cr) : NULL;
	assert_true(!cr || kv);
	assert_int_equal(av_cluster_kubevirt_permitted(kv, "KubeVirt CR not found", m, resource, &rep), 0);
	assert_int_equal(rep.n_results, 1);
	const struct av_check_result *r = one(&rep, "cluster.kubevirt-permitted");
	snprintf(msg, size, "%s", r->message);
	enum av_check_status st = r->status;
	if (st == AV_CHECK_FAIL)
		assert_non_null(strstr(r->hint, "amdvirt kubevirt-config"));
	av_check_report_clear(&rep);
	cJSON_Delete(kv);
	return st;
}

static void test_kubevirt_permitted(void **state)
{
	(void)state;
	struct av_model m;
	char msg[512];
	vf_host(&m);
	assert_int_equal(m.mode, AV_MODE_VF);

	const char *good = "{\"spec\": {\"configuration\": {"
	                   "\"developerConfiguration\": {\"featureGates\": [\"HostDevices\"]},"
	                   "\"permittedHostDevices\": {\"pciHostDevices\": ["
	                   "{\"pciVendorSelector\": \"1002:74B5\", \"resourceName\": \"amd.com/gpu\","
	                   " \"externalResourceProvider\": true}]}}}}";
	assert_int_equal(permitted(&m, good, "amd.com/gpu", msg, sizeof(msg)), AV_CHECK_PASS);
	assert_string_equal(msg, "KubeVirt permits 1002:74B5 as amd.com/gpu from an external provider");
	/* the selector is matched as KubeVirt matches it: whatever its case */
	const char *lower = "{\"spec\": {\"configuration\": {"
	                    "\"developerConfiguration\": {\"featureGates\": [\"GPU\", \"HostDevices\"]},"
	                    "\"permittedHostDevices\": {\"pciHostDevices\": ["
	                    "{\"pciVendorSelector\": \"1002:74b5\", \"resourceName\": \"amd.com/gpu\","
	                    " \"externalResourceProvider\": true}]}}}}";
	assert_int_equal(permitted(&m, lower, "amd.com/gpu", msg, sizeof(msg)), AV_CHECK_PASS);

	/* another resource name than the one advertised */
	assert_int_equal(permitted(&m, good, "amd.com/gpu_vf", msg, sizeof(msg)), AV_CHECK_FAIL);
	assert_non_null(strstr(msg, "1002:74B5: an entry under another resourceName"));

	const char *no_ext = "{\"spec\": {\"configuration\": {"
	                     "\"developerConfiguration\": {\"featureGates\": [\"HostDevices\"]},"
	                     "\"permittedHostDevices\": {\"pciHostDevices\": ["
	                     "{\"pciVendorSelector\": \"1002:74B5\", \"resourceName\": \"amd.com/gpu\"}]}}}}";
	assert_int_equal(permitted(&m, no_ext, "amd.com/gpu", msg, sizeof(msg)), AV_CHECK_FAIL);
	assert_non_null(strstr(msg, "without externalResourceProvider: true"));

	const char *no_gate = "{\"spec\": {\"configuration\": {"
	                      "\"permittedHostDevices\": {\"pciHostDevices\": ["
	                      "{\"pciVendorSelector\": \"1002:74B5\", \"resourceName\": \"amd.com/gpu\","
	                      " \"externalResourceProvider\": true}]}}}}";
	assert_int_equal(permitted(&m, no_gate, "amd.com/gpu", msg, sizeof(msg)), AV_CHECK_FAIL);
	assert_non_null(strstr(msg, "HostDevices feature gate"));

	const char *other = "{\"spec\": {\"configuration\": {"
	                    "\"developerConfiguration\": {\"featureGates\": [\"HostDevices\"]},"
	                    "\"permittedHostDevices\": {\"pciHostDevices\": ["
	                    "{\"pciVendorSelector\": \"1002:7410\", \"resourceName\": \"amd.com/gpu\","
	                    " \"externalResourceProvider\": true}]}}}}";
	assert_int_equal(permitted(&m, other, "amd.com/gpu", msg, sizeof(msg)), AV_CHECK_FAIL);
	assert_non_null(strstr(msg, "1002:74B5: no pciHostDevices entry"));

	assert_int_equal(permitted(&m, "{}", "amd.com/gpu", msg, sizeof(msg)), AV_CHECK_FAIL);
	assert_int_equal(permitted(&m, NULL, "amd.com/gpu", msg, sizeof(msg)), AV_CHECK_SKIP);
	assert_string_equal(msg, "KubeVirt CR not found");

	/* container mode passes nothing to VMs */
	m.mode = AV_MODE_CONTAINER;
	assert_int_equal(permitted(&m, good, "amd.com/gpu", msg, sizeof(msg)), AV_CHECK_SKIP);
	av_model_free(&m);
}

static void test_registered_and_node(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources r;
	struct av_pr_answer pr = { 0 };
	struct av_labels labels = { 0 };
	struct av_check_report rep = { 0 };
	vf_host(&m);
	assert_int_equal(av_resources_compute(&m, AV_NAMING_SINGLE, &r), 0);
	assert_int_equal(r.n_devices, 2);

	/* kubelet lists 11 and 99, not 21 */
	struct av_pr_entry *e = av_pr_add(&pr.allocatable, &pr.n_allocatable, NULL, NULL, NULL, "amd.com/gpu");
	av_pr_add_id(e, "11");
	av_pr_add_id(e, "99");
	pr.have_allocatable = true;
	assert_int_equal(av_holders_build(&m, &r, &pr, AV_KUBELET_OK, NULL, NULL), 0);

	struct av_cluster_facts f = { .api = true, .node = "node1" };
	f.node_obj = cJSON_Parse("{\"metadata\": {\"labels\": {}}, \"status\": {\"allocatable\": {\"amd.com/gpu\": \"2\"}}}");
	f.kubevirt_why = strdup("no API access configured");
	assert_int_equal(av_cluster_checks_run(&m, &r, &labels, &f, &rep), 0);
	assert_int_equal(rep.n_results, 4);
	const struct av_check_result *res = one(&rep, "cluster.registered");
	assert_int_equal(res->status, AV_CHECK_FAIL);
	assert_non_null(strstr(res->message, "not listed by kubelet: 21; not advertised here: 99"));
	assert_int_equal(one(&rep, "cluster.node-allocatable")->status, AV_CHECK_PASS);
	assert_int_equal(one(&rep, "cluster.labels")->status, AV_CHECK_PASS);
	assert_int_equal(one(&rep, "cluster.kubevirt-permitted")->status, AV_CHECK_SKIP);
	assert_int_equal(rep.worst, AV_CHECK_FAIL);
	av_check_report_clear(&rep);
	cJSON_Delete(f.node_obj);

	/* without API access the same difference is a WARN: check's exit
	 * status stays what it is on a host being provisioned */
	f.api = false;
	f.node_obj = NULL;
	assert_int_equal(av_cluster_checks_run(&m, &r, &labels, &f, &rep), 0);
	assert_int_equal(one(&rep, "cluster.registered")->status, AV_CHECK_WARN);
	assert_int_equal(one(&rep, "cluster.labels")->status, AV_CHECK_SKIP);
	assert_int_equal(rep.worst, AV_CHECK_WARN);
	av_check_report_clear(&rep);
	f.api = true;

	/* the Node without the resource, kubelet absent */
	av_holders_build(&m, &r, NULL, AV_KUBELET_ABSENT, "absent", NULL);
	f.node_obj = cJSON_Parse("{\"status\": {}}");
	assert_int_equal(av_cluster_checks_run(&m, &r, &labels, &f, &rep), 0);
	assert_int_equal(one(&rep, "cluster.registered")->status, AV_CHECK_SKIP);
	res = one(&rep, "cluster.node-allocatable");
	assert_int_equal(res->status, AV_CHECK_FAIL);
	assert_non_null(strstr(res->message, "has no amd.com/gpu in status.allocatable; 2 healthy devices"));
	av_check_report_clear(&rep);
	cJSON_Delete(f.node_obj);
	free(f.kubevirt_why);

	av_pr_answer_clear(&pr);
	av_resources_clear(&r);
	av_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubevirt_permitted),
		cmocka_unit_test(test_registered_and_node),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
