/* kubeconfig: the current-context's cluster and user, parsed with libyaml's
 * document API (the file is small; a tree is simpler than events). */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <yaml.h>

#include "host/devconfig.h"
#include "k8s/conf.h"
#include "base/util.h"

#define KUBECONFIG_MAX (4 << 20)

struct kc {
	yaml_document_t doc;
	const char *dir;
	const char *origin;
	char **cause;
};

static yaml_node_t *get(struct kc *k, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&k->doc, p->key);
		if (kn && kn->type == YAML_SCALAR_NODE && strcmp((char *)kn->data.scalar.value, key) == 0)
			return yaml_document_get_node(&k->doc, p->value);
	}
	return NULL;
}

static const char *scalar(struct kc *k, yaml_node_t *map, const char *key)
{
	yaml_node_t *n = get(k, map, key);
	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
		return NULL;
	return (const char *)n->data.scalar.value;
}

/* The entry of a named list ("clusters", "users", "contexts") whose name
 * is name, or NULL. */
static yaml_node_t *named(struct kc *k, const char *list, const char *name, const char *field)
{
	yaml_node_t *seq = get(k, yaml_document_get_root_node(&k->doc), list);
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
		yaml_node_t *e = yaml_document_get_node(&k->doc, *i);
		const char *n = scalar(k, e, "name");
		if (n && strcmp(n, name) == 0)
			return get(k, e, field);
	}
	return NULL;
}

static int fail(struct kc *k, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct kc *k, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	av_set_cause(k->cause, "%s: %s", k->origin, msg);
	return err;
}

/* Paths in a kubeconfig are relative to the file's directory. */
static int path_field(struct kc *k, yaml_node_t *map, const char *key, char **out)
{
	const char *v = scalar(k, map, key);
	if (!v)
		return 0;
	*out = v[0] == '/' || !k->dir ? strdup(v) : av_strdup_printf("%s/%s", k->dir, v);
	return *out ? 0 : -ENOMEM;
}

static int data_field(struct kc *k, yaml_node_t *map, const char *key, struct av_blob *out)
{
	const char *v = scalar(k, map, key);
	if (!v)
		return 0;
	int r = av_base64_decode(v, out);
	if (r == -EINVAL)
		return fail(k, r, "%s is not valid base64", key);
	return r;
}

/* kubectl reads kubeconfigs as YAML 1.1, which types a plain scalar as
 * the DeviceConfig reader does: 1 true, 0 false or null, -1 neither (or
 * out of memory). */
static int yaml11_bool(const char *v)
{
	cJSON *j = av_yaml_plain_scalar(v);
	int r = cJSON_IsTrue(j) ? 1 : cJSON_IsFalse(j) || cJSON_IsNull(j) ? 0 : -1;
	cJSON_Delete(j);
	return r;
}

/* A node of the document as JSON, for the parts of a kubeconfig that are
 * free-form (an extension): quoted scalars are strings, plain ones typed
 * as YAML 1.1 types them, as kubectl reads the file.  An alias is refused
 * as the DeviceConfig reader refuses it: the document API hands it over
 * as the anchored node again, so a few lines could expand without bound.
 * seen has a flag per node of the document.  NULL when too deep, an
 * alias, not a string key or out of memory. */
