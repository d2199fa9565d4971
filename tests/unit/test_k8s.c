/* The API client's pure parts: kubeconfig, base64, backoff. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/client.h"
#include "k8s/conf.h"
#include "k8s/names.h"
#include "k8s/node.h"

static int load(const char *text, struct av_k8s_conf *c, char **cause)
{
	*cause = NULL;
	return av_k8s_conf_kubeconfig_text(text, strlen(text), "/etc/kube", "kubeconfig test", c, cause);
}

static const char two_contexts[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: prod\n"
	"clusters:\n"
	"- name: dev\n"
	"  cluster:\n"
	"    server: https://dev.example:6443\n"
	"- name: prod\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443/\n"
	"    certificate-authority-data: aGVsbG8gQ0E=\n"
	"contexts:\n"
	"- name: dev\n"
	"  context: {cluster: dev, user: dev}\n"
	"- name: prod\n"
	"  context:\n"
	"    cluster: prod\n"
	"    user: admin\n"
	"users:\n"
	"- name: dev\n"
	"  user:\n"
	"    token: devtoken\n"
	"- name: admin\n"
	"  user:\n"
	"    client-certificate-data: Y2VydA==\n"
	"    client-key: keys/admin.key\n";

static void test_current_context(void **state)
{
	struct av_k8s_conf c;
	char *cause;
	assert_int_equal(load(two_contexts, &c, &cause), 0);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_string_equal(c.ca.data, "hello CA");
	assert_int_equal(c.ca.len, 8);
	assert_string_equal(c.cert.data, "cert");
	assert_null(c.cert_file);
	assert_string_equal(c.key_file, "/etc/kube/keys/admin.key");
	assert_null(c.token);
	assert_null(c.token_file);
	assert_non_null(strstr(c.origin, "prod"));
	av_k8s_conf_clear(&c);
}

static void test_token_and_ca_file(void **state)
{
	struct av_k8s_conf c;
	char *cause;
	const char *text =
		"current-context: x\n"
		"clusters: [{name: c, cluster: {server: 'https://h:1', certificate-authority: /pki/ca.crt}}]\n"
		"contexts: [{name: x, context: {cluster: c, user: u}}]\n"
		"users: [{name: u, user: {tokenFile: tok}}]\n";
	assert_int_equal(load(text, &c, &cause), 0);
	assert_string_equal(c.ca_file, "/pki/ca.crt");
	assert_null(c.ca.data);
	assert_string_equal(c.token_file, "/etc/kube/tok");
	assert_null(c.token_host);
	av_k8s_conf_clear(&c);
}

static void expect_refused(const char *text, const char *words)
{
	struct av_k8s_conf c;
	char *cause;
	assert_true(load(text, &c, &cause) < 0);
	assert_non_null(cause);
	if (!strstr(cause, words))
		fail_msg("cause \"%s\" lacks \"%s\"", cause, words);
	free(cause);
	assert_null(c.server);
}

static void test_refusals(void **state)
{
	expect_refused("clusters: []\n", "current-context");
	expect_refused("current-context: x\n", "no context named \"x\"");
	expect_refused("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n",
	               "no cluster named \"c\"");
	expect_refused("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
	               "clusters: [{name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: true}}]\n",
	               "insecure-skip-tls-verify");
	expect_refused("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
	               "clusters: [{name: c, cluster: {server: 'http://h'}}]\n", "not https");
	expect_refused("current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
	               "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
	               "users: [{name: u, user: {exec: {command: aws}}}]\n", "exec");
	expect_refused("current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
	               "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
	               "users: [{name: u, user: {client-certificate: a.crt}}]\n", "without its key");
	expect_refused("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
	               "clusters: [{name: c, cluster: {server: 'https://h', certificate-authority-data: '%%%'}}]\n",
	               "base64");
	expect_refused("a: [b\n", "line");
	expect_refused("- a\n", "not a kubeconfig");
}

static void test_base64(void **state)
{
	struct av_blob b;
	assert_int_equal(av_base64_decode("aGVsbG8=", &b), 0);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "hello", 5);
	free(b.data);
	assert_int_equal(av_base64_decode("aGVs\nbG8", &b), 0);
	assert_string_equal(b.data, "hello");
	free(b.data);
	assert_int_equal(av_base64_decode("", &b), 0);
	assert_int_equal(b.len, 0);
	free(b.data);
	assert_int_equal(av_base64_decode("aGV=sbG8", &b), -EINVAL);
	assert_int_equal(av_base64_decode("a*b", &b), -EINVAL);
}

static void test_backoff(void **state)
{
	struct av_k8s_retry r = { .max_attempts = 6, .base_ms = 200, .cap_ms = 1000,
	                          .retry_after_cap_ms = 5000, .timeout_ms = 1000 };
	unsigned int seed = 1;
	for (int i = 0; i < 100; i++) {
		long d0 = av_k8s_backoff_ms(&r, 0, -1, &seed);
		long d2 = av_k8s_backoff_ms(&r, 2, -1, &seed);
		long d9 = av_k8s_backoff_ms(&r, 9, -1, &seed);
		assert_in_range(d0, 100, 200);
		assert_in_range(d2, 400, 800);
		assert_in_range(d9, 500, 1000);
	}
	assert_int_equal(av_k8s_backoff_ms(&r, 0, 2, &seed), 2000);
	assert_int_equal(av_k8s_backoff_ms(&r, 0, 0, &seed), 0);
	assert_int_equal(av_k8s_backoff_ms(&r, 3, 3600, &seed), 5000);

	assert_true(av_k8s_retryable(0));
	assert_true(av_k8s_retryable(429));
	assert_true(av_k8s_retryable(500));
	assert_true(av_k8s_retryable(503));
	assert_false(av_k8s_retryable(200));
	assert_false(av_k8s_retryable(401));
	assert_false(av_k8s_retryable(403));
	assert_false(av_k8s_retryable(404));
	assert_false(av_k8s_retryable(409));
}

/* Every YAML 1.1 spelling of true asks to skip verification; false ones
 * and null do not; anything else is not taken for false. */
