/* Who holds each device: VM names from virt-launcher pod names, pod UIDs
 * from cgroup paths, kubelet's replies decoded, and the pure matching of
 * kubelet's answer and the /dev/vfio holders onto the model. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>
#include <sys/stat.h>

#include "checks/checks.h"
#include "cluster/kubelet.h"
#include "cluster/podresources.h"
#include "cluster/podresources.pb-c.h"
#include "host/holders.h"
#include "host/model.h"
#include "host/resources.h"
#include "model_fixture.h"

static const char *vm(const char *pod)
{
	static char buf[80];
	return av_virt_launcher_vm(pod, buf, sizeof(buf)) ? buf : NULL;
}

static void test_vm_names(void **state)
{
	(void)state;
	assert_string_equal(vm("virt-launcher-my-vm-x7k2p"), "my-vm");
	assert_string_equal(vm("virt-launcher-a-bcdfg"), "a");
	assert_string_equal(vm("virt-launcher-db-replica-2-wq9zt"), "db-replica-2");
	/* vowels, capitals and 0/1/3 never come out of generateName */
	assert_null(vm("virt-launcher-my-vm-abcde"));
	assert_null(vm("virt-launcher-my-vm-x7k2P"));
	assert_null(vm("virt-launcher-my-vm-x7k21"));
	assert_null(vm("virt-launcher-my-vm-x7k2"));
	assert_null(vm("virt-launcher--bcdfg"));
	assert_null(vm("virt-launcher-bcdfg"));
	assert_null(vm("nginx-7d9f8c-bcdfg"));
	assert_null(vm(NULL));
	/* 63 characters: a base cut to 58 lost its dash (a 44+ character VM) */
	const char *cut = "virt-launcher-a-very-long-virtual-machine-name-for-testingbcdfg";
	assert_int_equal(strlen(cut), 63);
	assert_string_equal(vm(cut), "a-very-long-virtual-machine-name-for-testing");
	/* ... or kept it (a VM of exactly 43) */
	const char *kept = "virt-launcher-a-very-long-virtual-machine-name-for-testin-bcdfg";
	assert_int_equal(strlen(kept), 63);
	assert_string_equal(vm(kept), "a-very-long-virtual-machine-name-for-testin");
	/* shorter names without the dash are not generateName's */
	assert_null(vm("virt-launcher-my-vmbcdfg"));
}

static const char *uid(const char *text)
{
	static char buf[40];
	return av_cgroup_pod_uid(text, buf, sizeof(buf)) ? buf : NULL;
}

static void test_cgroup_uid(void **state)
{
	(void)state;
	/* cgroup v2, systemd driver */
	assert_string_equal(uid("0::/kubepods.slice/kubepods-burstable.slice/"
	                        "kubepods-burstable-pod6f1c9b7e_3c2d_4a5b_9e8f_0a1b2c3d4e5f.slice/"
	                        "cri-containerd-0123abcd.scope\n"),
	                    "6f1c9b7e-3c2d-4a5b-9e8f-0a1b2c3d4e5f");
	/* guaranteed QoS has no qos slice */
	assert_string_equal(uid("0::/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice/x\n"),
	                    "11111111-2222-3333-4444-555555555555");
	/* cgroup v1, cgroupfs driver, several hierarchies */
	assert_string_equal(uid("12:pids:/\n11:devices:/kubepods/besteffort/"
	                        "pod0a1b2c3d-0000-1111-2222-333344445555/abcdef\n"),
	                    "0a1b2c3d-0000-1111-2222-333344445555");
	/* a static pod's UID is a hash without dashes */
	assert_string_equal(uid("0::/kubepods/burstable/pod0123456789abcdef0123456789abcdef/c\n"),
	                    "0123456789abcdef0123456789abcdef");
	/* not a pod: a VM started by hand, a systemd service */
	assert_null(uid("0::/machine.slice/machine-qemu\\x2d1\\x2dvm.scope/libvirt/emulator\n"));
	assert_null(uid("0::/system.slice/podman.service\n"));
	assert_null(uid("0::/user.slice/pod1234.slice\n"));
	assert_null(uid(""));
	assert_null(uid("garbage without colons"));
}

