/* Interrupted plans on the fake kernel: a bind, unbind or gim load killed
 * (SIGKILL, no cleanup) just before or just after each of its kernel
 * operations, then only the undo command run: the whole host tree must be
 * as it was.  And signals that arrive during a plan: deferred until the
 * unit being changed is done or rolled back, then acting as they would. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions/kmod.h"
#include "actions_fixture.h"
#include "checks/checks.h"
#include "host/mode.h"

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	fx_setup(x);
	/* Undo never unloads vfio-pci (other groups may use it), so the host
	 * before already has it, as every host after its first bind does; and
	 * amdvirt's own directories exist, as on any host it has run on. */
	assert_int_equal(av_kmod_load(x->host, "vfio-pci", "", NULL), 0);
	char *cmd = NULL;
	assert_true(asprintf(&cmd, "mkdir -p '%s/run' '%s/var/lib/amdvirt'", x->root, x->root) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	*state = x;
	return 0;
}

/* The gim host: amdgpu off 05:00.0 first, so gim may claim both PFs. */
static int setup_gim(void **state)
{
	setup(state);
	struct fx *x = *state;
	assert_int_equal(av_write(x->host, "/sys/bus/pci/drivers/amdgpu/unbind", "0000:05:00.0"), 0);
	return 0;
}

static int teardown(void **state)
{
	fx_teardown(*state);
	free(*state);
	return 0;
}

/* The whole tree: every path with its type and its content or target,
 * sorted.  The lock file is left out: it is where amdvirt serialises, not
 * host state, and it stays once made. */
static FILE *tree_out;
static size_t tree_root_len;

static int tree_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + tree_root_len;
	(void)ftw;
	if (strcmp(rel, "/run/amdvirt.lock") == 0)
		return 0;
	if (flag == FTW_SL) {
		char t[4096];
		ssize_t n = readlink(path, t, sizeof(t) - 1);
		t[n > 0 ? n : 0] = '\0';
		fprintf(tree_out, "%s -> %s\n", rel, t);
	} else if (S_ISREG(st->st_mode)) {
		char buf[8192];
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		fprintf(tree_out, "%s = ", rel);
		/* one line per entry, whatever the content */
		for (size_t i = 0; i < n; i++)
			fputs(buf[i] == '\n' ? "\\n" : buf[i] == '\t' ? " " : (char[]){ buf[i], 0 }, tree_out);
		fputc('\n', tree_out);
	} else {
		fprintf(tree_out, "%s/\n", rel);
	}
	return 0;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *tree(struct fx *x)
{
	char *raw = NULL, *out = NULL;
	size_t len = 0;
	tree_out = open_memstream(&raw, &len);
	tree_root_len = strlen(x->root);
	assert_int_equal(nftw(x->root, tree_one, 16, FTW_PHYS), 0);
	fclose(tree_out);
	/* readdir order is not content: sort the entries */
	char **lines = NULL;
	int n = 0;
	for (char *save = NULL, *l = strtok_r(raw, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		lines = realloc(lines, ((size_t)n + 1) * sizeof(*lines));
		lines[n++] = l;
	}
	qsort(lines, (size_t)n, sizeof(*lines), cmp_lines);
	FILE *f = open_memstream(&out, &len);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\n", lines[i]);
	fclose(f);
	free(lines);
	free(raw);
	return out;
}

/* The first line where two trees differ, for the failure message. */
static const char *diff_at(const char *a, const char *b, char *buf, size_t size)
{
	const char *la = a, *lb = b;
	while (*la && *lb) {
		size_t na = strcspn(la, "\n"), nb = strcspn(lb, "\n");
		if (na != nb || memcmp(la, lb, na)) {
			snprintf(buf, size, "before: %.*s / after: %.*s", (int)na, la, (int)nb, lb);
			return buf;
		}
		la += na + (la[na] ? 1 : 0);
		lb += nb + (lb[nb] ? 1 : 0);
	}
	snprintf(buf, size, "before: %.200s / after: %.200s", la, lb);
	return buf;
}

typedef int (*plan_fn)(struct fx *x, struct av_plan *p);

static const char *const pf05[] = { "0000:05:00.0" };
static const char *const pf06[] = { "0000:06:00.0" };
static const char *const pf07[] = { "0000:07:00.0" };

static int bind05(struct fx *x, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host };
	fx_discover(x, AV_MODE_PF);
	return av_plan_bind(&x->m, pf05, 1, &o, p);
}

