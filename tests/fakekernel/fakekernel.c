/* Failure and death injection on the simulated kernel's gate. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fakekernel.h"

struct inj {
	int ops;
	int fail_nth, fail_nth_err;
	int die_nth;              /* SIGKILL before (or after, die_after) that operation */
	bool die_after;
	int signal_nth, signal_nth_sig;
	char fail_path[256];
	int fail_path_err;
};

/* One fake kernel per test process; shared with its children. */
static struct inj *inj;

static struct inj *state(void)
{
	if (!inj) {
		void *p = mmap(NULL, sizeof(*inj), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			abort();
		inj = p;
	}
	return inj;
}

void fk_fail_nth(struct sim *k, int n, int err)
{
	struct inj *s = state();
	(void)k;
	s->fail_nth = n > 0 ? s->ops + n : 0;
	s->fail_nth_err = err;
}

void fk_fail_path(struct sim *k, const char *suffix, int err)
{
	struct inj *s = state();
	(void)k;
	snprintf(s->fail_path, sizeof(s->fail_path), "%s", suffix ? suffix : "");
	s->fail_path_err = err;
}

void fk_die_nth(struct sim *k, int n, bool after)
{
	struct inj *s = state();
	(void)k;
	s->die_nth = n > 0 ? s->ops + n : 0;
	s->die_after = after;
}

void fk_signal_nth(struct sim *k, int n, int sig)
{
	struct inj *s = state();
	(void)k;
	s->signal_nth = n > 0 ? s->ops + n : 0;
	s->signal_nth_sig = sig;
}

int fk_ops(const struct sim *k)
{
	(void)k;
	return state()->ops;
}

static void die(struct inj *s)
{
	s->die_nth = 0;
	kill(getpid(), SIGKILL);
	_exit(137); /* not reached */
}

/* Counts the operation; returns the injected error or 0. */
static int before(void *user, const char *path)
{
	struct inj *s = user;
	s->ops++;
	if (s->die_nth && !s->die_after && s->ops == s->die_nth)
		die(s);
	if (s->signal_nth && s->ops == s->signal_nth) {
		s->signal_nth = 0;
		kill(getpid(), s->signal_nth_sig);
	}
	if (s->fail_nth && s->ops == s->fail_nth) {
		s->fail_nth = 0;
		return -s->fail_nth_err;
	}
	size_t n = strlen(s->fail_path), len = path ? strlen(path) : 0;
	if (n && len >= n && strcmp(path + len - n, s->fail_path) == 0)
		return -s->fail_path_err;
	return 0;
}

/* After an operation: the death planned for just after it. */
static void after(void *user)
{
	struct inj *s = user;
	if (s->die_nth && s->die_after && s->ops == s->die_nth)
		die(s);
}

static void env_injection(struct sim *k)
{
	const char *s = getenv("FAKEKERNEL_FAIL_NTH");
	if (s && *s) {
		const char *c = strchr(s, ':');
		fk_fail_nth(k, atoi(s), c ? atoi(c + 1) : EIO);
	}
	s = getenv("FAKEKERNEL_DIE_NTH");
	if (s && *s)
		fk_die_nth(k, atoi(s), strstr(s, ":after") != NULL);
	s = getenv("FAKEKERNEL_FAIL_PATH");
	if (s && *s) {
		char suffix[256];
		snprintf(suffix, sizeof(suffix), "%s", s);
		char *c = strrchr(suffix, ':');
		int err = EIO;
		if (c) {
			*c = '\0';
			err = atoi(c + 1);
		}
		fk_fail_path(k, suffix, err);
	}
}

void fk_attach(struct sim *k, struct av_host *host)
{
	struct inj *s = state();
	memset(s, 0, sizeof(*s));
	sim_attach(k, host);
	sim_set_gate(k, &(struct sim_gate){ .before = before, .after = after, .user = s });
	env_injection(k);
}
