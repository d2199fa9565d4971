#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "actions/internal.h"
#include "actions/lock.h"
#include "base/util.h"

int av_lock_take(struct av_host *host, int wait_ms, char **cause)
{
	char path[4096];
	/* A fake or freshly mounted root may have no /run yet; a /run that is
	 * a link (even an absolute one) leads inside the root, never out. */
	int fd = av_open_create(host, AV_LOCK_FILE, O_RDWR, 0600);
	if (fd < 0) {
		av_set_cause(cause, "%s: %s", av_host_path(host, AV_LOCK_FILE, path, sizeof(path)), av_strerror(fd));
		return fd;
	}
	for (int waited = 0;; waited += 100) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		int err = errno;
		if (err != EWOULDBLOCK || waited >= wait_ms) {
			close(fd);
			av_set_cause(cause, "%s: %s", av_host_path(host, AV_LOCK_FILE, path, sizeof(path)),
			             err == EWOULDBLOCK ? "another amdvirt is changing drivers; try again" : strerror(err));
			return -err;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
	}
}

void av_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