static int unbind05(struct fx *x, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host };
	fx_discover(x, AV_MODE_PF);
	return av_plan_unbind(&x->m, x->host, pf05, 1, &o, p);
}

static int bind06(struct fx *x, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host };
	fx_discover(x, AV_MODE_PF);
	return av_plan_bind(&x->m, pf06, 1, &o, p);
}

static int unbind06(struct fx *x, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host };
	fx_discover(x, AV_MODE_PF);
	return av_plan_unbind(&x->m, x->host, pf06, 1, &o, p);
}

static int bind07(struct fx *x, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host, .force = true };
	fx_discover(x, AV_MODE_PF);
	return av_plan_bind(&x->m, pf07, 1, &o, p);
}

static int unbind07(struct fx *x, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host };
	fx_discover(x, AV_MODE_PF);
	return av_plan_unbind(&x->m, x->host, pf07, 1, &o, p);
}

static int bind_all(struct fx *x, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host, .all = true, .force = true };
	fx_discover(x, AV_MODE_PF);
	return av_plan_bind(&x->m, NULL, 0, &o, p);
}

static int unbind_all(struct fx *x, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host, .all = true };
	fx_discover(x, AV_MODE_PF);
	return av_plan_unbind(&x->m, x->host, NULL, 0, &o, p);
}

static int gim_load(struct fx *x, struct av_plan *p)
{
	static const char *const params[] = { "vf_num=2" };
	struct av_action_opts o = { .host = x->host, .params = params, .n_params = 1 };
	fx_discover(x, AV_MODE_VF);
	return av_plan_gim_load(&x->m, &o, p);
}

static int gim_unload(struct fx *x, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host };
	fx_discover(x, AV_MODE_VF);
	return av_plan_gim_unload(&x->m, &o, p);
}

/* The VFs gim made, bound: what `gim load --bind` does second. */
static int bind_vfs(struct fx *x, struct av_plan *p)
{
	struct av_action_opts o = { .host = x->host, .all = true };
	fx_discover(x, AV_MODE_VF);
	return av_plan_bind(&x->m, NULL, 0, &o, p);
}

/* Plans and runs; the plan must be refusal-free and succeed. */
static void run_ok(struct fx *x, plan_fn fn, const char *what)
{
	struct av_plan p;
	char *cause = NULL;
	assert_int_equal(fn(x, &p), 0);
	if (p.n_refusals)
		fail_msg("%s refused: %s", what, p.refusals[0]);
	int r = av_plan_execute(x->host, &p, NULL, &cause);
	if (r < 0)
		fail_msg("%s failed: %s", what, cause ? cause : "?");
	av_plan_clear(&p);
	free(cause);
}

/* Runs the plan in a child that the fake kernel kills around operation n
 * (counted from the plan's start); returns how the child ended. */