static void test_decode(void **state)
{
	(void)state;
	V1__ContainerDevices dev = V1__CONTAINER_DEVICES__INIT;
	char id12[] = "12", id13[] = "13", res[] = "amd.com/gpu", cname[] = "compute";
	char pname[] = "virt-launcher-vm1-bcdfg", ns[] = "vms";
	char *ids[] = { id12, id13 };
	dev.resource_name = res;
	dev.device_ids = ids;
	dev.n_device_ids = 2;
	V1__ContainerDevices *devs[] = { &dev };
	V1__ContainerResources c = V1__CONTAINER_RESOURCES__INIT;
	c.name = cname;
	c.devices = devs;
	c.n_devices = 1;
	V1__ContainerResources *cs[] = { &c };
	V1__PodResources pod = V1__POD_RESOURCES__INIT;
	pod.name = pname;
	pod.namespace_ = ns;
	pod.containers = cs;
	pod.n_containers = 1;
	V1__PodResources *pods[] = { &pod };
	V1__ListPodResourcesResponse resp = V1__LIST_POD_RESOURCES_RESPONSE__INIT;
	resp.pod_resources = pods;
	resp.n_pod_resources = 1;
	uint8_t buf[512];
	size_t len = v1__list_pod_resources_response__pack(&resp, buf);

	/* the field numbers of kubelet's api.proto, byte by byte: pod_resources
	 * = 1, PodResources.name = 1, namespace = 2, containers = 3 */
	assert_int_equal(buf[0], (1 << 3) | 2);
	assert_int_equal(buf[2], (1 << 3) | 2);
	assert_memory_equal(buf + 4, "virt-launcher-vm1-bcdfg", 23);
	assert_int_equal(buf[4 + 23], (2 << 3) | 2);
	assert_int_equal(buf[4 + 23 + 2 + 3], (3 << 3) | 2);

	struct av_pr_answer a = { 0 };
	assert_int_equal(av_podresources_decode_list(buf, len, &a), 0);
	assert_int_equal(a.n_assigned, 1);
	assert_string_equal(a.assigned[0].ns, "vms");
	assert_string_equal(a.assigned[0].pod, "virt-launcher-vm1-bcdfg");
	assert_string_equal(a.assigned[0].container, "compute");
	assert_string_equal(a.assigned[0].resource, "amd.com/gpu");
	assert_int_equal(a.assigned[0].n_ids, 2);
	assert_string_equal(a.assigned[0].ids[1], "13");

	V1__AllocatableResourcesResponse al = V1__ALLOCATABLE_RESOURCES_RESPONSE__INIT;
	al.devices = devs;
	al.n_devices = 1;
	len = v1__allocatable_resources_response__pack(&al, buf);
	assert_int_equal(av_podresources_decode_allocatable(buf, len, &a), 0);
	assert_true(a.have_allocatable);
	assert_int_equal(a.n_allocatable, 1);
	assert_null(a.allocatable[0].pod);
	av_pr_answer_clear(&a);

	static const uint8_t garbage[] = { 0x0a, 0x7f, 0x01 };
	assert_int_equal(av_podresources_decode_list(garbage, sizeof(garbage), &a), -EBADMSG);
	av_pr_answer_clear(&a);
}

/* Three devices 12, 13, 14 (one function each), as the plugin advertises. */
static void fixture(struct av_model *m, struct av_resources *r)
{
	static int f0 = 0, f1 = 1, f2 = 2;
	static struct av_plugin_device devs[3] = {
		{ .id = "12", .group = 12, .funcs = &f0, .n_funcs = 1, .healthy = true, .hive = -1 },
		{ .id = "13", .group = 13, .funcs = &f1, .n_funcs = 1, .healthy = true, .hive = -1 },
		{ .id = "14", .group = 14, .funcs = &f2, .n_funcs = 1, .healthy = true, .hive = -1 },
	};
	memset(m, 0, sizeof(*m));
	memset(r, 0, sizeof(*r));
	snprintf(r->resource, sizeof(r->resource), "amd.com/gpu");
	r->devices = devs;
	r->n_devices = 3;
	r->n_healthy = 3;
}

