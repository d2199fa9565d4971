/* One line for people when the API server says no. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "k8s/client.h"
#include "base/util.h"

/* The Status object's message, which names the user the server saw. */
static char *server_message(const struct av_k8s_response *r)
{
	cJSON *doc = r->body ? cJSON_Parse(r->body) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
	char *out = cJSON_IsString(m) && *m->valuestring ? strdup(m->valuestring) : NULL;
	cJSON_Delete(doc);
	return out;
}

char *av_k8s_status_cause(const struct av_k8s *k, const struct av_k8s_response *r,
                          const char *verb, const char *resource, const char *group,
                          const char *what)
{
	char *msg = server_message(r), *out;
	switch (r->status) {
	case 401:
		out = av_strdup_printf("unauthorized: the API server refused the credentials of %s "
		                       "(%s %s)", av_k8s_origin(k), verb, what);
		break;
	case 403:
		out = av_strdup_printf("forbidden: cannot %s %s: RBAC must allow verb \"%s\" on "
		                       "resource \"%s\" in API group \"%s\" for %s (see k8s/rbac.yaml)",
		                       verb, what, verb, resource, group, av_k8s_origin(k));
		break;
	case 404:
		out = av_strdup_printf("%s not found", what);
		break;
	case 409:
		out = av_strdup_printf("%s changed while it was being updated (409 Conflict)", what);
		break;
	default:
		out = av_strdup_printf("cannot %s %s: HTTP %ld%s%s", verb, what, r->status,
		                       msg ? ": " : "", msg ? msg : "");
		break;
	}
	free(msg);
	return out;
}