static int run_killed(struct fx *x, plan_fn fn, int n, bool after, int sig, int fail_at)
{
	struct av_plan p;
	assert_int_equal(fn(x, &p), 0);
	assert_int_equal(p.n_refusals, 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (sig)
			fk_signal_nth(x->k, n, sig);
		else
			fk_die_nth(x->k, n, after);
		if (fail_at)
			fk_fail_nth(x->k, fail_at, EIO);
		int r = av_plan_execute(x->host, &p, NULL, NULL);
		_exit(r == 0 ? 0 : 1);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fk_die_nth(x->k, 0, false);
	fk_signal_nth(x->k, 0, 0);
	fk_fail_nth(x->k, 0, 0);
	av_plan_clear(&p);
	return status;
}

/* prep (may be NULL) brings the host to where act starts; act is killed at
 * every point; only undo runs after.  The tree must equal the one before
 * prep.  Returns the number of points. */
static int kill_everywhere(struct fx *x, plan_fn prep, plan_fn act, plan_fn undo, const char *name)
{
	char *before = tree(x), why[1024];
	if (prep)
		run_ok(x, prep, "prep");
	int start = fk_ops(x->k);
	run_ok(x, act, name);
	int total = fk_ops(x->k) - start;
	assert_true(total >= 1);
	run_ok(x, undo, "undo");
	char *t = tree(x);
	if (strcmp(before, t))
		fail_msg("%s then undo: %s", name, diff_at(before, t, why, sizeof(why)));
	free(t);
	int points = 0;
	for (int i = 1; i <= total; i++)
		for (int after = 0; after <= 1; after++) {
			if (prep)
				run_ok(x, prep, "prep");
			int status = run_killed(x, act, i, after, 0, 0);
			if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
				fail_msg("%s: the kill %s operation %d/%d did not happen (status %#x)", name,
				         after ? "after" : "before", i, total, status);
			run_ok(x, undo, "undo");
			t = tree(x);
			if (strcmp(before, t))
				fail_msg("%s killed %s operation %d/%d, then undone: %s", name, after ? "after" : "before", i,
				         total, diff_at(before, t, why, sizeof(why)));
			free(t);
			points++;
		}
	free(before);
	return points;
}

static void bind_killed_then_unbind(void **state)
{
	struct fx *x = *state;
	/* a PF on amdgpu alone in its group, a PF with no driver, a group
	 * of two (GPU and audio), and every group at once */
	int n = kill_everywhere(x, NULL, bind05, unbind05, "bind 05:00.0");
	n += kill_everywhere(x, NULL, bind06, unbind06, "bind 06:00.0");
	n += kill_everywhere(x, NULL, bind07, unbind07, "bind --force 07:00.0");
	n += kill_everywhere(x, NULL, bind_all, unbind_all, "bind --all --force");
	print_message("bind: %d kill points, each undone by unbind alone\n", n);
	assert_true(n >= 32);
}

static void unbind_killed_then_unbind(void **state)
{
	struct fx *x = *state;
	int n = kill_everywhere(x, bind05, unbind05, unbind05, "unbind 05:00.0");
	n += kill_everywhere(x, bind07, unbind07, unbind07, "unbind 07:00.0");
	print_message("unbind: %d kill points, each finished by unbind\n", n);
}

static void gim_load_killed_then_unload(void **state)
{
	struct fx *x = *state;
	int n = kill_everywhere(x, NULL, gim_load, gim_unload, "gim load");
	/* gim load --bind: the VFs' bind killed, then gim unload alone */
	n += kill_everywhere(x, gim_load, bind_vfs, gim_unload, "gim load --bind");
	print_message("gim load: %d kill points, each undone by gim unload alone\n", n);
	assert_true(n >= 12);
}

/* What the issue reproduced, by hand: a function with no driver,
 * driver_override=vfio-pci and a record.  unbind's dry run shows the
 * repair, and `check` names the function and the fix. */
static void half_way_is_planned_and_checked(void **state)
{
	struct fx *x = *state;
	/* 05:00.0's bind killed after amdgpu let go, before the probe */
	int status = run_killed(x, bind05, 4, false, 0, 0);
	assert_true(WIFSIGNALED(status));
	assert_string_equal(fx_driver(x, "0000:05:00.0"), "");

	struct av_check_report rep;
	fx_discover(x, AV_MODE_PF);
	assert_int_equal(av_checks_run(x->host, NULL, &x->m, NULL, &rep), 0);
	const struct av_check_result *found = NULL;
	for (int i = 0; i < rep.n_results; i++)
		if (strcmp(rep.results[i].id, "state.interrupted") == 0 && strcmp(rep.results[i].subject, "0000:05:00.0") == 0)
			found = &rep.results[i];
	if (!found) {
		fail_msg("no state.interrupted result for 0000:05:00.0");
		return;
	}
	assert_int_equal(found->status, AV_CHECK_FAIL);
	assert_non_null(strstr(found->message, "amdgpu"));
	assert_non_null(strstr(found->hint, "amdvirt unbind 0000:05:00.0"));
	av_check_report_clear(&rep);

	struct av_plan p;
	assert_int_equal(unbind05(x, &p), 0);
	char *s = fx_print(&p);
	assert_string_equal(s,
		"unbind 0000:05:00.0 (group 11) from vfio-pci\n"
		"  note: 0000:05:00.0 is on (none) with driver_override \"vfio-pci\", half-way to vfio-pci (an interrupted "
		"bind or unbind): it is restored as recorded\n"
		"   0. lock    /run/amdvirt.lock\n"
		"   1. check   /sys/bus/pci/devices/0000:05:00.0 driver is (none)  (unchanged since planning)\n"
		"   2. write   /sys/bus/pci/devices/0000:05:00.0/driver_override <- \"amdgpu\"  (only the recorded driver may take it)\n"
		"   3. write   /sys/bus/pci/drivers/amdgpu/bind <- \"0000:05:00.0\"\n"
		"   4. verify  /sys/bus/pci/devices/0000:05:00.0 driver is amdgpu\n"
		"   5. write   /sys/bus/pci/devices/0000:05:00.0/driver_override <- \"\\n\"  (as recorded)\n"
		"   6. forget  /var/lib/amdvirt/state.json: 0000:05:00.0\n"
		"  on failure: the unit being changed is restored to its recorded state:\n"
		"      0000:05:00.0: driver (none), driver_override \"vfio-pci\"\n");
	free(s);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, NULL), 0);
	av_plan_clear(&p);
	assert_false(av_exists(x->host, "/var/lib/amdvirt/state.json"));

	/* a completed bind is not half-way: PASS */
	run_ok(x, bind05, "bind");
	fx_discover(x, AV_MODE_PF);
	assert_int_equal(av_checks_run(x->host, NULL, &x->m, NULL, &rep), 0);
	found = NULL;
	for (int i = 0; i < rep.n_results; i++)
		if (strcmp(rep.results[i].id, "state.interrupted") == 0 && strcmp(rep.results[i].subject, "0000:05:00.0") == 0)
			found = &rep.results[i];
	if (!found) {
		fail_msg("no state.interrupted result for 0000:05:00.0");
		return;
	}
	assert_int_equal(found->status, AV_CHECK_PASS);
	av_check_report_clear(&rep);
}

