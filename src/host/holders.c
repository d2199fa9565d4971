#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/holders.h"
#include "base/util.h"

/* ---- kubelet's answer ---------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct av_pr_entry *av_pr_add(struct av_pr_entry **v, int *n, const char *ns, const char *pod,
                              const char *container, const char *resource)
{
	struct av_pr_entry *grown = realloc(*v, ((size_t)*n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	*v = grown;
	struct av_pr_entry *e = &grown[*n];
	memset(e, 0, sizeof(*e));
	e->ns = dup_or_null(ns);
	e->pod = dup_or_null(pod);
	e->container = dup_or_null(container);
	e->resource = strdup(resource ? resource : "");
	(*n)++;
	if ((ns && !e->ns) || (pod && !e->pod) || (container && !e->container) || !e->resource)
		return NULL;
	return e;
}

int av_pr_add_id(struct av_pr_entry *e, const char *id)
{
	char **grown = realloc(e->ids, ((size_t)e->n_ids + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	e->ids = grown;
	if (!(grown[e->n_ids] = strdup(id)))
		return -ENOMEM;
	e->n_ids++;
	return 0;
}

static void entries_free(struct av_pr_entry *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].ns);
		free(v[i].pod);
		free(v[i].container);
		free(v[i].resource);
		for (int k = 0; k < v[i].n_ids; k++)
			free(v[i].ids[k]);
		free(v[i].ids);
	}
	free(v);
}

void av_pr_answer_clear(struct av_pr_answer *a)
{
	entries_free(a->assigned, a->n_assigned);
	entries_free(a->allocatable, a->n_allocatable);
	memset(a, 0, sizeof(*a));
}

/* ---- names --------------------------------------------------------------- */

/* What Kubernetes' generateName appends (apimachinery util/rand). */
#define GENERATED_CHARS "bcdfghjklmnpqrstvwxz2456789"
#define LAUNCHER "virt-launcher-"

bool av_virt_launcher_vm(const char *pod, char *buf, size_t size)
{
	size_t len = pod ? strlen(pod) : 0, pre = strlen(LAUNCHER);

	if (len < pre + 6 || strncmp(pod, LAUNCHER, pre) != 0)
		return false;
	for (size_t i = len - 5; i < len; i++)
		if (!strchr(GENERATED_CHARS, pod[i]))
			return false;
	/* generateName cuts its base to 58 characters, dash included, so a
	 * 63-character name may have lost the dash before the suffix. */
	size_t end = len - 5;
	if (pod[end - 1] == '-')
		end--;
	else if (len != 63)
		return false;
	if (end <= pre || end - pre >= size)
		return false;
	memcpy(buf, pod + pre, end - pre);
	buf[end - pre] = '\0';
	return true;
}

static bool uid_ok(const char *s, size_t len)
{
	if (len < 8 || len > 39)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdef-", s[i]))
			return false;
	return true;
}

/* One path segment: "pod<uid>" (cgroupfs) or
 * "kubepods-<qos>-pod<uid_with_underscores>.slice" (systemd). */
static bool segment_uid(const char *seg, size_t len, char *buf, size_t size)
{
	char tmp[64];
	const char *u = NULL;
	size_t ulen = 0;

	if (len > 6 && memcmp(seg + len - 6, ".slice", 6) == 0) {
		for (size_t i = len - 6; i >= 4; i--)
			if (memcmp(seg + i - 4, "-pod", 4) == 0) {
				u = seg + i;
				ulen = len - 6 - i;
				break;
			}
	} else if (len > 3 && memcmp(seg, "pod", 3) == 0) {
		u = seg + 3;
		ulen = len - 3;
	}
	if (!u || ulen >= sizeof(tmp))
		return false;
	for (size_t i = 0; i < ulen; i++)
		tmp[i] = u[i] == '_' ? '-' : u[i];
	if (!uid_ok(tmp, ulen) || ulen >= size)
		return false;
	memcpy(buf, tmp, ulen);
	buf[ulen] = '\0';
	return true;
}

bool av_cgroup_pod_uid(const char *text, char *buf, size_t size)
{
	for (const char *line = text; line && *line;) {
		size_t llen = strcspn(line, "\n");
		/* "hierarchy-ID:controllers:path" */
		const char *c1 = memchr(line, ':', llen);
		const char *c2 = c1 ? memchr(c1 + 1, ':', llen - (size_t)(c1 + 1 - line)) : NULL;
		const char *path = c2 ? c2 + 1 : NULL, *end = line + llen;
		bool kube = false;
		for (const char *p = path; p && p < end;) {
			const char *slash = memchr(p, '/', (size_t)(end - p));
			size_t seg = slash ? (size_t)(slash - p) : (size_t)(end - p);
			if (seg >= 8 && memcmp(p, "kubepods", 8) == 0)
				kube = true;
			if (kube && segment_uid(p, seg, buf, size))
				return true;
			p = slash ? slash + 1 : end;
		}
		line = *end ? end + 1 : end;
	}
	return false;
}