static cJSON *to_json(struct kc *k, yaml_node_t *n, bool *seen, int depth)
{
	if (!n || depth > 32 || seen[n - k->doc.nodes.start])
		return NULL;
	seen[n - k->doc.nodes.start] = true;
	if (n->type == YAML_SCALAR_NODE) {
		const char *v = (const char *)n->data.scalar.value;
		return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? av_yaml_plain_scalar(v) : cJSON_CreateString(v);
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		cJSON *a = cJSON_CreateArray();
		for (yaml_node_item_t *i = n->data.sequence.items.start; a && i < n->data.sequence.items.top; i++) {
			cJSON *e = to_json(k, yaml_document_get_node(&k->doc, *i), seen, depth + 1);
			if (!e || !cJSON_AddItemToArray(a, e)) {
				cJSON_Delete(e);
				cJSON_Delete(a);
				return NULL;
			}
		}
		return a;
	}
	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; o && p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(&k->doc, p->key);
		cJSON *v = kn && kn->type == YAML_SCALAR_NODE
		           ? to_json(k, yaml_document_get_node(&k->doc, p->value), seen, depth + 1) : NULL;
		if (!v || !cJSON_AddItemToObject(o, (const char *)kn->data.scalar.value, v)) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

/* clusters[].cluster.extensions: the one named for exec plugins, kept for
 * KUBERNETES_EXEC_INFO; the others are not amdvirt's. */
static int read_exec_extension(struct kc *k, yaml_node_t *cl, const char *name, struct av_k8s_conf *c)
{
	yaml_node_t *seq = get(k, cl, "extensions");
	if (!seq)
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE)
		return fail(k, -EINVAL, "cluster \"%s\": extensions is not a list", name);
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
		yaml_node_t *e = yaml_document_get_node(&k->doc, *i);
		const char *n = scalar(k, e, "name");
		if (!n || strcmp(n, "client.authentication.k8s.io/exec") != 0)
			continue;
		yaml_node_t *x = get(k, e, "extension");
		bool *seen = calloc((size_t)(k->doc.nodes.top - k->doc.nodes.start), sizeof(bool));
		if (!seen)
			return -ENOMEM;
		cJSON *ext = x && x->type == YAML_MAPPING_NODE ? to_json(k, x, seen, 0) : NULL;
		free(seen);
		if (!ext)
			return fail(k, -EINVAL, "cluster \"%s\": extension %s is not an object amdvirt can read "
			            "(no aliases, nested at most 32 deep)", name, n);
		c->exec_cluster_config = cJSON_PrintUnformatted(ext);
		cJSON_Delete(ext);
		return c->exec_cluster_config ? 0 : -ENOMEM;
	}
	return 0;
}

static int read_cluster(struct kc *k, yaml_node_t *cl, const char *name, struct av_k8s_conf *c)
{
	if (!cl)
		return fail(k, -EINVAL, "no cluster named \"%s\"", name);
	const char *server = scalar(k, cl, "server");
	if (!server)
		return fail(k, -EINVAL, "cluster \"%s\" has no server", name);
	const char *insecure = scalar(k, cl, "insecure-skip-tls-verify");
	int skip = insecure ? yaml11_bool(insecure) : 0;
	if (skip > 0)
		return fail(k, -EINVAL, "cluster \"%s\" sets insecure-skip-tls-verify; amdvirt always "
		            "verifies the API server's certificate (give certificate-authority instead)", name);
	/* What kubectl would refuse to read is not taken as false either. */
	if (skip < 0)
		return fail(k, -EINVAL, "cluster \"%s\": insecure-skip-tls-verify '%.40s' is not a boolean",
		            name, insecure);
	if (strncmp(server, "https://", 8) != 0)
		return fail(k, -EINVAL, "server %s is not https://", server);
	size_t len = strlen(server);
	while (len > 8 && server[len - 1] == '/')
		len--;
	if (!(c->server = strndup(server, len)))
		return -ENOMEM;
	int r = data_field(k, cl, "certificate-authority-data", &c->ca);
	if (!r && !c->ca.data)
		r = path_field(k, cl, "certificate-authority", &c->ca_file);
	if (!r)
		r = read_exec_extension(k, cl, name, c);
	return r;
}

static int push(char ***list, int *n, char *s)
{
	if (!s)
		return -ENOMEM;
	char **l = realloc(*list, ((size_t)*n + 1) * sizeof(char *));
	if (!l) {
		free(s);
		return -ENOMEM;
	}
	*list = l;
	l[(*n)++] = s;
	return 0;
}

#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"

/* users[].user.exec, as client-go reads it: apiVersion, command, args,
 * env, interactiveMode (required for v1, IfAvailable by default for
 * v1beta1), installHint, provideClusterInfo. */
