#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "watch.h"

#define DRIVERS "/sys/bus/pci/drivers"

struct ui_watch {
	struct av_host *host;
	int fd;
	int drivers_wd;
};

static int add(struct ui_watch *w, const char *host_path, uint32_t mask)
{
	char path[PATH_MAX];
	av_host_path(w->host, host_path, path, sizeof(path));
	/* IN_DONT_FOLLOW: driver entries are links; watching their targets
	 * would report every attribute read-back of the device directories. */
	return inotify_add_watch(w->fd, path, mask | IN_DONT_FOLLOW | IN_ONLYDIR);
}

static void watch_drivers(struct ui_watch *w)
{
	DIR *d = av_opendir(w->host, DRIVERS);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", DRIVERS, de->d_name);
		/* Adding an existing watch again only updates its mask. */
		add(w, path, IN_CREATE | IN_DELETE);
	}
	if (d)
		closedir(d);
}

struct ui_watch *ui_watch_new(struct av_host *host)
{
	struct ui_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->host = host;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		free(w);
		return NULL;
	}
	add(w, "/dev/vfio", IN_CREATE | IN_DELETE | IN_ATTRIB);
	add(w, "/sys/bus/pci/devices", IN_CREATE | IN_DELETE);
	w->drivers_wd = add(w, DRIVERS, IN_CREATE | IN_DELETE);
	watch_drivers(w);
	return w;
}

void ui_watch_refresh(struct ui_watch *w)
{
	if (!w)
		return;
	add(w, "/dev/vfio", IN_CREATE | IN_DELETE | IN_ATTRIB);
	watch_drivers(w);
}

void ui_watch_free(struct ui_watch *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w);
}

int ui_watch_fd(const struct ui_watch *w)
{
	return w ? w->fd : -1;
}

bool ui_watch_drain(struct ui_watch *w)
{
	if (!w)
		return false;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false, new_driver = false;
	ssize_t n;
	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			/* buf is aligned for the event struct and the kernel pads each
			 * event's name, so every p is aligned too. */
			const struct inotify_event *ev = (const struct inotify_event *)(const void *)p;
			changed = true;
			if (ev->wd == w->drivers_wd && (ev->mask & IN_CREATE))
				new_driver = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (new_driver)
		watch_drivers(w);
	return changed;
}
