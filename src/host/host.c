#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/host.h"
#include "host/inroot.h"
#include "base/util.h"

struct av_host {
	char *root;          /* without a trailing slash; "" for "/" */
	int rootfd;
	av_write_hook write_hook;
	void *write_user;
};

/* Host paths are absolute; opens want them relative to the root fd. */
static const char *rel(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

struct av_host *av_host_open(const char *root, char **cause)
{
	struct av_host *h = calloc(1, sizeof(*h));
	if (!h) {
		av_set_cause(cause, "out of memory");
		return NULL;
	}
	if (!root || !*root)
		root = "/";
	size_t len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		len--;
	h->root = strndup(root, len == 1 && root[0] == '/' ? 0 : len);
	h->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!h->root || h->rootfd < 0) {
		av_set_cause(cause, "%s: %s", root, strerror(h->root ? errno : ENOMEM));
		av_host_free(h);
		return NULL;
	}
	return h;
}

void av_host_free(struct av_host *h)
{
	if (!h)
		return;
	if (h->rootfd >= 0)
		close(h->rootfd);
	free(h->root);
	free(h);
}

const char *av_host_root(const struct av_host *h)
{
	return *h->root ? h->root : "/";
}

bool av_host_is_real_root(const struct av_host *h)
{
	return !*h->root;
}

int av_host_rootfd(const struct av_host *h)
{
	return h->rootfd;
}

void av_host_set_write_hook(struct av_host *h, av_write_hook hook, void *user)
{
	h->write_hook = hook;
	h->write_user = user;
}

char *av_host_path(const struct av_host *h, const char *path, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", h->root, rel(path));
	return buf;
}

int av_open(const struct av_host *h, const char *path, int flags, int mode)
{
	return av_inroot_open(h->rootfd, path, flags, (mode_t)mode);
}

/* For reading: never waits on a FIFO, refuses what is not a regular file
 * (sysfs and procfs attributes are regular files). */
static int open_regular(const struct av_host *h, const char *path)
{
	return av_fd_keep_regular(av_inroot_open(h->rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0));
}