static int read_exec(struct kc *k, yaml_node_t *ex, const char *name, struct av_k8s_conf *c)
{
	if (ex->type != YAML_MAPPING_NODE)
		return fail(k, -EINVAL, "user \"%s\": exec is not a mapping", name);
	struct av_exec_conf *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	c->exec = x;
	const char *api = scalar(k, ex, "apiVersion"), *cmd = scalar(k, ex, "command");
	if (!api)
		return fail(k, -EINVAL, "user \"%s\": exec has no apiVersion", name);
	if (strcmp(api, EXEC_V1) != 0 && strcmp(api, EXEC_V1BETA1) != 0)
		return fail(k, -ENOTSUP, "user \"%s\": exec apiVersion %.80s is not supported (use %s or %s)",
		            name, api, EXEC_V1, EXEC_V1BETA1);
	if (!cmd)
		return fail(k, -EINVAL, "user \"%s\": exec has no command", name);
	const char *mode = scalar(k, ex, "interactiveMode");
	if (!mode && strcmp(api, EXEC_V1) == 0)
		return fail(k, -EINVAL, "user \"%s\": exec interactiveMode must be given for %s "
		            "(Never or IfAvailable)", name, EXEC_V1);
	if (!mode || strcmp(mode, "IfAvailable") == 0) {
		/* amdvirt never prompts, terminal or not: it runs in scripts
		 * and as a daemon, so the plugin is told it cannot. */
		x->interactive = AV_EXEC_IF_AVAILABLE;
	} else if (strcmp(mode, "Never") == 0) {
		x->interactive = AV_EXEC_NEVER;
	} else if (strcmp(mode, "Always") == 0) {
		return fail(k, -ENOTSUP, "user \"%s\": exec interactiveMode Always needs a terminal to prompt "
		            "on, and amdvirt never prompts; log in with kubectl first or use a plugin that can "
		            "run with Never or IfAvailable", name);
	} else {
		return fail(k, -EINVAL, "user \"%s\": exec interactiveMode '%.40s' is not Never, IfAvailable "
		            "or Always", name, mode);
	}
	/* A path with a slash is relative to the kubeconfig's directory; a
	 * bare name is looked up in PATH when it runs. */
	if (strchr(cmd, '/') && cmd[0] != '/' && k->dir) {
		const char *rel = cmd;
		while (rel[0] == '.' && rel[1] == '/')
			for (rel += 2; *rel == '/'; rel++)
				;
		x->command = av_strdup_printf("%s/%s", k->dir, rel);
	}
	else
		x->command = strdup(cmd);
	if (!(x->api_version = strdup(api)) || !x->command || !(x->user = strdup(name)))
		return -ENOMEM;
	yaml_node_t *args = get(k, ex, "args");
	if (args && args->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = args->data.sequence.items.start; i < args->data.sequence.items.top; i++) {
			yaml_node_t *a = yaml_document_get_node(&k->doc, *i);
			if (!a || a->type != YAML_SCALAR_NODE)
				return fail(k, -EINVAL, "user \"%s\": exec args must be strings", name);
			int r = push(&x->args, &x->n_args, strdup((const char *)a->data.scalar.value));
			if (r < 0)
				return r;
		}
	} else if (args && !(args->type == YAML_SCALAR_NODE && args->data.scalar.length == 0)) {
		return fail(k, -EINVAL, "user \"%s\": exec args is not a list", name);
	}
	yaml_node_t *env = get(k, ex, "env");
	if (env && env->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = env->data.sequence.items.start; i < env->data.sequence.items.top; i++) {
			yaml_node_t *e = yaml_document_get_node(&k->doc, *i);
			const char *n = scalar(k, e, "name"), *v = scalar(k, e, "value");
			if (!n || strchr(n, '='))
				return fail(k, -EINVAL, "user \"%s\": an exec env entry has no valid name", name);
			int r = push(&x->env, &x->n_env, av_strdup_printf("%s=%s", n, v ? v : ""));
			if (r < 0)
				return r;
		}
	} else if (env && !(env->type == YAML_SCALAR_NODE && env->data.scalar.length == 0)) {
		return fail(k, -EINVAL, "user \"%s\": exec env is not a list", name);
	}
	const char *hint = scalar(k, ex, "installHint");
	if (hint && !(x->install_hint = strdup(hint)))
		return -ENOMEM;
	const char *pci = scalar(k, ex, "provideClusterInfo");
	int b = pci ? yaml11_bool(pci) : 0;
	if (b < 0)
		return fail(k, -EINVAL, "user \"%s\": exec provideClusterInfo '%.40s' is not a boolean", name, pci);
	x->provide_cluster_info = b > 0;
	return 0;
}

