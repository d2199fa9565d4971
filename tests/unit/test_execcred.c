/* Exec credential plugins: the kubeconfig's exec section, the
 * ExecCredential a plugin prints, RFC 3339 times, KUBERNETES_EXEC_INFO. */
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

#include <cjson/cJSON.h>

#include "k8s/conf.h"
#include "k8s/execcred.h"

#define HEAD \
	"current-context: x\n" \
	"contexts: [{name: x, context: {cluster: c, user: u}}]\n" \
	"clusters: [{name: c, cluster: {server: 'https://h:6443', certificate-authority-data: aGVsbG8gQ0E=}}]\n" \
	"users:\n" \
	"- name: u\n" \
	"  user:\n"

static int load(const char *text, struct av_k8s_conf *c, char **cause)
{
	*cause = NULL;
	return av_k8s_conf_kubeconfig_text(text, strlen(text), "/home/jane/.kube", "kubeconfig test", c, cause);
}

static void test_exec_section(void **state)
{
	struct av_k8s_conf c;
	char *cause;
	assert_int_equal(load(HEAD
	                      "    exec:\n"
	                      "      apiVersion: client.authentication.k8s.io/v1\n"
	                      "      command: ./bin/login\n"
	                      "      args: [get-token, --server-id, abc]\n"
	                      "      env: [{name: A, value: '1'}, {name: EMPTY}]\n"
	                      "      interactiveMode: Never\n"
	                      "      provideClusterInfo: yes\n"
	                      "      installHint: get login\n", &c, &cause), 0);
	assert_non_null(c.exec);
	assert_string_equal(c.exec->command, "/home/jane/.kube/bin/login");
	assert_int_equal(c.exec->n_args, 3);
	assert_string_equal(c.exec->args[2], "abc");
	assert_int_equal(c.exec->n_env, 2);
	assert_string_equal(c.exec->env[0], "A=1");
	assert_string_equal(c.exec->env[1], "EMPTY=");
	assert_int_equal(c.exec->interactive, AV_EXEC_NEVER);
	assert_true(c.exec->provide_cluster_info);
	assert_string_equal(c.exec->install_hint, "get login");
	assert_string_equal(c.exec->user, "u");
	assert_null(c.token);

	/* KUBERNETES_EXEC_INFO with the cluster */
	char *info = av_exec_info(&c);
	cJSON *got = cJSON_Parse(info), *want = cJSON_Parse(
		"{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\","
		" \"spec\": {\"interactive\": false, \"cluster\": {\"server\": \"https://h:6443\","
		" \"certificate-authority-data\": \"aGVsbG8gQ0E=\"}}}");
	assert_true(cJSON_Compare(got, want, 1));
	cJSON_Delete(got);
	cJSON_Delete(want);
	free(info);
	av_k8s_conf_clear(&c);

	/* v1beta1 defaults to IfAvailable; a bare name stays one for PATH. */
	assert_int_equal(load(HEAD "    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin}\n",
	                      &c, &cause), 0);
	assert_string_equal(c.exec->command, "kubelogin");
	assert_int_equal(c.exec->interactive, AV_EXEC_IF_AVAILABLE);
	info = av_exec_info(&c);
	assert_string_equal(info, "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
	                    "\"spec\":{\"interactive\":false}}");
	free(info);
	av_k8s_conf_clear(&c);
}

static void expect_refused(const char *user, const char *words)
{
	struct av_k8s_conf c;
	char *cause;
	char text[2048];
	snprintf(text, sizeof(text), HEAD "%s", user);
	assert_true(load(text, &c, &cause) < 0);
	assert_non_null(cause);
	if (!strstr(cause, words))
		fail_msg("cause \"%s\" lacks \"%s\"", cause, words);
	free(cause);
	assert_null(c.exec);
	assert_null(c.server);
}

static void test_exec_refused(void **state)
{
	expect_refused("    exec: {command: aws}\n", "exec has no apiVersion");
	expect_refused("    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: a}\n",
	               "v1alpha1 is not supported");
	expect_refused("    exec: {apiVersion: client.authentication.k8s.io/v1, command: a}\n",
	               "interactiveMode must be given");
	expect_refused("    exec: {apiVersion: client.authentication.k8s.io/v1, command: a, interactiveMode: Always}\n",
	               "interactiveMode Always");
	expect_refused("    exec: {apiVersion: client.authentication.k8s.io/v1, command: a, interactiveMode: Sometimes}\n",
	               "'Sometimes' is not Never");
	expect_refused("    exec: {apiVersion: client.authentication.k8s.io/v1beta1}\n", "exec has no command");
	expect_refused("    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: a, env: [{value: x}]}\n",
	               "no valid name");
	expect_refused("    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: a, args: x}\n",
	               "args is not a list");
	expect_refused("    token: t\n    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: a}\n",
	               "both a token and an exec plugin");
	expect_refused("    auth-provider: {name: gcp}\n", "auth-provider");
}

/* The cluster's exec extension is free-form: an alias in it is refused, as
 * in a DeviceConfig, rather than expanded (nine levels of nine aliases
 * each would be 387 million nodes). */
