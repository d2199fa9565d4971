#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s/conf.h"
#include "base/util.h"

static void blob_clear(struct av_blob *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

void av_exec_conf_free(struct av_exec_conf *x)
{
	if (!x)
		return;
	free(x->api_version);
	free(x->command);
	for (int i = 0; i < x->n_args; i++)
		free(x->args[i]);
	free(x->args);
	/* The env list often carries secrets for the plugin. */
	for (int i = 0; i < x->n_env; i++) {
		explicit_bzero(x->env[i], strlen(x->env[i]));
		free(x->env[i]);
	}
	free(x->env);
	free(x->install_hint);
	free(x->user);
	free(x);
}

void av_k8s_conf_clear(struct av_k8s_conf *c)
{
	free(c->server);
	free(c->origin);
	blob_clear(&c->ca);
	free(c->ca_file);
	blob_clear(&c->cert);
	blob_clear(&c->key);
	free(c->cert_file);
	free(c->key_file);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	free(c->token);
	free(c->token_file);
	av_exec_conf_free(c->exec);
	free(c->exec_cluster_config);
	memset(c, 0, sizeof(*c));
}

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

int av_base64_decode(const char *in, struct av_blob *out)
{
	size_t len = strlen(in);
	char *buf = malloc(len / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0;
	size_t n = 0;
	bool pad = false;

	out->data = NULL;
	out->len = 0;
	if (!buf)
		return -ENOMEM;
	for (const char *p = in; *p; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (*p == '=') {
			pad = true;
			continue;
		}
		int v = b64_value(*p);
		if (v < 0 || pad) {
			free(buf);
			return -EINVAL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	buf[n] = '\0';
	out->data = buf;
	out->len = n;
	return 0;
}