ssize_t av_read_bin(const struct av_host *h, const char *path, void *buf, size_t size)
{
	int fd = open_regular(h, path);
	if (fd < 0)
		return fd;
	size_t got = 0;
	while (got < size) {
		ssize_t n = read(fd, (char *)buf + got, size - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			close(fd);
			return -err;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
}

ssize_t av_read_text(const struct av_host *h, const char *path, char *buf, size_t size)
{
	if (size == 0)
		return -EINVAL;
	ssize_t n = av_read_bin(h, path, buf, size - 1);
	if (n < 0) {
		buf[0] = '\0';
		return n;
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

ssize_t av_read_all(const struct av_host *h, const char *path, size_t max_size, char **out)
{
	*out = NULL;
	int fd = open_regular(h, path);
	if (fd < 0)
		return fd;
	ssize_t n = av_fd_read_all(fd, max_size, out);
	close(fd);
	return n;
}

int av_read_long(const struct av_host *h, const char *path, int base, long *out)
{
	char buf[64];
	ssize_t n = av_read_text(h, path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return av_parse_long(buf, base, out);
}

/* The directory holding path's last component, resolved inside the root
 * (made, 0755, where missing when create is set), and that component in
 * name.  Returns a descriptor (O_PATH) or -errno. */
static int open_parent(const struct av_host *h, const char *path, bool create, char *name, size_t size)
{
	char dir[PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s", rel(path)) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	size_t len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	if (!strcmp(base, ".") || !strcmp(base, ".."))
		return -EISDIR;
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	memcpy(name, base, strlen(base) + 1);
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	int fd = av_inroot_open(h->rootfd, dir, O_PATH | O_DIRECTORY, 0);
	if (fd != -ENOENT || !create)
		return fd;
	/* One level at a time, each resolved inside the root: a link among
	 * the parents leads where it would on the host, never out of it. */
	char up[NAME_MAX + 1];
	int pfd = open_parent(h, dir, true, up, sizeof(up));
	if (pfd < 0)
		return pfd;
	int r = mkdirat(pfd, up, 0755) < 0 && errno != EEXIST ? -errno : 0;
	close(pfd);
	return r < 0 ? r : av_inroot_open(h->rootfd, dir, O_PATH | O_DIRECTORY, 0);
}

ssize_t av_read_link(const struct av_host *h, const char *path, char *buf, size_t size)
{
	if (size == 0)
		return -EINVAL;
	buf[0] = '\0';
	char name[NAME_MAX + 1];
	int dfd = open_parent(h, path, false, name, sizeof(name));
	if (dfd < 0)
		return dfd;
	ssize_t n = readlinkat(dfd, name, buf, size - 1);
	int err = errno;
	close(dfd);
	if (n < 0) {
		buf[0] = '\0';
		return -err;
	}
	buf[n] = '\0';
	return n;
}

ssize_t av_read_link_base(const struct av_host *h, const char *path, char *buf, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = av_read_link(h, path, target, sizeof(target));
	if (n < 0) {
		if (size)
			buf[0] = '\0';
		return n;
	}
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	size_t len = strlen(base);
	if (len == 0 || len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, base, len + 1);
	return (ssize_t)len;
}

static int stat_in(const struct av_host *h, const char *path, struct stat *st)
{
	int fd = av_inroot_open(h->rootfd, path, O_PATH, 0);
	if (fd < 0)
		return fd;
	int r = fstat(fd, st) < 0 ? -errno : 0;
	close(fd);
	return r;
}

bool av_exists(const struct av_host *h, const char *path)
{
	struct stat st;
	return stat_in(h, path, &st) == 0;
}

bool av_is_dir(const struct av_host *h, const char *path)
{
	struct stat st;
	return stat_in(h, path, &st) == 0 && S_ISDIR(st.st_mode);
}

long long av_mtime(const struct av_host *h, const char *path)
{
	struct stat st;
	int r = stat_in(h, path, &st);
	return r < 0 ? r : (long long)st.st_mtime;
}

DIR *av_opendir(const struct av_host *h, const char *path)
{
	int fd = av_inroot_open(h->rootfd, path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int err = errno;
		close(fd);
		errno = err;
	}
	return d;
}

int av_open_dir(const struct av_host *h, const char *path, bool create)
{
	char name[NAME_MAX + 1];
	int fd = av_inroot_open(h->rootfd, path, O_PATH | O_DIRECTORY, 0);
	if (fd != -ENOENT || !create)
		return fd;
	int pfd = open_parent(h, path, true, name, sizeof(name));
	if (pfd < 0)
		return pfd;
	int r = mkdirat(pfd, name, 0755) < 0 && errno != EEXIST ? -errno : 0;
	close(pfd);
	return r < 0 ? r : av_inroot_open(h->rootfd, path, O_PATH | O_DIRECTORY, 0);
}

int av_open_create(struct av_host *h, const char *path, int flags, int mode)
{
	char name[NAME_MAX + 1];
	int pfd = open_parent(h, path, true, name, sizeof(name));
	if (pfd < 0)
		return pfd;
	close(pfd);
	return av_fd_keep_regular(av_inroot_open(h->rootfd, path, flags | O_CREAT | O_NONBLOCK | O_NOCTTY, (mode_t)mode));
}

/* One write to an existing file.  The last component must not be a
 * symlink: sysfs attributes never are, and a tree that plants one would
 * have the write land wherever it points.  The links before it (sysfs's
 * devices/BDF) resolve inside the root. */
static int write_file(struct av_host *h, const char *path, const char *data, size_t len, void *user)
{
	(void)user;
	int fd = av_inroot_open(h->rootfd, path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return fd;
	int err = -av_fd_regular(fd);
	ssize_t n = 0;
	if (!err) {
		do
			n = write(fd, data, len);
		while (n < 0 && errno == EINTR);
		err = n < 0 ? errno : 0;
	}
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && (size_t)n != len)
		err = EIO;
	return -err;
}

int av_write(struct av_host *h, const char *path, const char *data)
{
	size_t len = strlen(data);
	if (h->write_hook)
		return h->write_hook(h, path, data, len, h->write_user);
	return write_file(h, path, data, len, NULL);
}

int av_unlink(struct av_host *h, const char *path)
{
	char name[NAME_MAX + 1];
	int dfd = open_parent(h, path, false, name, sizeof(name));
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	int r = unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	close(dfd);
	return r;
}

/* A name nobody can have planted: created with O_EXCL|O_NOFOLLOW, so a
 * file or symlink already there is never written through. */
static int create_temp(int dfd, const char *name, char *tmp, size_t size)
{
	static _Atomic unsigned counter;
	for (int tries = 0; tries < 16; tries++) {
		uint64_t rnd = 0;
		if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
			rnd = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() << 32 ^ atomic_fetch_add(&counter, 1);
		if (snprintf(tmp, size, "%s.tmp.%016llx", name, (unsigned long long)rnd) >= (int)size)
			return -ENAMETOOLONG;
		int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

static int write_all(int fd, const char *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	return 0;
}

int av_write_atomic(struct av_host *h, const char *path, const char *data, size_t len)
{
	char name[NAME_MAX + 1], tmp[NAME_MAX + 1];
	int dfd = open_parent(h, path, true, name, sizeof(name));
	if (dfd < 0)
		return dfd;
	int fd = create_temp(dfd, name, tmp, sizeof(tmp));
	if (fd < 0) {
		close(dfd);
		return fd;
	}
	int r = write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	/* rename replaces a symlink at the name; it does not follow it. */
	if (r == 0 && renameat(dfd, tmp, dfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
	} else {
		/* The rename itself survives a crash once the directory is synced. */
		int sfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd >= 0) {
			fsync(sfd);
			close(sfd);
		}
	}
	close(dfd);
	return r;
}
