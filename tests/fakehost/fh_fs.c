/* Writing the tree: everything is relative to a descriptor held on the
 * output directory (or on a device directory), so building is a few
 * system calls per file and never leaves the tree. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "fh.h"

static int io_fail(struct fh_host *h, const char *what, const char *path)
{
	int e = errno ? errno : EIO;

	return fh_fail(h, e, "%s %s: %s", what, path, strerror(e));
}

int fh_mkdir(struct fh_host *h, int dirfd, const char *path)
{
	if (mkdirat(dirfd, path, 0755) < 0 && errno != EEXIST)
		return io_fail(h, "cannot create", path);
	return 0;
}

int fh_mkdirs(struct fh_host *h, int dirfd, const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return fh_fail(h, ENAMETOOLONG, "path too long: %s", path);
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdirat(dirfd, buf, 0755) < 0 && errno != EEXIST)
			return io_fail(h, "cannot create", buf);
		*p = '/';
	}
	return fh_mkdir(h, dirfd, buf);
}

int fh_put(struct fh_host *h, int dirfd, const char *name, const void *data, size_t len, int mode)
{
	int fd;

	/* Empty files (write-only attributes, device nodes) take one call. */
	if (len == 0 && mknodat(dirfd, name, S_IFREG | (mode_t)mode, 0) == 0)
		return 0;
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);

	/* Replacing a read-only file (or a link) of the tree: make it anew. */
	if (fd < 0 && (errno == EACCES || errno == ELOOP) && unlinkat(dirfd, name, 0) == 0)
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return io_fail(h, "cannot create", name);
	if (len && write(fd, data, len) != (ssize_t)len) {
		int r = io_fail(h, "cannot write", name);

		close(fd);
		return r;
	}
	close(fd);
	return 0;
}

int fh_putf(struct fh_host *h, int dirfd, const char *name, int mode, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return fh_fail(h, EOVERFLOW, "%s: content too long", name);
	return fh_put(h, dirfd, name, buf, (size_t)n, mode);
}

int fh_link(struct fh_host *h, int dirfd, const char *name, const char *target)
{
	if (symlinkat(target, dirfd, name) < 0) {
		if (errno != EEXIST || unlinkat(dirfd, name, 0) < 0 ||
		    symlinkat(target, dirfd, name) < 0)
			return io_fail(h, "cannot link", name);
	}
	return 0;
}

/* sysfs links are relative: up from the link's directory to the deepest
 * directory it shares with the target's parent, then down to the target
 * (fs/kernfs/symlink.c kernfs_get_target_path). */
char *fh_relpath(const char *from_dir, const char *to)
{
	const char *last = strrchr(to, '/');
	size_t tp = last ? (size_t)(last - to) : 0;   /* length of the target's parent */
	size_t common = 0;
	const char *rest, *down;
	int ups = 0;
	char *out, *p;

	/* The longest leading run of whole components both share. */
	for (size_t i = 0;; i++) {
		char a = from_dir[i], b = i < tp ? to[i] : '\0';
		bool a_end = a == '\0' || a == '/', b_end = b == '\0' || b == '/';

		if (a_end && b_end) {
			common = i;
			if (a == '\0' || b == '\0')
				break;
		} else if (a != b) {
			break;
		}
	}
	rest = from_dir + common;
	if (*rest == '/')
		rest++;
	if (*rest)
		for (ups = 1; *rest; rest++)
			ups += *rest == '/';
	down = to + common;
	if (*down == '/')
		down++;
	out = fh_alloc((size_t)ups * 3 + strlen(down) + 1);
	p = out;
	for (int k = 0; k < ups; k++, p += 3)
		memcpy(p, "../", 3);
	strcpy(p, down);
	return out;
}

int fh_rlink(struct fh_host *h, const char *from, const char *to)
{
	const char *slash = strrchr(from, '/');
	char dir[4096];
	char *target;
	int r;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - from) : 0, from);
	target = fh_relpath(dir, to);
	r = fh_link(h, h->rootfd, from, target);
	free(target);
	return r;
}

