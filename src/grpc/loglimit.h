/* A cap on log lines that peers can cause (one per stream or connection
 * otherwise: a client churning connections wrote 123 k lines a minute).
 * At most burst lines per window; the others are counted, and one line
 * then says how many were left out. */
#ifndef AV_GRPC_LOGLIMIT_H
#define AV_GRPC_LOGLIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct av_loglimit {
	const char *what;            /* "lines about gRPC peers" */
	int burst;
	int64_t window_ms;
	int64_t start;               /* of the current window */
	int used;
	unsigned long dropped;
};

/* Whether a line may be written now (counts it either way). */
bool av_loglimit_take(struct av_loglimit *l, int64_t now);
/* Writes the summary of a finished window.  Returns the milliseconds until
 * it should be called again, -1 when nothing is left out. */
int64_t av_loglimit_tick(struct av_loglimit *l, int64_t now);
/* Writes the summary now (shutdown) and starts a new window. */
void av_loglimit_flush(struct av_loglimit *l, int64_t now);

#endif
