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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_context),
		cmocka_unit_test(test_token_and_ca_file),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_backoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
