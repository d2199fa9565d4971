/* The v1beta1.DevicePlugin service over the current device list.
 *
 * The daemon owns the model and device list and hands each new one to
 * av_plugin_update(); every open ListAndWatch stream then gets the full
 * list again when anything a kubelet sees changed. */
#ifndef AV_PLUGIN_SERVICE_H
#define AV_PLUGIN_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

#include "grpc/server.h"
#include "host/model.h"
#include "host/resources.h"

struct av_plugin {
	struct av_model model;
	struct av_resources res;
	bool have_model;
	struct av_grpc_call **watchers;   /* open ListAndWatch streams */
	int n_watchers, cap_watchers;
	bool stopped;                     /* answer ListAndWatch with an empty list */
};

/* The method table for av_grpc_server_new (user = struct av_plugin *). */
const struct av_grpc_method *av_plugin_methods(size_t *n);

void av_plugin_init(struct av_plugin *p);
/* Takes ownership of model and res.  Returns true when the list kubelet
 * sees (IDs, health, NUMA) changed; streams have then been sent it. */
bool av_plugin_update(struct av_plugin *p, struct av_model *model, struct av_resources *res);
/* Sends every stream an empty list and ends it (shutdown). */
void av_plugin_stop(struct av_plugin *p);
/* Frees the model and list; streams must be gone (server freed). */
void av_plugin_clear(struct av_plugin *p);

#endif
