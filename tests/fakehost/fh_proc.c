/* Processes under /proc: the ones that hold a GPU, as a VM does.  Each
 * gets /proc/PID/comm, /proc/PID/cgroup and fd links to /dev/vfio/vfio and
 * to the group node of each function it holds (named by BDF, so that a
 * scenario need not know how groups are numbered). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fh.h"

static const char *const proc_keys[] = { "pid", "comm", "cgroup", "vfio", NULL };

static int group_of(struct fh_host *h, const char *bdf)
{
	for (int i = 0; i < h->n_devs; i++)
		if (!strcmp(h->devs[i].bdf, bdf))
			return h->devs[i].group;
	return -1;
}

static int one(struct fh_host *h, const cJSON *p, const char *where)
{
	const char *comm = "qemu-kvm", *cgroup = "0::/\n";
	const cJSON *vfio = fh_get(p, "vfio"), *it;
	char dir[64], path[96], target[32];
	int pid = 0, fd = 3;

	if (fh_keys(h, p, where, proc_keys) < 0 || fh_get_int(h, p, "pid", where, 1, 4194304, &pid) < 0 ||
	    fh_get_str(h, p, "comm", where, &comm) < 0 || fh_get_str(h, p, "cgroup", where, &cgroup) < 0)
		return -h->err;
	if (!pid)
		return fh_fail(h, EINVAL, "%s.pid: required", where);
	if (vfio && !cJSON_IsArray(vfio))
		return fh_fail(h, EINVAL, "%s.vfio: expected a list of BDFs", where);
	snprintf(dir, sizeof(dir), "proc/%d", pid);
	snprintf(path, sizeof(path), "%s/fd", dir);
	if (fh_mkdirs(h, h->rootfd, path) < 0 ||
	    fh_putf(h, h->rootfd, strcat(strcpy(path, dir), "/comm"), 0444, "%s\n", comm) < 0 ||
	    fh_putf(h, h->rootfd, strcat(strcpy(path, dir), "/cgroup"), 0444, "%s%s", cgroup,
	            cgroup[0] && cgroup[strlen(cgroup) - 1] == '\n' ? "" : "\n") < 0)
		return -h->err;
	snprintf(path, sizeof(path), "%s/fd/%d", dir, fd++);
	if (vfio && fh_link(h, h->rootfd, path, "/dev/vfio/vfio") < 0)
		return -h->err;
	cJSON_ArrayForEach(it, vfio) {
		int g = cJSON_IsString(it) ? group_of(h, it->valuestring) : -1;
		if (g < 0)
			return fh_fail(h, EINVAL, "%s.vfio: %s is no function with an IOMMU group", where,
				       cJSON_IsString(it) ? it->valuestring : "(not a string)");
		snprintf(path, sizeof(path), "%s/fd/%d", dir, fd++);
		snprintf(target, sizeof(target), "/dev/vfio/%d", g);
		if (fh_link(h, h->rootfd, path, target) < 0)
			return -h->err;
	}
	return 0;
}

int fh_write_processes(struct fh_host *h)
{
	return fh_each(h, h->processes, "processes", one);
}