static int read_user(struct kc *k, yaml_node_t *u, const char *name, struct av_k8s_conf *c)
{
	if (!u)
		return fail(k, -EINVAL, "no user named \"%s\"", name);
	if (get(k, u, "auth-provider"))
		return fail(k, -ENOTSUP, "user \"%s\" uses an auth-provider plugin, which amdvirt "
		            "does not run; use an exec plugin, a token or a client certificate", name);
	yaml_node_t *ex = get(k, u, "exec");
	if (ex && ex->type == YAML_SCALAR_NODE && (ex->data.scalar.length == 0 || yaml11_bool((char *)ex->data.scalar.value) == 0))
		ex = NULL; /* exec: null */
	if (ex && (scalar(k, u, "token") || scalar(k, u, "tokenFile")))
		return fail(k, -EINVAL, "user \"%s\" has both a token and an exec plugin; keep one", name);
	if (ex) {
		int r = read_exec(k, ex, name, c);
		if (r < 0)
			return r;
	}
	int r = data_field(k, u, "client-certificate-data", &c->cert);
	if (!r && !c->cert.data)
		r = path_field(k, u, "client-certificate", &c->cert_file);
	if (!r)
		r = data_field(k, u, "client-key-data", &c->key);
	if (!r && !c->key.data)
		r = path_field(k, u, "client-key", &c->key_file);
	const char *token = scalar(k, u, "token");
	if (!r && token && !(c->token = strdup(token)))
		r = -ENOMEM;
	if (!r && !token)
		r = path_field(k, u, "tokenFile", &c->token_file);
	bool has_cert = c->cert.data || c->cert_file, has_key = c->key.data || c->key_file;
	if (!r && has_cert != has_key)
		r = fail(k, -EINVAL, "user \"%s\" has a client certificate without its key, or a key "
		         "without its certificate", name);
	return r;
}

static int read_config(struct kc *k, struct av_k8s_conf *c)
{
	yaml_node_t *root = yaml_document_get_root_node(&k->doc);
	if (!root || root->type != YAML_MAPPING_NODE)
		return fail(k, -EINVAL, "%s", "not a kubeconfig (no mapping at the top)");
	const char *ctx_name = scalar(k, root, "current-context");
	if (!ctx_name)
		return fail(k, -EINVAL, "%s", "no current-context");
	yaml_node_t *ctx = named(k, "contexts", ctx_name, "context");
	if (!ctx)
		return fail(k, -EINVAL, "no context named \"%s\"", ctx_name);
	const char *cluster = scalar(k, ctx, "cluster"), *user = scalar(k, ctx, "user");
	if (!cluster)
		return fail(k, -EINVAL, "context \"%s\" names no cluster", ctx_name);

	int r = read_cluster(k, named(k, "clusters", cluster, "cluster"), cluster, c);
	if (!r && user)
		r = read_user(k, named(k, "users", user, "user"), user, c);
	if (!r && !(c->origin = av_strdup_printf("%s (context %s)", k->origin, ctx_name)))
		r = -ENOMEM;
	return r;
}

int av_k8s_conf_kubeconfig_text(const char *text, size_t len, const char *dir,
                                const char *origin, struct av_k8s_conf *c, char **cause)
{
	struct kc k = { .dir = dir, .origin = origin, .cause = cause };
	yaml_parser_t parser;

	memset(c, 0, sizeof(*c));
	if (!yaml_parser_initialize(&parser)) {
		av_set_cause(cause, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &k.doc)) {
		av_set_cause(cause, "%s: line %zu: %s", origin, parser.problem_mark.line + 1,
		             parser.problem ? parser.problem : "YAML syntax error");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	int r = read_config(&k, c);
	yaml_document_delete(&k.doc);
	yaml_parser_delete(&parser);
	if (r == -ENOMEM)
		av_set_cause(cause, "out of memory");
	if (r)
		av_k8s_conf_clear(c);
	return r;
}

int av_k8s_conf_kubeconfig(const char *path, struct av_k8s_conf *c, char **cause)
{
	memset(c, 0, sizeof(*c));
	char *text = NULL;
	ssize_t len = av_file_read_all(path, KUBECONFIG_MAX, &text);
	if (len < 0) {
		av_set_cause(cause, "kubeconfig %s: %s", path, len == -EFBIG ? "too large" : av_strerror((int)len));
		return len == -EFBIG ? -EINVAL : (int)len;
	}
	size_t n = (size_t)len;
	char *copy = strdup(path);
	char *origin = av_strdup_printf("kubeconfig %s", path);
	int r = -ENOMEM;
	if (copy && origin)
		r = av_k8s_conf_kubeconfig_text(text, n, dirname(copy), origin, c, cause);
	else
		av_set_cause(cause, "out of memory");
	explicit_bzero(text, n);
	free(text);
	free(copy);
	free(origin);
	return r;
}
