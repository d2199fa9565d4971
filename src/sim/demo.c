/* A private copy of the demo host with the simulated kernel attached. */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/demo.h"
#include "sim/sim.h"

/* The file a copy stopped at, for the one line that says so. */
static char failed_at[PATH_MAX];

struct sim_demo {
	char root[PATH_MAX];
	struct sim *k;
	struct av_host *host;
};

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	/* the copy is the run's own: writable by its owner whatever the source */
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode & 07777) | 0200);
	if (out < 0) {
		int e = errno;
		close(in);
		return -e;
	}
	ssize_t n;
	int r = 0;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
	if (n < 0)
		r = -errno;
	close(in);
	if (close(out) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Depth-first copy; links are copied as links (the tree's links are
 * relative and stay inside it). */
static int copy_tree(const char *from, const char *to)
{
	struct stat st;
	if (lstat(from, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		char t[PATH_MAX];
		ssize_t n = readlink(from, t, sizeof(t) - 1);
		if (n < 0)
			return -errno;
		t[n] = '\0';
		return symlink(t, to) < 0 ? -errno : 0;
	}
	if (S_ISREG(st.st_mode)) {
		int r = copy_file(from, to, st.st_mode);
		if (r < 0)
			snprintf(failed_at, sizeof(failed_at), "%s", from);
		return r;
	}
	if (!S_ISDIR(st.st_mode))
		return 0; /* the demo holds no devices or sockets */
	if (mkdir(to, (st.st_mode & 07777) | 0700) < 0 && errno != EEXIST)
		return -errno;
	DIR *d = opendir(from);
	if (!d)
		return -errno;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *a = NULL, *b = NULL;
		if (asprintf(&a, "%s/%s", from, e->d_name) < 0 || asprintf(&b, "%s/%s", to, e->d_name) < 0)
			r = -ENOMEM;
		else
			r = copy_tree(a, b);
		free(a);
		free(b);
	}
	closedir(d);
	return r;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void remove_tree(const char *root)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* $TMPDIR when set; else a memory file system (the copy is some 3500
 * small files, several times faster to make there than on a disk): the
 * user's runtime directory, /dev/shm; else /tmp. */
static const char *tmp_dir(void)
{
	const char *t = getenv("TMPDIR");
	if (t && *t)
		return t;
	t = getenv("XDG_RUNTIME_DIR");
	if (t && *t && access(t, W_OK | X_OK) == 0)
		return t;
	if (access("/dev/shm", W_OK | X_OK) == 0)
		return "/dev/shm";
	return "/tmp";
}

struct sim_demo *sim_demo_open(const char *pristine, struct av_host **host, char **cause)
{
	struct sim_demo *d = calloc(1, sizeof(*d));
	char *why = NULL;
	int r;
	if (!d)
		return NULL;
	snprintf(d->root, sizeof(d->root), "%s/amdvirt-demo-XXXXXX", tmp_dir());
	if (!mkdtemp(d->root)) {
		if (asprintf(&why, "%s: %s", d->root, strerror(errno)) < 0)
			why = NULL;
		free(d);
		goto fail;
	}
	failed_at[0] = '\0';
	if ((r = copy_tree(pristine, d->root)) < 0) {
		if (asprintf(&why, "copying the demo host %s to %s: %s%s%s", pristine, d->root,
		             failed_at[0] ? failed_at : "", failed_at[0] ? ": " : "", strerror(-r)) < 0)
			why = NULL;
		goto fail_copy;
	}
	if (!(d->host = av_host_open(d->root, &why)))
		goto fail_copy;
	if (!(d->k = sim_adopt(d->root, &why))) {
		av_host_free(d->host);
		goto fail_copy;
	}
	sim_attach(d->k, d->host);
	*host = d->host;
	return d;
fail_copy:
	remove_tree(d->root);
	free(d);
fail:
	if (cause)
		*cause = why;
	else
		free(why);
	return NULL;
}

const char *sim_demo_root(const struct sim_demo *d)
{
	return d->root;
}

void sim_demo_close(struct sim_demo *d)
{
	if (!d)
		return;
	sim_free(d->k);
	remove_tree(d->root);
	free(d);
}