static void test_insecure_spellings(void **state)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On",
	                                   "ON", "y", "Y" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "off", "n", "~", "null" };
	char text[512];
	struct av_k8s_conf c;
	char *cause;
	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text), "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
		         "clusters: [{name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: %s}}]\n",
		         yes[i]);
		expect_refused(text, "sets insecure-skip-tls-verify");
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(text, sizeof(text), "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
		         "clusters: [{name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: %s}}]\n",
		         no[i]);
		assert_int_equal(load(text, &c, &cause), 0);
		av_k8s_conf_clear(&c);
	}
	expect_refused("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
	               "clusters: [{name: c, cluster: {server: 'https://h', insecure-skip-tls-verify: maybe}}]\n",
	               "'maybe' is not a boolean");
}

static void test_timeout_env(void **state)
{
	static const char *const bad[] = { "abc", "0", "-1", "3600", "5s", "nan", "inf", "0.0001" };
	long ms;
	char *cause = NULL;
	(void)state;
	unsetenv("AMDVIRT_API_TIMEOUT");
	assert_int_equal(av_k8s_timeout_env(&ms, &cause), 0);
	assert_int_equal(ms, 30000);
	setenv("AMDVIRT_API_TIMEOUT", "2.5", 1);
	assert_int_equal(av_k8s_timeout_env(&ms, &cause), 0);
	assert_int_equal(ms, 2500);
	assert_int_equal(av_k8s_retry_defaults().timeout_ms, 2500);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("AMDVIRT_API_TIMEOUT", bad[i], 1);
		assert_int_equal(av_k8s_timeout_env(&ms, &cause), -EINVAL);
		assert_non_null(strstr(cause, "AMDVIRT_API_TIMEOUT"));
		assert_non_null(strstr(cause, bad[i]));
		assert_int_equal(ms, 30000);
		free(cause);
		cause = NULL;
	}
	unsetenv("AMDVIRT_API_TIMEOUT");
}

