/* The two gRPC services of the DRA driver, on the project's gRPC server:
 * pluginregistration.Registration on the registration socket, and
 * DRAPlugin (v1 and v1beta1, whose messages are the same) on dra.sock.
 *
 * Prepare and Unprepare need the API server and may bind drivers, which
 * takes seconds: a handler hands the request to the daemon (request
 * callback) and the call stays open until the daemon answers it with
 * av_dra_reply, or the peer goes away. */
#ifndef AV_DRA_SERVICE_H
#define AV_DRA_SERVICE_H

#include <limits.h>
#include <stdbool.h>

#include "host/draclaims.h"
#include "grpc/server.h"

struct av_dra_request {
	bool unprepare;
	struct av_dra_claim *claims; /* uid, namespace_, name from kubelet; the
	                              * daemon fills the rest or error */
	int n;
	struct av_grpc_call *call;   /* NULL once the peer is gone */
	double t0;                   /* when it came in, for the log */
};

struct av_dra_service {
	/* Takes req; answer with av_dra_reply (from the loop's thread). */
	void (*request)(void *user, struct av_dra_request *req);
	/* kubelet's NotifyRegistrationStatus. */
	void (*registered)(void *user, bool ok, const char *error);
	void *user;
	char endpoint[PATH_MAX];     /* dra.sock's path as kubelet dials it */
};

/* Method tables for av_grpc_server_new (user = struct av_dra_service *). */
const struct av_grpc_method *av_dra_methods(size_t *n);
const struct av_grpc_method *av_dra_reg_methods(size_t *n);

/* Sends the answer (if the call is still open) and frees req. */
void av_dra_reply(struct av_dra_request *req);
void av_dra_request_free(struct av_dra_request *req);

#endif
