#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/podresources.h"
#include "cluster/podresources.pb-c.h"
#include "base/evloop.h"
#include "base/util.h"
#include "grpc/client.h"
#include "grpc/frame.h"

static int add_devices(struct av_pr_entry **v, int *n, const char *ns, const char *pod,
                       const char *container, V1__ContainerDevices *const *devs, size_t n_devs)
{
	for (size_t i = 0; i < n_devs; i++) {
		struct av_pr_entry *e = av_pr_add(v, n, ns, pod, container, devs[i]->resource_name);
		if (!e)
			return -ENOMEM;
		for (size_t k = 0; k < devs[i]->n_device_ids; k++)
			if (av_pr_add_id(e, devs[i]->device_ids[k]) < 0)
				return -ENOMEM;
	}
	return 0;
}

int av_podresources_decode_list(const uint8_t *buf, size_t len, struct av_pr_answer *out)
{
	V1__ListPodResourcesResponse *resp = v1__list_pod_resources_response__unpack(NULL, len, buf);
	int r = 0;

	if (!resp)
		return -EBADMSG;
	for (size_t p = 0; r == 0 && p < resp->n_pod_resources; p++) {
		const V1__PodResources *pod = resp->pod_resources[p];
		for (size_t c = 0; r == 0 && c < pod->n_containers; c++)
			r = add_devices(&out->assigned, &out->n_assigned, pod->namespace_, pod->name,
			                pod->containers[c]->name, pod->containers[c]->devices,
			                pod->containers[c]->n_devices);
	}
	v1__list_pod_resources_response__free_unpacked(resp, NULL);
	return r;
}

int av_podresources_decode_allocatable(const uint8_t *buf, size_t len, struct av_pr_answer *out)
{
	V1__AllocatableResourcesResponse *resp = v1__allocatable_resources_response__unpack(NULL, len, buf);
	int r;

	if (!resp)
		return -EBADMSG;
	r = add_devices(&out->allocatable, &out->n_allocatable, NULL, NULL, NULL, resp->devices,
	                resp->n_devices);
	v1__allocatable_resources_response__free_unpacked(resp, NULL);
	if (r == 0)
		out->have_allocatable = true;
	return r;
}

struct call {
	bool done;
	int code;
	char message[256];
	uint8_t *resp;
	size_t len;
};

static void on_reply(void *user, int code, const char *message, const uint8_t *resp, size_t len)
{
	struct call *c = user;

	c->done = true;
	c->code = code;
	snprintf(c->message, sizeof(c->message), "%s", message);
	if (code == 0 && (c->resp = malloc(len ? len : 1)) != NULL) {
		memcpy(c->resp, resp, len);
		c->len = len;
	}
}

/* One unary call, the loop run until its outcome (the client's own timer
 * bounds it). */
static int call(struct av_loop *loop, struct av_grpc_client *cl, const char *path,
                const ProtobufCMessage *req, int timeout_ms, struct call *c)
{
	int r = av_grpc_client_call(cl, path, req, timeout_ms, on_reply, c);
	if (r < 0)
		return r;
	while (!c->done)
		if ((r = av_loop_run_once(loop, -1)) < 0)
			return r;
	return 0;
}

static char *why(const char *sock, const char *what, const struct call *c)
{
	return av_strdup_printf("kubelet pod-resources %s: %s: %s%s%s", sock, what, av_grpc_code_name(c->code),
	                        c->message[0] ? ": " : "", c->message);
}

static int ask(struct av_loop *loop, struct av_grpc_client *cl, const char *sock, int timeout_ms,
               bool allocatable, struct av_pr_answer *out, char **cause)
{
	V1__ListPodResourcesRequest lreq = V1__LIST_POD_RESOURCES_REQUEST__INIT;
	V1__AllocatableResourcesRequest areq = V1__ALLOCATABLE_RESOURCES_REQUEST__INIT;
	struct call lc = { 0 }, ac = { 0 };
	int r;

	if ((r = call(loop, cl, "/v1.PodResourcesLister/List", &lreq.base, timeout_ms, &lc)) < 0) {
		*cause = av_strdup_printf("kubelet pod-resources %s: cannot call List: %s", sock, av_strerror(r));
		return r;
	}
	if (lc.code != 0) {
		*cause = why(sock, "List", &lc);
		return -EIO;
	}
	r = lc.resp ? av_podresources_decode_list(lc.resp, lc.len, out) : -ENOMEM;
	free(lc.resp);
	if (r == -EBADMSG)
		*cause = av_strdup_printf("kubelet pod-resources %s: List's reply is not a ListPodResourcesResponse",
		                          sock);
	if (r < 0 || !allocatable)
		return r;
	/* A kubelet without GetAllocatableResources still says who holds
	 * what; only the comparison with its list is lost. */
	if (call(loop, cl, "/v1.PodResourcesLister/GetAllocatableResources", &areq.base, timeout_ms, &ac) < 0
	    || ac.code != 0 || !ac.resp)
		goto out;
	r = av_podresources_decode_allocatable(ac.resp, ac.len, out);
	if (r == -EBADMSG)
		r = 0;
out:
	free(ac.resp);
	return r;
}

int av_podresources_query(const struct av_host *host, int timeout_ms, bool allocatable,
                          struct av_pr_answer *out, char **cause)
{
	char dir[4096], sock[4200];
	struct av_grpc_client *cl = NULL;
	struct av_loop *loop = NULL;
	struct stat st;
	int dirfd, r;

	memset(out, 0, sizeof(*out));
	*cause = NULL;
	av_host_path(host, AV_PODRESOURCES_DIR, dir, sizeof(dir));
	snprintf(sock, sizeof(sock), "%s/%s", dir, AV_PODRESOURCES_SOCK);
	dirfd = av_open_dir(host, AV_PODRESOURCES_DIR, false);
	if (dirfd >= 0 && fstatat(dirfd, AV_PODRESOURCES_SOCK, &st, 0) < 0)
		r = -errno;
	else
		r = dirfd < 0 ? dirfd : 0;
	if (r == -ENOENT || r == -ENOTDIR)
		goto done;
	if (r == 0 && !S_ISSOCK(st.st_mode))
		r = -ENOTSOCK;
	if (r == 0 && !(loop = av_loop_new()))
		r = errno ? -errno : -ENOMEM;
	if (r == 0)
		r = av_grpc_client_connect(loop, dirfd, dir, AV_PODRESOURCES_SOCK, &cl);
	if (r < 0) {
		*cause = av_strdup_printf("kubelet pod-resources %s: %s", sock, av_strerror(r));
		goto done;
	}
	r = ask(loop, cl, sock, timeout_ms, allocatable, out, cause);
done:
	av_grpc_client_free(cl);
	if (loop)
		av_loop_free(loop);
	if (dirfd >= 0)
		close(dirfd);
	if (r == -ENOENT || r == -ENOTDIR) {
		r = -ENOENT;
		free(*cause);
		*cause = av_strdup_printf("kubelet pod-resources %s: absent", sock);
	}
	if (r < 0)
		av_pr_answer_clear(out);
	if (r < 0 && !*cause)
		*cause = av_strdup_printf("kubelet pod-resources %s: %s", sock, av_strerror(r));
	return r;
}
