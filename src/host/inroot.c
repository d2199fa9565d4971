#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host/inroot.h"

#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif
#endif
#ifndef RESOLVE_IN_ROOT
struct open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#endif
#ifndef SYS_openat2
#define SYS_openat2 437 /* one number on every architecture */
#endif

#define MAX_LINKS 40    /* the kernel's limit */
#define MAX_DEPTH 256

enum { UNKNOWN, OPENAT2, WALK };
static _Atomic int how_mode = UNKNOWN;

void av_inroot_use_walk(bool walk)
{
	atomic_store(&how_mode, walk ? WALK : UNKNOWN);
}

static long openat2_call(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
		.mode = flags & O_CREAT ? mode : 0,
		/* RESOLVE_IN_ROOT already keeps /proc's magic links from
		 * jumping out; say so in case that ever changes. */
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;
	/* EAGAIN: a rename raced a ".." on the way; the kernel asks to retry. */
	for (int tries = 0; (fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how))) < 0
	                    && errno == EAGAIN && tries < 16; tries++)
		;
	return fd;
}

/* openat2 is missing before Linux 5.6, and a container's seccomp profile
 * may refuse it (ENOSYS, or EPERM from older profiles): asked once. */
static int mode_now(int rootfd)
{
	int m = atomic_load(&how_mode);
	if (m != UNKNOWN)
		return m;
	const char *env = getenv("AMDVIRT_TEST_NO_OPENAT2");
	if (env && *env && strcmp(env, "0") != 0) {
		m = WALK;
	} else {
		long fd = openat2_call(rootfd, ".", O_PATH | O_DIRECTORY, 0);
		m = fd >= 0 || (errno != ENOSYS && errno != EPERM) ? OPENAT2 : WALK;
		if (fd >= 0)
			close((int)fd);
	}
	atomic_store(&how_mode, m);
	return m;
}

bool av_inroot_walking(void)
{
	return atomic_load(&how_mode) == WALK;
}

/* The directories reached so far; fds[0] is the root (not ours to close). */
struct walk {
	int fds[MAX_DEPTH];
	int depth;
};

static void up(struct walk *w)
{
	if (w->depth > 0)
		close(w->fds[w->depth--]);
}

static void to_root(struct walk *w)
{
	while (w->depth > 0)
		up(w);
}

/* What RESOLVE_IN_ROOT does, one component at a time: directories are
 * entered with O_NOFOLLOW, a symlink's target is spliced into what remains
 * of the path (from the root when absolute) and ".." never climbs above
 * the root. */
static int walk_open(int rootfd, const char *path, int flags, mode_t mode)
{
	char buf[PATH_MAX], spliced[PATH_MAX], target[PATH_MAX], name[NAME_MAX + 1];
	struct walk w = { .fds = { rootfd }, .depth = 0 };
	int links = 0, r;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf;;) {
		int cur = w.fds[w.depth];
		while (*p == '/')
			p++;
		if (!*p) {
			/* The path ends at a directory already entered. */
			r = openat(cur, ".", flags | O_CLOEXEC, mode);
			r = r < 0 ? -errno : r;
			break;
		}
		size_t len = strcspn(p, "/");
		if (len > NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		/* "name/" must be a directory: entered as one, then opened
		 * as "." at the top of the loop. */
		bool last = !*p;
		while (*p == '/')
			p++;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			up(&w);
			continue;
		}
		struct stat st;
		bool link = fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
		bool follow = !last || (!(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL));
		if (link && follow) {
			ssize_t n = readlinkat(cur, name, target, sizeof(target) - 1);
			if (n < 0 || ++links > MAX_LINKS) {
				r = n < 0 ? -errno : -ELOOP;
				break;
			}
			target[n] = '\0';
			if (snprintf(spliced, sizeof(spliced), "%s%s%s", target, *p ? "/" : "", p) >= (int)sizeof(spliced)) {
				r = -ENAMETOOLONG;
				break;
			}
			memcpy(buf, spliced, strlen(spliced) + 1);
			p = buf;
			if (target[0] == '/')
				to_root(&w);
			continue;
		}
		if (last) {
			/* O_NOFOLLOW here too: a symlink swapped in since the
			 * fstatat is refused, not followed out of the root. */
			r = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
			r = r < 0 ? -errno : r;
			break;
		}
		int fd = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || w.depth + 1 >= MAX_DEPTH) {
			r = fd < 0 ? -errno : -ENAMETOOLONG;
			if (fd >= 0)
				close(fd);
			break;
		}
		w.fds[++w.depth] = fd;
	}
	to_root(&w);
	return r;
}

int av_inroot_open(int rootfd, const char *path, int flags, mode_t mode)
{
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	if (mode_now(rootfd) == WALK)
		return walk_open(rootfd, path, flags, mode);
	long fd = openat2_call(rootfd, path, flags, mode);
	return fd < 0 ? -errno : (int)fd;
}
