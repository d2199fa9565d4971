#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "k8s/execcred.h"
#include "base/evloop.h"
#include "base/textsafe.h"
#include "base/util.h"

extern char **environ;

#define OUT_MAX (1 << 20)            /* an ExecCredential is a few KiB */
#define ERR_SHOWN_MAX (64 << 10)     /* the plugin's stderr passed through */
#define ERR_LINE_MAX 4096
#define TIMEOUT_DEFAULT_S 120
#define CA_MAX (1 << 20)

void av_exec_cred_clear(struct av_exec_cred *cr)
{
	if (cr->token)
		explicit_bzero(cr->token, strlen(cr->token));
	free(cr->token);
	if (cr->key.data)
		explicit_bzero(cr->key.data, cr->key.len);
	free(cr->key.data);
	free(cr->cert.data);
	memset(cr, 0, sizeof(*cr));
}

bool av_exec_cred_fresh(const struct av_exec_cred *cr, time_t now)
{
	/* As client-go: usable until the expiry, for ever without one. */
	return (cr->token || cr->cert.data) && (!cr->expires || now < cr->expiry);
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int av_rfc3339_parse(const char *s, time_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-'
	    || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
	    || !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':'
	    || !digits(s + 17, 2, &sec))
		return -EINVAL;
	const char *p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	int sign = 0;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) && p[3] == ':'
	           && digits(p + 4, 2, &om)) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return -EINVAL;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || oh > 23 || om > 59)
		return -EINVAL;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
	                 .tm_min = mi, .tm_sec = sec };
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = t - sign * (oh * 3600 + om * 60);
	return 0;
}

