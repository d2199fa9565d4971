/* When to try again. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "k8s/client.h"
#include "base/textsafe.h"
#include "base/util.h"

#define TIMEOUT_DEFAULT_MS 30000

int av_k8s_timeout_env(long *ms, char **cause)
{
	const char *t = getenv("AMDVIRT_API_TIMEOUT");
	*ms = TIMEOUT_DEFAULT_MS;
	if (!t || !*t)
		return 0;
	char *end;
	errno = 0;
	double s = strtod(t, &end);
	/* "!(s >= 0.001)" also holds for NaN. */
	if (end == t || *end || errno || !(s >= 0.001) || s >= 3600) {
		av_set_cause(cause, "AMDVIRT_API_TIMEOUT '%s': give the seconds one API request may "
		             "take, a number above 0 and below 3600", AV_SAFE(t));
		return -EINVAL;
	}
	*ms = (long)(s * 1000);
	return 0;
}

struct av_k8s_retry av_k8s_retry_defaults(void)
{
	struct av_k8s_retry r = {
		.max_attempts = 6,
		.base_ms = 250,
		.cap_ms = 8000,
		.retry_after_cap_ms = 60000,
	};
	av_k8s_timeout_env(&r.timeout_ms, NULL);
	return r;
}

bool av_k8s_retryable(long status)
{
	return status == 0 || status == 429 || (status >= 500 && status <= 599);
}

long av_k8s_backoff_ms(const struct av_k8s_retry *r, int attempt, long retry_after_s,
                       unsigned int *seed)
{
	if (retry_after_s >= 0) {
		long ms = retry_after_s > r->retry_after_cap_ms / 1000 ? r->retry_after_cap_ms
		                                                       : retry_after_s * 1000;
		return ms;
	}
	long d = r->base_ms;
	for (int i = 0; i < attempt && d < r->cap_ms; i++)
		d *= 2;
	if (d > r->cap_ms)
		d = r->cap_ms;
	/* Half fixed, half random: agents restarted together (a DaemonSet
	 * rollout) spread out instead of retrying in lockstep. */
	long half = d / 2;
	return half + (half > 0 ? (long)(rand_r(seed) % (half + 1)) : 0);
}