static void test_exec_extension_alias(void **state)
{
	static const char *const clusters[] = {
		"clusters: [{name: c, cluster: {server: 'https://h:6443', extensions: [{name: client.authentication.k8s.io/exec,"
		" extension: {a: &x [1, 2], b: *x}}]}}]\n",
		"clusters: [{name: c, cluster: {server: 'https://h:6443', extensions: [{name: client.authentication.k8s.io/exec,"
		" extension: {a: &a [x, x], b: &b [*a, *a], c: &c [*b, *b], d: [*c, *c]}}]}}]\n",
	};
	for (size_t i = 0; i < sizeof(clusters) / sizeof(clusters[0]); i++) {
		struct av_k8s_conf c;
		char *cause, text[1024];
		snprintf(text, sizeof(text), "current-context: x\n"
		         "contexts: [{name: x, context: {cluster: c, user: u}}]\n%s"
		         "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1,"
		         " command: a, provideClusterInfo: true}}}]\n", clusters[i]);
		assert_int_equal(load(text, &c, &cause), -EINVAL);
		assert_non_null(cause);
		if (!strstr(cause, "extension client.authentication.k8s.io/exec is not an object amdvirt can read"))
			fail_msg("cause \"%s\"", cause);
		free(cause);
		assert_null(c.exec_cluster_config);
	}
	/* The same shape written out is read, typed as kubectl types it. */
	struct av_k8s_conf c;
	char *cause;
	assert_int_equal(load("current-context: x\n"
	                      "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
	                      "clusters: [{name: c, cluster: {server: 'https://h:6443', extensions: [{name: "
	                      "client.authentication.k8s.io/exec, extension: {a: [1, 2], b: [1, '2']}}]}}]\n"
	                      "users: [{name: u, user: {token: t}}]\n", &c, &cause), 0);
	assert_string_equal(c.exec_cluster_config, "{\"a\":[1,2],\"b\":[1,\"2\"]}");
	av_k8s_conf_clear(&c);
}

static void test_rfc3339(void **state)
{
	time_t t;
	assert_int_equal(av_rfc3339_parse("2026-12-07T08:00:00Z", &t), 0);
	assert_int_equal(t, 1796630400);
	assert_int_equal(av_rfc3339_parse("2026-12-07T09:30:00.123456+01:30", &t), 0);
	assert_int_equal(t, 1796630400);
	assert_int_equal(av_rfc3339_parse("2026-12-07t03:00:00-05:00", &t), 0);
	assert_int_equal(t, 1796630400);
	const char *bad[] = { "", "2026-12-07", "2026-12-07T08:00:00", "2026-13-07T08:00:00Z",
	                      "2026-12-07T08:00:00.Z", "2026-12-07T08:00:00+0100", "2026-12-07T08:00:00Zjunk",
	                      "tomorrow" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (av_rfc3339_parse(bad[i], &t) != -EINVAL)
			fail_msg("'%s' taken as a time", bad[i]);
}

static void test_parse_credential(void **state)
{
	struct av_exec_cred cr;
	char *why = NULL;
	const char *v1 = "client.authentication.k8s.io/v1";
	assert_int_equal(av_exec_parse("{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\","
	                               " \"status\": {\"token\": \"abc\", \"expirationTimestamp\": \"2026-12-07T08:00:00Z\"}}",
	                               v1, &cr, &why), 0);
	assert_string_equal(cr.token, "abc");
	assert_true(cr.expires);
	assert_true(av_exec_cred_fresh(&cr, 1796630399));
	assert_false(av_exec_cred_fresh(&cr, 1796630400));
	av_exec_cred_clear(&cr);

	/* No expiry: good until the server refuses it. */
	assert_int_equal(av_exec_parse("{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\","
	                               " \"status\": {\"clientCertificateData\": \"C\", \"clientKeyData\": \"K\"}}",
	                               v1, &cr, &why), 0);
	assert_null(cr.token);
	assert_string_equal(cr.cert.data, "C");
	assert_string_equal(cr.key.data, "K");
	assert_true(av_exec_cred_fresh(&cr, 4000000000));
	av_exec_cred_clear(&cr);

	struct { const char *text, *why; } bad[] = {
		{ "not json", "not a JSON object" },
		{ "{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"Status\"}", "not an ExecCredential" },
		{ "{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\", \"kind\": \"ExecCredential\", \"status\": {\"token\": \"a\"}}",
		  "answered apiVersion client.authentication.k8s.io/v1beta1" },
		{ "{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\"}", "no status" },
		{ "{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {}}",
		  "neither a token nor" },
		{ "{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {\"clientKeyData\": \"K\"}}",
		  "without its" },
		{ "{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {\"token\": \"a\","
		  " \"expirationTimestamp\": \"soon\"}}", "not an RFC 3339 time" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(av_exec_parse(bad[i].text, v1, &cr, &why), -EINVAL);
		assert_non_null(why);
		if (!strstr(why, bad[i].why))
			fail_msg("'%s': \"%s\" lacks \"%s\"", bad[i].text, why, bad[i].why);
		free(why);
		assert_null(cr.token);
		assert_null(cr.cert.data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_section),
		cmocka_unit_test(test_exec_refused),
		cmocka_unit_test(test_exec_extension_alias),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_parse_credential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
