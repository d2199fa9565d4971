#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "util.h"

struct av_host {
	char *root;          /* without a trailing slash; "" for "/" */
	int rootfd;
	av_write_hook write_hook;
	void *write_user;
};

/* Host paths are absolute; openat() wants them relative to the root fd. */
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
	int fd = openat(h->rootfd, rel(path), flags | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

ssize_t av_read_bin(const struct av_host *h, const char *path, void *buf, size_t size)
{
	int fd = av_open(h, path, O_RDONLY, 0);
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
	int fd = av_open(h, path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= max_size) {
				free(buf);
				close(fd);
				return -EFBIG;
			}
			size_t ncap = cap * 2 > max_size ? max_size : cap * 2;
			char *nbuf = realloc(buf, ncap + 1);
			if (!nbuf) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nbuf;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			free(buf);
			close(fd);
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
}

int av_read_long(const struct av_host *h, const char *path, int base, long *out)
{
	char buf[64];
	ssize_t n = av_read_text(h, path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return av_parse_long(buf, base, out);
}

ssize_t av_read_link(const struct av_host *h, const char *path, char *buf, size_t size)
{
	if (size == 0)
		return -EINVAL;
	ssize_t n = readlinkat(h->rootfd, rel(path), buf, size - 1);
	if (n < 0) {
		buf[0] = '\0';
		return -errno;
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

bool av_exists(const struct av_host *h, const char *path)
{
	return faccessat(h->rootfd, rel(path), F_OK, 0) == 0;
}

bool av_is_dir(const struct av_host *h, const char *path)
{
	struct stat st;
	return fstatat(h->rootfd, rel(path), &st, 0) == 0 && S_ISDIR(st.st_mode);
}

long long av_mtime(const struct av_host *h, const char *path)
{
	struct stat st;
	if (fstatat(h->rootfd, rel(path), &st, 0) < 0)
		return -errno;
	return (long long)st.st_mtime;
}

DIR *av_opendir(const struct av_host *h, const char *path)
{
	int fd = openat(h->rootfd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int err = errno;
		close(fd);
		errno = err;
	}
	return d;
}

static int write_file(struct av_host *h, const char *path, const char *data, size_t len, void *user)
{
	(void)user;
	int fd = av_open(h, path, O_WRONLY | O_TRUNC, 0);
	if (fd < 0)
		return fd;
	ssize_t n;
	do
		n = write(fd, data, len);
	while (n < 0 && errno == EINTR);
	int err = n < 0 ? errno : 0;
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

static int mkdir_parents(struct av_host *h, const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", rel(path));
	for (char *p = strchr(buf, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdirat(h->rootfd, buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

int av_unlink(struct av_host *h, const char *path)
{
	if (unlinkat(h->rootfd, rel(path), 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int av_write_atomic(struct av_host *h, const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	int r = mkdir_parents(h, path);
	if (r < 0)
		return r;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", rel(path), (long)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = openat(h->rootfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	int err = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		off += (size_t)n;
	}
	if (!err && fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && renameat(h->rootfd, tmp, h->rootfd, rel(path)) < 0)
		err = errno;
	if (err)
		unlinkat(h->rootfd, tmp, 0);
	return -err;
}