/* ---- /proc --------------------------------------------------------------- */

static int add_user(struct av_vfio_users *u, int pid, int group, const char *uid)
{
	struct av_vfio_user *grown = realloc(u->v, ((size_t)u->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	u->v = grown;
	grown[u->n].pid = pid;
	grown[u->n].group = group;
	snprintf(grown[u->n].pod_uid, sizeof(grown[u->n].pod_uid), "%s", uid);
	u->n++;
	return 0;
}

/* The groups one process holds, each once. */
static int scan_pid(const struct av_host *host, const char *pid, struct av_vfio_users *out)
{
	char fdir[64], uid[40] = "";
	bool uid_read = false;
	int first = out->n, r = 0;

	snprintf(fdir, sizeof(fdir), "/proc/%.20s/fd", pid);
	DIR *d = av_opendir(host, fdir);
	if (!d)
		return 0;
	struct dirent *fe;
	while (r == 0 && (fe = readdir(d))) {
		char link[96], target[PATH_MAX];
		long g;
		bool seen = false;
		snprintf(link, sizeof(link), "%s/%.20s", fdir, fe->d_name);
		if (av_read_link(host, link, target, sizeof(target)) <= 0 || strncmp(target, "/dev/vfio/", 10) != 0
		    || av_parse_long(target + 10, 10, &g) < 0 || g < 0 || g > INT_MAX)
			continue;
		for (int i = first; i < out->n; i++)
			seen |= out->v[i].group == (int)g;
		if (seen)
			continue;
		if (!uid_read) {
			char cg[64], *text = NULL;
			snprintf(cg, sizeof(cg), "/proc/%.20s/cgroup", pid);
			if (av_read_all(host, cg, 64 * 1024, &text) >= 0 && text)
				av_cgroup_pod_uid(text, uid, sizeof(uid));
			free(text);
			uid_read = true;
		}
		r = add_user(out, atoi(pid), (int)g, uid);
	}
	closedir(d);
	return r;
}

int av_vfio_users_scan(const struct av_host *host, struct av_vfio_users *out)
{
	memset(out, 0, sizeof(*out));
	DIR *d = av_opendir(host, "/proc");
	if (!d)
		return 0;
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
			r = scan_pid(host, de->d_name, out);
	closedir(d);
	if (r < 0)
		av_vfio_users_clear(out);
	return r;
}

void av_vfio_users_clear(struct av_vfio_users *u)
{
	free(u->v);
	memset(u, 0, sizeof(*u));
}

/* ---- the model ----------------------------------------------------------- */

static const struct av_pr_entry *assigned_to(const struct av_pr_answer *pr, const char *resource,
                                            const char *id)
{
	for (int i = 0; pr && i < pr->n_assigned; i++) {
		if (strcmp(pr->assigned[i].resource, resource) != 0)
			continue;
		for (int k = 0; k < pr->assigned[i].n_ids; k++)
			if (strcmp(pr->assigned[i].ids[k], id) == 0)
				return &pr->assigned[i];
	}
	return NULL;
}

static bool advertised(const struct av_resources *r, const char *id)
{
	for (int i = 0; i < r->n_devices; i++)
		if (strcmp(r->devices[i].id, id) == 0)
			return true;
	return false;
}

static bool listed(const struct av_model *m, const char *id)
{
	for (int i = 0; i < m->kubelet.n_devices; i++)
		if (strcmp(m->kubelet.devices[i], id) == 0)
			return true;
	return false;
}

static int push_str(char ***v, int *n, char *s)
{
	if (!s)
		return -ENOMEM;
	char **grown = realloc(*v, ((size_t)*n + 1) * sizeof(*grown));
	if (!grown) {
		free(s);
		return -ENOMEM;
	}
	*v = grown;
	grown[(*n)++] = s;
	return 0;
}

static struct av_holder *new_holder(struct av_model *m, const char *id, const struct av_pr_entry *e)
{
	struct av_holder *grown = realloc(m->holders, ((size_t)m->n_holders + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	m->holders = grown;
	struct av_holder *h = &grown[m->n_holders++];
	memset(h, 0, sizeof(*h));
	snprintf(h->device_id, sizeof(h->device_id), "%s", id);
	if (!e)
		return h;
	char vm[64];
	bool is_vm = av_virt_launcher_vm(e->pod, vm, sizeof(vm));
	h->ns = dup_or_null(e->ns);
	h->pod = dup_or_null(e->pod);
	h->container = dup_or_null(e->container);
	h->vm = is_vm ? strdup(vm) : NULL;
	if ((e->ns && !h->ns) || (e->pod && !h->pod) || (e->container && !h->container) || (is_vm && !h->vm))
		return NULL;
	return h;
}

static int device_holder(struct av_model *m, const struct av_resources *r, const struct av_plugin_device *d,
                         const struct av_pr_answer *pr, const struct av_vfio_users *users)
{
	const struct av_pr_entry *e = assigned_to(pr, r->resource, d->id);
	int n_users = 0;
	for (int i = 0; users && d->group >= 0 && i < users->n; i++)
		n_users += users->v[i].group == d->group;
	if (!e && n_users == 0)
		return 0;
	struct av_holder *h = new_holder(m, d->id, e);
	if (!h)
		return -ENOMEM;
	h->advertised = true;
	for (int k = 0; k < d->n_funcs; k++)
		if (av_int_push(&h->funcs, &h->n_funcs, d->funcs[k]) < 0)
			return -ENOMEM;
	for (int i = 0; n_users && i < users->n; i++) {
		if (users->v[i].group != d->group)
			continue;
		if (av_int_push(&h->pids, &h->n_pids, users->v[i].pid) < 0)
			return -ENOMEM;
		if (!h->pod_uid && users->v[i].pod_uid[0] && !(h->pod_uid = strdup(users->v[i].pod_uid)))
			return -ENOMEM;
	}
	m->holders_known = true;
	return 0;
}

/* What kubelet says that the plugin's list does not. */
static int kubelet_problems(struct av_model *m, const struct av_resources *r, const struct av_pr_answer *pr)
{
	struct av_kubelet_view *k = &m->kubelet;
	for (int i = 0; i < pr->n_assigned; i++) {
		const struct av_pr_entry *e = &pr->assigned[i];
		if (strcmp(e->resource, r->resource) != 0)
			continue;
		for (int j = 0; j < e->n_ids; j++) {
			if (advertised(r, e->ids[j]))
				continue;
			if (!new_holder(m, e->ids[j], e)
			    || push_str(&k->problems, &k->n_problems,
			                av_strdup_printf("kubelet gives %s %s to pod %s/%s; not advertised here",
			                                 r->resource, e->ids[j], e->ns ? e->ns : "?",
			                                 e->pod ? e->pod : "?")) < 0)
				return -ENOMEM;
		}
	}
	if (!pr->have_allocatable)
		return 0;
	for (int i = 0; i < pr->n_allocatable; i++) {
		const struct av_pr_entry *e = &pr->allocatable[i];
		if (strcmp(e->resource, r->resource) != 0)
			continue;
		for (int j = 0; j < e->n_ids; j++)
			if (!listed(m, e->ids[j]) && push_str(&k->devices, &k->n_devices, strdup(e->ids[j])) < 0)
				return -ENOMEM;
	}
	for (int i = 0; i < k->n_devices; i++)
		if (!advertised(r, k->devices[i])
		    && push_str(&k->problems, &k->n_problems,
		                av_strdup_printf("kubelet lists %s %s; not advertised here", r->resource,
		                                 k->devices[i])) < 0)
			return -ENOMEM;
	for (int i = 0; i < r->n_devices; i++)
		if (!listed(m, r->devices[i].id)
		    && push_str(&k->problems, &k->n_problems,
		                av_strdup_printf("%s %s advertised here; kubelet does not list it", r->resource,
		                                 r->devices[i].id)) < 0)
			return -ENOMEM;
	return 0;
}

int av_holders_build(struct av_model *m, const struct av_resources *r, const struct av_pr_answer *pr,
                     enum av_kubelet_state state, const char *error, const struct av_vfio_users *users)
{
	int rc = 0;

	av_model_clear_holders(m);
	m->kubelet.state = pr ? AV_KUBELET_OK : state;
	if (!pr && error && !(m->kubelet.error = strdup(error)))
		rc = -ENOMEM;
	m->kubelet.have_allocatable = pr && pr->have_allocatable;
	m->holders_known = pr != NULL;
	for (int i = 0; rc == 0 && i < r->n_devices; i++)
		rc = device_holder(m, r, &r->devices[i], pr, users);
	if (rc == 0 && pr)
		rc = kubelet_problems(m, r, pr);
	if (rc < 0)
		av_model_clear_holders(m);
	return rc;
}

void av_holder_describe(const struct av_holder *h, char *buf, size_t size)
{
	const char *ns = h->ns ? h->ns : "?";
	size_t n;

	if (h->vm)
		snprintf(buf, size, "vm %s (%s/%s)", h->vm, ns, h->pod);
	else if (h->pod)
		snprintf(buf, size, "pod %s/%s", ns, h->pod);
	else if (h->n_pids && h->pod_uid)
		snprintf(buf, size, "pid %d (pod uid %s)", h->pids[0], h->pod_uid);
	else {
		snprintf(buf, size, "pid");
		for (int i = 0; i < h->n_pids && (n = strlen(buf)) < size; i++)
			snprintf(buf + n, size - n, "%s %d", i ? "," : "", h->pids[i]);
	}
}

void av_holder_short(const struct av_holder *h, char *buf, size_t size)
{
	if (h->vm)
		snprintf(buf, size, "vm %s", h->vm);
	else if (h->pod)
		snprintf(buf, size, "pod %s", h->pod);
	else if (h->n_pids)
		snprintf(buf, size, "pid %d", h->pids[0]);
	else
		snprintf(buf, size, "?");
}
