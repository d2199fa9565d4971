#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "grpc/unixsock.h"

static int fill(struct sockaddr_un *sa, int dirfd, const char *dir, const char *name)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, name);
	if (n > 0 && (size_t)n < sizeof(sa->sun_path))
		return 0;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd, name);
	if (n > 0 && (size_t)n < sizeof(sa->sun_path))
		return 0;
	return -ENAMETOOLONG;
}

int av_unix_listen(int dirfd, const char *dir, const char *name)
{
	struct sockaddr_un sa;
	int fd, r, e;

	r = fill(&sa, dirfd, dir, name);
	if (r < 0)
		return r;
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The mode is set between bind and listen, so no connection is taken
	 * while the umask's mode holds: whatever the umask, only the owner
	 * (root, as kubelet is) may connect. */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	if (fchmodat(dirfd, name, AV_UNIX_MODE, 0) < 0 || listen(fd, 64) < 0) {
		e = errno;
		close(fd);
		unlinkat(dirfd, name, 0);
		return -e;
	}
	return fd;
}

int av_unix_connect(int dirfd, const char *dir, const char *name)
{
	struct sockaddr_un sa;
	int fd, r, e;

	r = fill(&sa, dirfd, dir, name);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix connect completes at once or fails (EAGAIN when the
	 * listener's backlog is full): never a wait in the loop. */
	do
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}