/* gim load killed before gim came up: autoprobe 0 and its record; gim
 * unload's dry run restores them. */
static void gim_half_way_is_planned(void **state)
{
	struct fx *x = *state;
	int status = run_killed(x, gim_load, 2, true, 0, 0);
	assert_true(WIFSIGNALED(status));
	struct av_plan p;
	assert_int_equal(gim_unload(x, &p), 0);
	char *s = fx_print(&p);
	assert_string_equal(s,
		"unload gim\n"
		"  note: gim is not loaded; what an interrupted gim load or unload left is restored\n"
		"   0. lock    /run/amdvirt.lock\n"
		"   1. write   /sys/bus/pci/devices/0000:05:00.0/sriov_drivers_autoprobe <- \"1\"  (as before gim was loaded)\n"
		"   2. write   /sys/bus/pci/devices/0000:06:00.0/sriov_drivers_autoprobe <- \"1\"  (as before gim was loaded)\n"
		"   3. forget  /var/lib/amdvirt/state.json: 0000:05:00.0 autoprobe, 0000:06:00.0 autoprobe\n"
		"  on failure: the unit being changed is restored to its recorded state:\n"
		"      0000:05:00.0: driver (none), driver_override \"\", sriov_drivers_autoprobe 0\n"
		"      0000:06:00.0: driver (none), driver_override \"\", sriov_drivers_autoprobe 0\n");
	free(s);
	av_plan_clear(&p);
}