static char *base64(const char *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned char)data[i] << 16;
		if (i + 1 < len)
			v |= (unsigned char)data[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)data[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* spec.cluster as client-go gives it: the server and the CA it trusts
 * (read from the file when the kubeconfig names one). */
static bool add_cluster(cJSON *spec, const struct av_k8s_conf *c)
{
	cJSON *cl = cJSON_AddObjectToObject(spec, "cluster");
	if (!cl || !cJSON_AddStringToObject(cl, "server", c->server))
		return false;
	char *ca = NULL;
	size_t len = 0;
	if (c->ca.data) {
		len = c->ca.len;
	} else if (c->ca_file) {
		ssize_t n = av_file_read_all(c->ca_file, CA_MAX, &ca);
		if (n < 0)
			return true; /* the request itself will name the file */
		len = (size_t)n;
	}
	char *b64 = len ? base64(c->ca.data ? c->ca.data : ca, len) : NULL;
	free(ca);
	bool ok = !len || (b64 && cJSON_AddStringToObject(cl, "certificate-authority-data", b64));
	free(b64);
	if (ok && c->exec_cluster_config) {
		cJSON *cfg = cJSON_Parse(c->exec_cluster_config);
		ok = cfg && cJSON_AddItemToObject(cl, "config", cfg);
		if (!ok)
			cJSON_Delete(cfg);
	}
	return ok;
}

char *av_exec_info(const struct av_k8s_conf *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *spec = NULL;
	bool ok = o && cJSON_AddStringToObject(o, "apiVersion", c->exec->api_version)
	          && cJSON_AddStringToObject(o, "kind", "ExecCredential")
	          && (spec = cJSON_AddObjectToObject(o, "spec"))
	          && cJSON_AddBoolToObject(spec, "interactive", 0)
	          && (!c->exec->provide_cluster_info || add_cluster(spec, c));
	char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return text;
}

static int bad(char **why, const char *msg)
{
	av_set_cause(why, "%s", msg);
	return -EINVAL;
}

static int take_pem(const cJSON *status, const char *key, struct av_blob *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(status, key);
	if (!cJSON_IsString(v) || !*v->valuestring)
		return 0;
	out->len = strlen(v->valuestring);
	return (out->data = strdup(v->valuestring)) ? 0 : -ENOMEM;
}

int av_exec_parse(const char *text, const char *api_version, struct av_exec_cred *out, char **why)
{
	memset(out, 0, sizeof(*out));
	cJSON *doc = cJSON_Parse(text);
	int r = -EINVAL;
	if (!cJSON_IsObject(doc)) {
		r = bad(why, "its output is not a JSON object");
		goto done;
	}
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
	const cJSON *api = cJSON_GetObjectItemCaseSensitive(doc, "apiVersion");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(doc, "status");
	if (!cJSON_IsString(kind) || strcmp(kind->valuestring, "ExecCredential") != 0) {
		r = bad(why, "its output is not an ExecCredential");
		goto done;
	}
	if (!cJSON_IsString(api) || strcmp(api->valuestring, api_version) != 0) {
		av_set_cause(why, "it answered apiVersion %s, the kubeconfig asks for %s",
		             cJSON_IsString(api) ? AV_SAFE(api->valuestring) : "(none)", api_version);
		goto done;
	}
	if (!cJSON_IsObject(status)) {
		r = bad(why, "its ExecCredential has no status");
		goto done;
	}
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(status, "token");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(status, "expirationTimestamp");
	if (cJSON_IsString(tok) && *tok->valuestring && !(out->token = strdup(tok->valuestring))) {
		r = -ENOMEM;
		goto done;
	}
	if (take_pem(status, "clientCertificateData", &out->cert) < 0
	    || take_pem(status, "clientKeyData", &out->key) < 0) {
		r = -ENOMEM;
		goto done;
	}
	if (!out->cert.data != !out->key.data) {
		r = bad(why, "its ExecCredential has a client certificate without its key, or a key without "
		        "its certificate");
		goto done;
	}
	if (!out->token && !out->cert.data) {
		r = bad(why, "its ExecCredential has neither a token nor a client certificate and key");
		goto done;
	}
	if (exp && !cJSON_IsNull(exp)) {
		if (!cJSON_IsString(exp) || av_rfc3339_parse(exp->valuestring, &out->expiry) < 0) {
			r = bad(why, "its expirationTimestamp is not an RFC 3339 time");
			goto done;
		}
		out->expires = true;
	}
	r = 0;
done:
	if (r == -ENOMEM)
		av_set_cause(why, "out of memory");
	if (r < 0)
		av_exec_cred_clear(out);
	cJSON_Delete(doc);
	return r;
}

/* --- running it ------------------------------------------------------------ */

static int timeout_env(long *s, char **cause)
{
	const char *v = getenv("AMDVIRT_EXEC_TIMEOUT");
	long n;
	*s = TIMEOUT_DEFAULT_S;
	if (!v || !*v)
		return 0;
	if (av_parse_long(v, 10, &n) < 0 || n < 1 || n > 3600) {
		av_set_cause(cause, "AMDVIRT_EXEC_TIMEOUT '%s': seconds between 1 and 3600", AV_SAFE(v));
		return -EINVAL;
	}
	*s = n;
	return 0;
}

static bool overridden(const char *entry, const struct av_exec_conf *x)
{
	size_t n = strcspn(entry, "=");
	if (n == strlen("KUBERNETES_EXEC_INFO") && strncmp(entry, "KUBERNETES_EXEC_INFO", n) == 0)
		return true;
	for (int i = 0; i < x->n_env; i++)
		if (strncmp(x->env[i], entry, n) == 0 && x->env[i][n] == '=')
			return true;
	return false;
}

/* Ours, less what the plugin's env list and KUBERNETES_EXEC_INFO replace,
 * then those.  The strings are borrowed but for info. */
static char **plugin_env(const struct av_exec_conf *x, char *info)
{
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **env = calloc(n + (size_t)x->n_env + 2, sizeof(char *));
	size_t k = 0;
	if (!env)
		return NULL;
	for (char **e = environ; e && *e; e++)
		if (!overridden(*e, x))
			env[k++] = *e;
	for (int i = 0; i < x->n_env; i++)
		env[k++] = x->env[i];
	env[k] = info;
	return env;
}

struct errpass {
	const char *who;
	char line[ERR_LINE_MAX];
	size_t len;
	size_t shown, dropped;
};

static void err_flush(struct errpass *ep)
{
	char safe[ERR_LINE_MAX * 4 + 8];
	if (ep->len == 0)
		return;
	av_text_escape_n(safe, sizeof(safe), ep->line, ep->len);
	fprintf(stderr, "%s\n", safe);
	ep->len = 0;
}

/* The plugin's stderr goes to ours as it comes, line by line and escaped
 * (a login helper may print a URL to open while it waits), up to a bound. */
static void err_feed(struct errpass *ep, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ep->shown >= ERR_SHOWN_MAX) {
			ep->dropped += n - i;
			return;
		}
		ep->shown++;
		if (buf[i] == '\n') {
			if (ep->len == 0)
				fputc('\n', stderr);
			err_flush(ep);
			continue;
		}
		ep->line[ep->len++] = buf[i];
		if (ep->len == sizeof(ep->line))
			err_flush(ep);
	}
}

static void err_end(struct errpass *ep)
{
	err_flush(ep);
	if (ep->dropped)
		fprintf(stderr, "amdvirt: exec plugin %s: %zu more bytes of its stderr not shown\n",
		        AV_SAFE(ep->who), ep->dropped);
}

static int spawn(const struct av_exec_conf *x, char **env, int out_fd, int err_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int r;

	char **argv = calloc((size_t)x->n_args + 2, sizeof(char *));
	if (!argv)
		return ENOMEM;
	argv[0] = x->command;
	for (int i = 0; i < x->n_args; i++)
		argv[i + 1] = x->args[i];
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	/* Not a terminal: the plugin must not wait for keys nobody types. */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	/* Its own process group, so a timeout ends what it started too; the
	 * daemon's blocked and ignored signals are not its business. */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (strchr(x->command, '/'))
		r = posix_spawn(pid, x->command, &fa, &at, argv, env);
	else
		r = posix_spawnp(pid, x->command, &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(argv);
	return r;
}

/* Reads out and err until both close or the deadline.  Returns 0, or
 * -ETIMEDOUT, or -EFBIG when stdout is larger than any credential. */
static int collect(int out_fd, int err_fd, int64_t deadline, char **out, size_t *out_len, struct errpass *ep)
{
	struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN }, { .fd = err_fd, .events = POLLIN } };
	char buf[4096];
	int open_fds = 2;
	while (open_fds > 0) {
		int64_t left = deadline - av_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		int n = poll(p, 2, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; n > 0 && i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t got = read(p[i].fd, buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 1) {
				err_feed(ep, buf, (size_t)got);
				continue;
			}
			if (*out_len + (size_t)got > OUT_MAX)
				return -EFBIG;
			char *o = realloc(*out, *out_len + (size_t)got + 1);
			if (!o)
				return -ENOMEM;
			memcpy(o + *out_len, buf, (size_t)got);
			*out_len += (size_t)got;
			o[*out_len] = '\0';
			*out = o;
		}
	}
	return 0;
}