static void test_names(void **state)
{
	static const char *const good[] = { "node1", "gpu-node-01.example.com", "a", "0", "a-b.c-d" };
	static const char *const bad[] = { "", "../namespaces/kube-system/configmaps/coredns", "..", ".",
	                                   "Node1", "node_1", "-a", "a-", "a..b", ".a", "a.", "a/b",
	                                   "a%2Fb", "a?b", "a b", "n\x1b[31m" };
	char longest[254], label64[65];
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(av_k8s_subdomain_ok(good[i], strlen(good[i])));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (av_k8s_subdomain_ok(bad[i], strlen(bad[i])))
			fail_msg("'%s' taken for a name", bad[i]);
	/* 253 characters in labels of 63 at most; then one more. */
	memset(longest, 'a', 253);
	for (int i = 63; i < 253; i += 64)
		longest[i] = '.';
	longest[253] = '\0';
	assert_true(av_k8s_subdomain_ok(longest, 253));
	longest[252] = '.';
	assert_false(av_k8s_subdomain_ok(longest, 253));
	memset(label64, 'a', 64);
	label64[64] = '\0';
	assert_false(av_k8s_subdomain_ok(label64, 64));
	assert_true(av_k8s_subdomain_ok(label64, 63));
	assert_false(av_k8s_label_ok("kube.system", 11));
	assert_true(av_k8s_label_ok("kube-amd-gpu", 12));
}

static void test_node_name_check(void **state)
{
	const char *node;
	char *cause = NULL;
	(void)state;
	unsetenv("NODE_NAME");
	assert_int_equal(av_k8s_node_name_check(NULL, &node, &cause), 0);
	assert_null(node);
	assert_int_equal(av_k8s_node_name_check("node1", &node, &cause), 0);
	assert_string_equal(node, "node1");
	assert_int_equal(av_k8s_node_name_check("../namespaces/kube-system/configmaps/coredns", &node, &cause),
	                 -EINVAL);
	assert_null(node);
	assert_non_null(strstr(cause, "--node-name '../namespaces/kube-system/configmaps/coredns'"));
	free(cause);
	cause = NULL;
	setenv("NODE_NAME", "bad\x1b[2K/..", 1);
	assert_int_equal(av_k8s_node_name_check(NULL, &node, &cause), -EINVAL);
	assert_non_null(strstr(cause, "NODE_NAME 'bad\\x1b[2K/..'"));
	free(cause);
	cause = NULL;
	/* The flag wins, and is what is judged. */
	assert_int_equal(av_k8s_node_name_check("node2", &node, &cause), 0);
	assert_string_equal(node, "node2");
	unsetenv("NODE_NAME");

	assert_int_equal(av_k8s_deviceconfig_ref_check("kube-amd-gpu/test-deviceconfig", &cause), 0);
	static const char *const refs[] = { "bad", "../x", "ns/..", "ns/../../nodes/n1", "a.b/c", "ns/", "/n",
	                                    "ns/a/b" };
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		assert_int_equal(av_k8s_deviceconfig_ref_check(refs[i], &cause), -EINVAL);
		assert_non_null(strstr(cause, "--deviceconfig"));
		free(cause);
		cause = NULL;
	}
}

/* The client itself refuses a path built from a bad name: nothing is sent
 * (no client is needed to get that answer). */
static void test_apply_refuses_bad_node(void **state)
{
	struct av_apply_result res;
	struct av_labels labels = { 0 };
	char *cause = NULL;
	(void)state;
	assert_int_equal(av_k8s_apply_labels(NULL, "../namespaces/kube-system/configmaps/coredns", &labels,
	                                     NULL, &res, &cause), -EINVAL);
	assert_non_null(strstr(cause, "not a node name"));
	free(cause);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_context),
		cmocka_unit_test(test_token_and_ca_file),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_insecure_spellings),
		cmocka_unit_test(test_timeout_env),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_node_name_check),
		cmocka_unit_test(test_apply_refuses_bad_node),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
