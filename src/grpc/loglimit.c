#include "config.h"

#include "grpc/loglimit.h"
#include "base/log.h"

void av_loglimit_flush(struct av_loglimit *l, int64_t now)
{
	if (l->dropped > 0)
		av_log("%lu more %s in the last %lld s not logged", l->dropped, l->what,
		       (long long)((now - l->start + 999) / 1000));
	l->dropped = 0;
	l->used = 0;
	l->start = now;
}

int64_t av_loglimit_tick(struct av_loglimit *l, int64_t now)
{
	if (now - l->start < l->window_ms)
		return l->dropped > 0 ? l->start + l->window_ms - now : -1;
	av_loglimit_flush(l, now);
	return -1;
}

bool av_loglimit_take(struct av_loglimit *l, int64_t now)
{
	av_loglimit_tick(l, now);
	if (l->used < l->burst) {
		l->used++;
		return true;
	}
	l->dropped++;
	return false;
}