static void answer(struct av_pr_answer *a)
{
	struct av_pr_entry *e;
	memset(a, 0, sizeof(*a));
	e = av_pr_add(&a->assigned, &a->n_assigned, "vms", "virt-launcher-db-1-x7k2p", "compute", "amd.com/gpu");
	av_pr_add_id(e, "12");
	e = av_pr_add(&a->assigned, &a->n_assigned, "ml", "trainer", "main", "amd.com/gpu");
	av_pr_add_id(e, "13");
	av_pr_add_id(e, "99");
	/* another resource with the same ID is someone else's */
	e = av_pr_add(&a->assigned, &a->n_assigned, "x", "nic-pod", "c", "vendor.com/nic");
	av_pr_add_id(e, "14");
	e = av_pr_add(&a->allocatable, &a->n_allocatable, NULL, NULL, NULL, "amd.com/gpu");
	av_pr_add_id(e, "12");
	av_pr_add_id(e, "13");
	av_pr_add_id(e, "99");
	a->have_allocatable = true;
}

static void test_build(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources r;
	struct av_pr_answer a;
	struct av_vfio_users u = { 0 };
	struct av_vfio_user users[] = {
		{ .pid = 4242, .group = 12, .pod_uid = "6f1c9b7e-3c2d-4a5b-9e8f-0a1b2c3d4e5f" },
		{ .pid = 4243, .group = 12, .pod_uid = "" },
		{ .pid = 777, .group = 14, .pod_uid = "" },
		{ .pid = 888, .group = 50, .pod_uid = "" },
	};
	u.v = users;
	u.n = 4;
	fixture(&m, &r);
	answer(&a);
	assert_int_equal(av_holders_build(&m, &r, &a, AV_KUBELET_OK, NULL, &u), 0);
	assert_int_equal(m.kubelet.state, AV_KUBELET_OK);
	assert_true(m.holders_known);

	const struct av_holder *h = av_model_device_holder(&m, "12");
	assert_non_null(h);
	assert_string_equal(h->ns, "vms");
	assert_string_equal(h->pod, "virt-launcher-db-1-x7k2p");
	assert_string_equal(h->container, "compute");
	assert_string_equal(h->vm, "db-1");
	assert_string_equal(h->pod_uid, "6f1c9b7e-3c2d-4a5b-9e8f-0a1b2c3d4e5f");
	assert_int_equal(h->n_pids, 2);
	assert_int_equal(h->pids[0], 4242);
	assert_ptr_equal(av_model_func_holder(&m, 0), h);

	h = av_model_device_holder(&m, "13");
	assert_non_null(h);
	assert_string_equal(h->pod, "trainer");
	assert_null(h->vm);
	assert_int_equal(h->n_pids, 0);
	char who[128];
	av_holder_describe(h, who, sizeof(who));
	assert_string_equal(who, "pod ml/trainer");

	/* 14: kubelet gave it to nobody (the nic pod's 14 is another
	 * resource), yet a process holds its group */
	h = av_model_device_holder(&m, "14");
	assert_non_null(h);
	assert_null(h->pod);
	assert_int_equal(h->n_pids, 1);
	av_holder_describe(h, who, sizeof(who));
	assert_string_equal(who, "pid 777");

	/* group 50 is not advertised: its process is no holder of ours */
	assert_null(av_model_func_holder(&m, 3));

	/* kubelet's 99 is not ours; our 14 is not kubelet's */
	assert_int_equal(m.kubelet.n_devices, 3);
	assert_int_equal(m.kubelet.n_problems, 3);
	assert_non_null(strstr(m.kubelet.problems[0], "kubelet gives amd.com/gpu 99 to pod ml/trainer; not advertised here"));
	assert_non_null(strstr(m.kubelet.problems[1], "kubelet lists amd.com/gpu 99; not advertised here"));
	assert_non_null(strstr(m.kubelet.problems[2], "amd.com/gpu 14 advertised here; kubelet does not list it"));
	assert_null(av_model_device_holder(&m, "99"));

	av_pr_answer_clear(&a);
	av_model_clear_holders(&m);
}