/* Waits for the child until the deadline; kills its group after that.
 * Returns the wait status, or -ETIMEDOUT. */
static int reap(pid_t pid, int64_t deadline, bool kill_now)
{
	int st;
	if (kill_now)
		kill(-pid, SIGKILL);
	for (;;) {
		pid_t w = waitpid(pid, &st, kill_now ? 0 : WNOHANG);
		if (w == pid)
			return kill_now ? -ETIMEDOUT : st;
		if (w < 0 && errno != EINTR)
			return -ECHILD;
		if (!kill_now && av_now_ms() >= deadline) {
			kill_now = true;
			kill(-pid, SIGKILL);
			continue;
		}
		if (!kill_now) {
			struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
}

int av_exec_run(const struct av_k8s_conf *c, struct av_exec_cred *out, char **cause)
{
	const struct av_exec_conf *x = c->exec;
	const char *origin = c->origin ? c->origin : "the kubeconfig";
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	char *info = NULL, *text = NULL, *why = NULL;
	char **env = NULL;
	size_t text_len = 0;
	long timeout_s;
	pid_t pid;
	int r;

	memset(out, 0, sizeof(out[0]));
	if ((r = timeout_env(&timeout_s, cause)) < 0)
		return r;
	char *info_value = av_exec_info(c);
	info = info_value ? av_strdup_printf("KUBERNETES_EXEC_INFO=%s", info_value) : NULL;
	free(info_value);
	if (!info || !(env = plugin_env(x, info)) || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = errno == EMFILE || errno == ENFILE ? -errno : -ENOMEM;
		av_set_cause(cause, "exec plugin %s: %s", AV_SAFE(x->command), av_strerror(r));
		goto out;
	}
	r = spawn(x, env, outp[1], errp[1], &pid);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	if (r != 0) {
		char hint[600] = "";
		if (x->install_hint) {
			char safe[512];
			av_text_escape(safe, sizeof(safe), x->install_hint);
			/* The hint is often several lines; the message stays one. */
			for (char *p = safe; *p; p++)
				if (*p == '\\' && p[1] == 'x' && p[2] == '0' && (p[3] == 'a' || p[3] == 'A'))
					memcpy(p, "    ", 4);
			snprintf(hint, sizeof(hint), " (%s)", safe);
		}
		av_set_cause(cause, "exec plugin %s of user \"%s\" (%s) cannot run: %s%s", AV_SAFE(x->command),
		             AV_SAFE(x->user), origin, strerror(r), hint);
		r = -r;
		goto out;
	}
	struct errpass ep = { .who = x->command };
	int64_t deadline = av_now_ms() + timeout_s * 1000;
	int got = collect(outp[0], errp[0], deadline, &text, &text_len, &ep);
	err_end(&ep);
	int st = reap(pid, deadline, got < 0);
	if (got == -ETIMEDOUT || st == -ETIMEDOUT) {
		av_set_cause(cause, "exec plugin %s of user \"%s\" (%s) did not answer within %ld s "
		             "(AMDVIRT_EXEC_TIMEOUT); stopped", AV_SAFE(x->command), AV_SAFE(x->user), origin,
		             timeout_s);
		r = -ETIMEDOUT;
	} else if (got < 0) {
		av_set_cause(cause, "exec plugin %s of user \"%s\" (%s): %s", AV_SAFE(x->command),
		             AV_SAFE(x->user), origin, got == -EFBIG ? "its output is too large" : av_strerror(got));
		r = got;
	} else if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char how[64];
		if (st >= 0 && WIFSIGNALED(st))
			snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(st));
		else if (st >= 0)
			snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(st));
		else
			snprintf(how, sizeof(how), "could not be waited for");
		av_set_cause(cause, "exec plugin %s of user \"%s\" (%s) %s; no credentials", AV_SAFE(x->command),
		             AV_SAFE(x->user), origin, how);
		r = -EACCES;
	} else if ((r = av_exec_parse(text ? text : "", x->api_version, out, &why)) < 0) {
		av_set_cause(cause, "exec plugin %s of user \"%s\" (%s): %s", AV_SAFE(x->command),
		             AV_SAFE(x->user), origin, why ? why : "out of memory");
	}
out:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (text) {
		explicit_bzero(text, text_len);
		free(text);
	}
	free(why);
	free(env);
	free(info);
	return r;
}