/* A rolled-back first bind leaves no state file behind. */
static void rolled_back_first_bind_leaves_no_state_file(void **state)
{
	struct fx *x = *state;
	char *before = tree(x);
	fk_fail_path(x->k, "/drivers_probe", EIO);
	struct av_plan p;
	assert_int_equal(bind05(x, &p), 0);
	assert_int_equal(av_plan_execute(x->host, &p, NULL, NULL), -EIO);
	fk_fail_path(x->k, NULL, 0);
	av_plan_clear(&p);
	assert_false(av_exists(x->host, "/var/lib/amdvirt/state.json"));
	char *after = tree(x);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* SIGINT as the third operation begins (amdgpu's unbind): the process
 * does not die there; it finishes the group, then dies of the SIGINT. */
static void sigint_waits_for_the_plan(void **state)
{
	struct fx *x = *state;
	char buf[256];
	int status = run_killed(x, bind05, 3, false, SIGINT, 0);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGINT);
	assert_string_equal(fx_driver(x, "0000:05:00.0"), "vfio-pci");
	assert_true(av_exists(x->host, "/dev/vfio/11"));
	fx_read(x, "/var/lib/amdvirt/state.json", buf, sizeof(buf));
	assert_non_null(strstr(buf, "0000:05:00.0"));
}

/* The same SIGTERM with a failure later in the unit: rolled back first. */
static void sigterm_waits_for_the_rollback(void **state)
{
	struct fx *x = *state;
	char *before = tree(x);
	int status = run_killed(x, bind05, 2, false, SIGTERM, 4);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	char *after = tree(x);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* A signal during a plan of several groups: the group being changed is
 * finished, the next is not begun. */
static void signal_stops_before_the_next_group(void **state)
{
	struct fx *x = *state;
	char buf[1024];
	int status = run_killed(x, bind_all, 3, false, SIGINT, 0);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGINT);
	assert_string_equal(fx_driver(x, "0000:05:00.0"), "vfio-pci");
	assert_string_equal(fx_driver(x, "0000:06:00.0"), "");
	assert_string_equal(fx_read(x, "/sys/bus/pci/devices/0000:06:00.0/driver_override", buf, sizeof(buf)), "(null)");
	assert_string_equal(fx_driver(x, "0000:07:00.0"), "amdgpu");
	fx_read(x, "/var/lib/amdvirt/state.json", buf, sizeof(buf));
	assert_non_null(strstr(buf, "0000:05:00.0"));
	assert_null(strstr(buf, "0000:06:00.0"));
}

/* In-process: the cause says where the plan stopped. */
static void interrupted_plan_says_so(void **state)
{
	struct fx *x = *state;
	struct av_plan p;
	char *cause = NULL, *text = NULL;
	size_t len = 0;
	struct sigaction sa = { .sa_handler = SIG_IGN }, old;
	sigemptyset(&sa.sa_mask);
	/* ignored once delivered, but pending (so seen) while blocked */
	sigaction(SIGINT, &sa, &old);
	assert_int_equal(bind_all(x, &p), 0);
	fk_signal_nth(x->k, 3, SIGINT);
	FILE *log = open_memstream(&text, &len);
	assert_int_equal(av_plan_execute(x->host, &p, log, &cause), -EINTR);
	fclose(log);
	sigaction(SIGINT, &old, NULL);
	assert_string_equal(cause, "interrupted by SIGINT before group 21; the 1 unit before it stay done and recorded");
	assert_non_null(strstr(text, "SIGINT: stopping before group 21\n"));
	free(cause);
	free(text);
	av_plan_clear(&p);
}

/* The daemon blocks SIGHUP (a rescan) and SIGTERM for its signalfd: a
 * signal it reads itself never cuts a plan short; its stop waits for the
 * whole plan (tests/integration/drivers.sh). */
static void signals_blocked_by_the_caller_are_not_ours(void **state)
{
	struct fx *x = *state;
	struct av_plan p;
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	assert_int_equal(bind_all(x, &p), 0);
	fk_signal_nth(x->k, 3, SIGHUP);
	int r = av_plan_execute(x->host, &p, NULL, NULL);
	av_plan_clear(&p);
	struct timespec now = { 0 };
	int got = sigtimedwait(&set, NULL, &now);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	assert_int_equal(got, SIGHUP);
	assert_int_equal(r, 0);
	assert_string_equal(fx_driver(x, "0000:06:00.0"), "vfio-pci");
	assert_string_equal(fx_driver(x, "0000:07:00.0"), "vfio-pci");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bind_killed_then_unbind, setup, teardown),
		cmocka_unit_test_setup_teardown(unbind_killed_then_unbind, setup, teardown),
		cmocka_unit_test_setup_teardown(gim_load_killed_then_unload, setup_gim, teardown),
		cmocka_unit_test_setup_teardown(half_way_is_planned_and_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(gim_half_way_is_planned, setup_gim, teardown),
		cmocka_unit_test_setup_teardown(rolled_back_first_bind_leaves_no_state_file, setup, teardown),
		cmocka_unit_test_setup_teardown(sigint_waits_for_the_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(sigterm_waits_for_the_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(signal_stops_before_the_next_group, setup, teardown),
		cmocka_unit_test_setup_teardown(interrupted_plan_says_so, setup, teardown),
		cmocka_unit_test_setup_teardown(signals_blocked_by_the_caller_are_not_ours, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