static void test_build_without_kubelet(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources r;
	fixture(&m, &r);

	/* no socket, no process: nothing is known, so list prints no holder */
	assert_int_equal(av_holders_build(&m, &r, NULL, AV_KUBELET_ABSENT, "absent", NULL), 0);
	assert_false(m.holders_known);
	assert_int_equal(m.n_holders, 0);
	assert_int_equal(m.kubelet.state, AV_KUBELET_ABSENT);

	/* a process alone is enough to know */
	struct av_vfio_user one = { .pid = 9, .group = 13, .pod_uid = "" };
	struct av_vfio_users u = { .v = &one, .n = 1 };
	assert_int_equal(av_holders_build(&m, &r, NULL, AV_KUBELET_ERROR, "refused", &u), 0);
	assert_true(m.holders_known);
	assert_string_equal(m.kubelet.error, "refused");
	assert_non_null(av_model_device_holder(&m, "13"));
	assert_null(av_model_device_holder(&m, "12"));
	assert_int_equal(m.kubelet.n_problems, 0);
	av_model_clear_holders(&m);
}

/* One walk of ROOT/proc per rescan: the checks run on a model whose
 * holders were read take the holders' walk (device.in-use names the pid
 * gone from /proc since), not one of their own. */
static void test_one_proc_walk(void **state)
{
	(void)state;
	struct av_model m;
	struct av_resources r;
	struct av_check_report rep;
	char root[256], path[320];
	char *cause = NULL;

	fixture(&m, &r);
	/* the three VFs are the fixture's devices 12, 13, 14 (functions 0-2) */
	for (int i = 0; i < 3; i++) {
		char bdf[16];
		snprintf(bdf, sizeof(bdf), "0000:05:02.%d", i);
		int vf = fx_add(&m, bdf, AV_VENDOR_AMD, 0x74b5, 0x120000, "vfio-pci", 12 + i, 0);
		m.funcs[vf].selected = true;
	}
	int pf = fx_add(&m, "0000:05:00.0", AV_VENDOR_AMD, 0x74a1, 0x120000, "gim", 11, 0);
	for (int i = 0; i < 3; i++)
		fx_vf(&m, pf, i);
	fx_groups(&m, NULL, 0);
	m.mode = AV_MODE_VF;
	snprintf(root, sizeof(root), "%s/amdvirt-holders-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/proc", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/4242", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/4242/fd", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/proc/4242/fd/7", root);
	assert_int_equal(symlink("/dev/vfio/12", path), 0);
	struct av_host *host = av_host_open(root, NULL);
	assert_non_null(host);

	assert_int_equal(av_cluster_holders(host, &m, &r, false, &cause), 0);
	assert_null(cause);
	assert_int_equal(m.kubelet.state, AV_KUBELET_ABSENT);
	assert_int_equal(av_model_device_holder(&m, "12")->pids[0], 4242);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(av_checks_run(host, NULL, &m, NULL, &rep), 0);
	int in_use = 0;
	for (int i = 0; i < rep.n_results; i++)
		if (strcmp(rep.results[i].id, "device.in-use") == 0 && strcmp(rep.results[i].subject, "0000:05:02.0") == 0) {
			assert_string_equal(rep.results[i].message, "/dev/vfio/12 is open by pid 4242: assigned to a running VM");
			in_use++;
		}
	assert_int_equal(in_use, 1);

	av_check_report_clear(&rep);
	av_host_free(host);
	av_model_free(&m);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_names),
		cmocka_unit_test(test_cgroup_uid),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_without_kubelet),
		cmocka_unit_test(test_one_proc_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
