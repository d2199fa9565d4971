/* Live facts about functions that discovery keeps only for GPUs, and the
 * "is this /dev/vfio node open" question. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/internal.h"
#include "base/util.h"

static int read_int(struct av_host *host, const char *bdf, const char *attr, int dflt)
{
	char path[128];
	long v;
	snprintf(path, sizeof(path), "%s/%s/%s", AV_DEVICES, bdf, attr);
	if (av_read_long(host, path, 10, &v) < 0 || v < INT_MIN || v > INT_MAX)
		return dflt;
	return (int)v;
}

void av_fn_facts_get(const struct av_model *m, struct av_host *host, int idx, struct av_fn_facts *out)
{
	const struct av_func *f = &m->funcs[idx];
	char path[128];

	memset(out, 0, sizeof(*out));
	if (!host) {
		snprintf(out->driver, sizeof(out->driver), "%s", f->driver);
		snprintf(out->driver_override, sizeof(out->driver_override), "%s", f->driver_override);
		out->enable = f->enable_count;
		out->sriov_total = f->sriov_total;
		out->sriov_num = f->sriov_num;
		out->autoprobe = f->sriov_autoprobe;
		if (f->physfn >= 0)
			snprintf(out->physfn, sizeof(out->physfn), "%s", m->funcs[f->physfn].bdf);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/driver", AV_DEVICES, f->bdf);
	av_read_link_base(host, path, out->driver, sizeof(out->driver));
	snprintf(path, sizeof(path), "%s/%s/driver_override", AV_DEVICES, f->bdf);
	if (av_read_text(host, path, out->driver_override, sizeof(out->driver_override)) < 0
	    || strcmp(out->driver_override, "(null)") == 0)
		out->driver_override[0] = '\0';
	out->enable = read_int(host, f->bdf, "enable", -1);
	out->sriov_total = read_int(host, f->bdf, "sriov_totalvfs", -1);
	out->sriov_num = out->sriov_total >= 0 ? read_int(host, f->bdf, "sriov_numvfs", 0) : 0;
	out->autoprobe = out->sriov_total >= 0 ? read_int(host, f->bdf, "sriov_drivers_autoprobe", -1) : -1;
	snprintf(path, sizeof(path), "%s/%s/physfn", AV_DEVICES, f->bdf);
	av_read_link_base(host, path, out->physfn, sizeof(out->physfn));
}

static bool fd_dir_has(struct av_host *host, const char *pid, const char *target)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	DIR *d = av_opendir(host, dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		char path[320], link[PATH_MAX];
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		found = av_read_link(host, path, link, sizeof(link)) >= 0 && strcmp(link, target) == 0;
	}
	closedir(d);
	return found;
}

/* vfio's group node has no "in use" attribute; the owners of its open file
 * descriptors are the only witnesses (fuser does the same walk). */
bool av_path_is_open(struct av_host *host, const char *path)
{
	DIR *d = av_opendir(host, "/proc");
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		found = fd_dir_has(host, de->d_name, path);
	}
	closedir(d);
	return found;
}