int fh_opendir(struct fh_host *h, const char *path)
{
	int fd = openat(h->rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return io_fail(h, "cannot open", path);
	return fd;
}

/* --- escape hatches: host paths as the scenario writes them ------------------ */

/* "/a/b": absolute, no "." or ".." components, not the root itself. */
static bool host_path(const char *path)
{
	if (path[0] != '/' || path[1] == '\0')
		return false;
	for (const char *c = path + 1; *c; c += strcspn(c, "/"), c += *c == '/') {
		size_t n = strcspn(c, "/");

		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

/* Opens the directory holding a host path ("/sys/x/y" -> "sys/x", leaf
 * "y").  Absolute links inside the tree resolve inside it where the kernel
 * offers RESOLVE_IN_ROOT.  Returns a descriptor or -errno. */
static int open_parent(struct fh_host *h, const char *path, bool create, const char **leaf,
                       const char *what)
{
	char dir[4096];
	const char *slash;
	int fd;

	if (!host_path(path))
		return fh_fail(h, EINVAL, "%s: '%s' is not an absolute host path", what, path);
	slash = strrchr(path, '/');
	*leaf = slash + 1;
	if (!**leaf)
		return fh_fail(h, EINVAL, "%s: '%s' ends with '/'", what, path);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path - 1), path + 1);
	if (!dir[0])
		return dup(h->rootfd);
	if (create && fh_mkdirs(h, h->rootfd, dir) < 0)
		return -h->err;
#ifdef SYS_openat2
	{
		struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
					.resolve = RESOLVE_IN_ROOT };

		fd = (int)syscall(SYS_openat2, h->rootfd, dir, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			goto done;
	}
#endif
	fd = openat(h->rootfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
#ifdef SYS_openat2
done:
#endif
	if (fd < 0)
		return fh_fail(h, errno, "%s: %s: %s", what, path, strerror(errno));
	return fd;
}

static int rm_tree(int dirfd, const char *name)
{
	struct stat st;
	int fd, r = 0;
	DIR *d;
	struct dirent *e;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (!r && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r = rm_tree(fd, e->d_name);
	closedir(d);
	if (!r && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

static int each_path(struct fh_host *h, const cJSON *list, const char *what,
                     int (*fn)(struct fh_host *, const cJSON *, const char *))
{
	const cJSON *it;

	cJSON_ArrayForEach(it, list) {
		const char *path = cJSON_IsArray(list) ? it->valuestring : it->string;

		if (!path)
			return fh_fail(h, EINVAL, "%s: expected path strings", what);
		if (fn(h, it, path) < 0)
			return -h->err;
	}
	return 0;
}

static int do_remove(struct fh_host *h, const cJSON *it, const char *path)
{
	const char *leaf;
	int fd = open_parent(h, path, false, &leaf, "remove"), r;

	(void)it;
	if (fd < 0)
		return fd;
	r = rm_tree(fd, leaf);
	close(fd);
	if (r < 0)
		return fh_fail(h, -r, "remove: %s: %s", path, strerror(-r));
	return 0;
}

static int do_dir(struct fh_host *h, const cJSON *it, const char *path)
{
	(void)it;
	if (!host_path(path))
		return fh_fail(h, EINVAL, "dirs: '%s' is not an absolute host path", path);
	return fh_mkdirs(h, h->rootfd, path + 1);
}

static int do_file(struct fh_host *h, const cJSON *it, const char *path)
{
	const char *leaf;
	int fd, r;

	if (!cJSON_IsString(it))
		return fh_fail(h, EINVAL, "files.%s: expected the content as a string", path);
	fd = open_parent(h, path, true, &leaf, "files");
	if (fd < 0)
		return fd;
	r = fh_put(h, fd, leaf, it->valuestring, strlen(it->valuestring), 0644);
	close(fd);
	return r;
}

static int do_symlink(struct fh_host *h, const cJSON *it, const char *path)
{
	const char *leaf;
	int fd, r;

	if (!cJSON_IsString(it))
		return fh_fail(h, EINVAL, "symlinks.%s: expected the target as a string", path);
	fd = open_parent(h, path, true, &leaf, "symlinks");
	if (fd < 0)
		return fd;
	r = rm_tree(fd, leaf);
	if (r < 0 && r != -ENOENT) {
		close(fd);
		return fh_fail(h, -r, "symlinks: %s: %s", path, strerror(-r));
	}
	r = fh_link(h, fd, leaf, it->valuestring);
	close(fd);
	return r;
}

static int do_age(struct fh_host *h, const cJSON *it, const char *path)
{
	const char *leaf;
	struct timespec ts[2];
	int fd, r;

	if (!cJSON_IsNumber(it))
		return fh_fail(h, EINVAL, "age.%s: expected seconds", path);
	fd = open_parent(h, path, false, &leaf, "age");
	if (fd < 0)
		return fd;
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= (time_t)it->valuedouble;
	ts[1] = ts[0];
	r = utimensat(fd, leaf, ts, AT_SYMLINK_NOFOLLOW);
	if (r < 0)
		r = fh_fail(h, errno, "age: %s: %s", path, strerror(errno));
	close(fd);
	return r;
}

/* Applied last, in this order, so a scenario can break anything the
 * builder made. */
int fh_escape_hatches(struct fh_host *h)
{
	if (each_path(h, h->remove, "remove", do_remove) < 0 ||
	    each_path(h, h->dirs, "dirs", do_dir) < 0 ||
	    each_path(h, h->files, "files", do_file) < 0 ||
	    each_path(h, h->symlinks, "symlinks", do_symlink) < 0 ||
	    each_path(h, h->age, "age", do_age) < 0)
		return -h->err;
	return 0;
}
