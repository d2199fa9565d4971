/* libFuzzer target: what a peer on the plugin socket controls.
 *
 * Even first byte: the bytes after it are HTTP/2 frames sent (after the
 * client preface) to the real server and DevicePlugin service over a
 * socketpair, on a fixed list of 8 devices in two hives.  Odd first byte:
 * they are DATA payloads cut into chunks (sizes taken from the input) for
 * the gRPC message reader, and every message is decoded as each request
 * type and run through the allocation policy. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/evloop.h"
#include "grpc/frame.h"
#include "grpc/server.h"
#include "plugin/alloc.h"
#include "plugin/service.h"
#include "plugin/deviceplugin.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fixture(struct av_model *m, struct av_resources *r)
{
	memset(m, 0, sizeof(*m));
	memset(r, 0, sizeof(*r));
	snprintf(r->resource, sizeof(r->resource), "amd.com/gpu");
	m->funcs = calloc(8, sizeof(*m->funcs));
	m->n_funcs = 8;
	m->hives = calloc(2, sizeof(*m->hives));
	m->n_hives = 2;
	snprintf(m->hives[0].id, sizeof(m->hives[0].id), "h0");
	snprintf(m->hives[1].id, sizeof(m->hives[1].id), "h1");
	r->devices = calloc(8, sizeof(*r->devices));
	r->n_devices = 8;
	for (int i = 0; i < 8; i++) {
		snprintf(m->funcs[i].bdf, sizeof(m->funcs[i].bdf), "0000:%02x:00.0", 0x10 * (i + 1));
		snprintf(m->funcs[i].driver, sizeof(m->funcs[i].driver), "vfio-pci");
		snprintf(r->devices[i].id, sizeof(r->devices[i].id), "%d", 20 + i);
		r->devices[i].group = 20 + i;
		r->devices[i].funcs = calloc(1, sizeof(int));
		r->devices[i].funcs[0] = i;
		r->devices[i].n_funcs = 1;
		r->devices[i].numa_node = i / 4 - (i == 7);
		r->devices[i].hive = i / 4;
		r->devices[i].healthy = i != 5;
	}
}

static int drop(void *user, uint8_t *msg, size_t len)
{
	struct av_model *m = ((void **)user)[0];
	struct av_resources *r = ((void **)user)[1];
	V1beta1__AllocateRequest *a = v1beta1__allocate_request__unpack(NULL, len, msg);
	V1beta1__PreferredAllocationRequest *p =
		v1beta1__preferred_allocation_request__unpack(NULL, len, msg);
	V1beta1__RegisterRequest *g = v1beta1__register_request__unpack(NULL, len, msg);
	char why[256];

	for (size_t c = 0; a != NULL && c < a->n_container_requests; c++) {
		const V1beta1__ContainerAllocateRequest *q = a->container_requests[c];
		int *devs = calloc(q->n_devices_ids + 1, sizeof(int));

		if (av_alloc_check(r, m, (const char *const *)q->devices_ids, (int)q->n_devices_ids,
		                   devs, why, sizeof(why)) == 0) {
			struct av_alloc_grant gr;

			if (av_alloc_grant(r, m, devs, (int)q->n_devices_ids, &gr) == 0)
				av_alloc_grant_clear(&gr);
		}
		free(devs);
	}
	for (size_t c = 0; p != NULL && c < p->n_container_requests; c++) {
		const V1beta1__ContainerPreferredAllocationRequest *q = p->container_requests[c];
		int avail[16], must[16], out[16], na = 0, nm = 0;

		for (size_t i = 0; i < q->n_available_deviceids && na < 16; i++)
			if ((avail[na] = av_alloc_find(r, q->available_deviceids[i])) >= 0)
				na++;
		for (size_t i = 0; i < q->n_must_include_deviceids && nm < 16; i++)
			if ((must[nm] = av_alloc_find(r, q->must_include_deviceids[i])) >= 0)
				nm++;
		if (q->allocation_size > 0 && q->allocation_size <= na && nm <= q->allocation_size)
			av_alloc_prefer(r, avail, na, must, nm, q->allocation_size, out);
	}
	if (a != NULL)
		v1beta1__allocate_request__free_unpacked(a, NULL);
	if (p != NULL)
		v1beta1__preferred_allocation_request__free_unpacked(p, NULL);
	if (g != NULL)
		v1beta1__register_request__free_unpacked(g, NULL);
	free(msg);
	return 0;
}

static void fuzz_reader(const uint8_t *data, size_t size)
{
	struct av_model m;
	struct av_resources r;
	void *ctx[2] = { &m, &r };
	struct av_grpc_reader rd;
	size_t i = 0;

	fixture(&m, &r);
	av_grpc_reader_init(&rd, 1 << 16);
	while (i < size) {
		size_t chunk = 1 + data[i] % 64;

		i++;
		if (chunk > size - i)
			chunk = size - i;
		if (av_grpc_reader_feed(&rd, data + i, chunk, drop, ctx) != 0)
			break;
		i += chunk;
	}
	av_grpc_reader_clear(&rd);
	av_resources_clear(&r);
	av_model_free(&m);
}

static void fuzz_server(const uint8_t *data, size_t size)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	struct av_loop *loop = av_loop_new();
	struct av_plugin plugin;
	struct av_model m;
	struct av_resources r;
	struct av_grpc_server *srv;
	size_t n_methods;
	const struct av_grpc_method *methods = av_plugin_methods(&n_methods);
	int sv[2];
	uint8_t sink[65536];

	av_plugin_init(&plugin);
	fixture(&m, &r);
	av_plugin_update(&plugin, &m, &r);
	srv = av_grpc_server_new(loop, -1, methods, n_methods, &plugin);
	if (srv == NULL || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	av_grpc_server_adopt(srv, sv[0]);
	if (write(sv[1], preface, sizeof(preface) - 1) < 0 || (size && write(sv[1], data, size) < 0))
		abort();
	shutdown(sv[1], SHUT_WR);
	for (int turn = 0; turn < 16 && av_grpc_server_connections(srv) > 0; turn++) {
		av_loop_run_once(loop, 0);
		while (read(sv[1], sink, sizeof(sink)) > 0)
			;
	}
	/* A change while streams may be open, then shutdown as on SIGTERM. */
	fixture(&m, &r);
	r.devices[0].healthy = false;
	av_plugin_update(&plugin, &m, &r);
	av_plugin_stop(&plugin);
	av_loop_run_once(loop, 0);
	av_grpc_server_free(srv);
	close(sv[1]);
	av_plugin_clear(&plugin);
	av_loop_free(loop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_reader(data + 1, size - 1);
	else
		fuzz_server(data + 1, size - 1);
	return 0;
}
