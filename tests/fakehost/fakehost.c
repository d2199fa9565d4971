#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakehost.h"
#include "fh.h"

static void host_free(struct fh_host *h)
{
	for (int i = 0; i < h->n_devs; i++) {
		struct fh_dev *d = &h->devs[i];

		free(d->path);
		free(d->driver);
		free(d->driver_override);
		free(d->reset_method);
		if (d->sriov) {
			free(d->sriov->vf_driver);
			free(d->sriov->where);
			free(d->sriov);
		}
	}
	for (int i = 0; i < h->n_mods; i++) {
		free(h->mods[i].name);
		free(h->mods[i].version);
		free(h->mods[i].srcversion);
		free(h->mods[i].installed_version);
	}
	for (int i = 0; i < h->n_hives; i++) {
		free(h->hives[i].id);
		free(h->hives[i].members);
	}
	free(h->devs);
	free(h->rcs);
	free(h->gpus);
	free(h->mods);
	free(h->hives);
	free(h->bdfset);
	free(h->cpu_model);
	free(h->hostname);
	free(h->release);
	free(h->cmdline);
	free(h->grub_cmdline);
	free(h->iommu_type);
	free(h->firmware);
	cJSON_Delete(h->owned);
	if (h->rootfd >= 0)
		close(h->rootfd);
}

/* outdir must be new or empty, so a build never mixes with old files. */
static int open_outdir(struct fh_host *h, const char *outdir)
{
	DIR *d;
	struct dirent *e;
	int fd;

	if (mkdir(outdir, 0755) < 0 && errno != EEXIST)
		return fh_fail(h, errno, "%s: %s", outdir, strerror(errno));
	fd = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fh_fail(h, errno, "%s: %s", outdir, strerror(errno));
	d = fdopendir(dup(fd));
	if (!d) {
		close(fd);
		return fh_fail(h, errno, "%s: %s", outdir, strerror(errno));
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			closedir(d);
			close(fd);
			return fh_fail(h, ENOTEMPTY, "%s: exists and is not empty", outdir);
		}
	closedir(d);
	return fd;
}

static int build(struct fh_host *h, const cJSON *scenario, const char *outdir)
{
	if (fh_scenario(h, scenario) < 0 || fh_number_groups(h) < 0 || fh_assign_bars(h) < 0)
		return -h->err;
	h->rootfd = open_outdir(h, outdir);
	if (h->rootfd < 0)
		return h->rootfd;
	/* Links may point at what a later step makes. */
	if (fh_write_pci(h) < 0 || fh_write_iommu(h) < 0 || fh_write_drivers(h) < 0 ||
	    fh_write_modules(h) < 0 || fh_write_amdgpu(h) < 0 || fh_write_misc(h) < 0 ||
	    fh_write_kmod(h) < 0 || fh_write_processes(h) < 0 ||
	    fh_escape_hatches(h) < 0)
		return -h->err;
	return 0;
}

static int run(const char *what, const cJSON *scenario, const char *outdir, char **cause)
{
	struct fh_host h;
	int r;

	memset(&h, 0, sizeof(h));
	h.what = what;
	h.rootfd = -1;
	h.owned = cJSON_CreateArray();
	r = build(&h, scenario, outdir);
	if (r < 0 && cause) {
		*cause = h.cause;
		h.cause = NULL;
	}
	free(h.cause);
	host_free(&h);
	return r < 0 ? r : 0;
}

int fakehost_build_json(const cJSON *scenario, const char *outdir, char **cause)
{
	if (cause)
		*cause = NULL;
	return run("", scenario, outdir, cause);
}

int fakehost_build(const char *scenario_json_path, const char *outdir, char **cause)
{
	FILE *f;
	char *text;
	long size;
	cJSON *root;
	int r;

	if (cause)
		*cause = NULL;
	f = fopen(scenario_json_path, "re");
	if (!f) {
		r = -errno;
		if (cause && asprintf(cause, "%s: %s", scenario_json_path, strerror(errno)) < 0)
			*cause = NULL;
		return r;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		if (cause && asprintf(cause, "%s: cannot read", scenario_json_path) < 0)
			*cause = NULL;
		return -EIO;
	}
	text = fh_alloc((size_t)size + 1);
	if (fread(text, 1, (size_t)size, f) != (size_t)size) {
		free(text);
		fclose(f);
		if (cause && asprintf(cause, "%s: cannot read", scenario_json_path) < 0)
			*cause = NULL;
		return -EIO;
	}
	fclose(f);
	root = cJSON_ParseWithLength(text, (size_t)size);
	if (!root) {
		const char *at = cJSON_GetErrorPtr();
		int line = 1;

		for (const char *p = text; at && p < at; p++)
			line += *p == '\n';
		free(text);
		if (cause && asprintf(cause, "%s:%d: not valid JSON", scenario_json_path, line) < 0)
			*cause = NULL;
		return -EINVAL;
	}
	free(text);
	r = run(scenario_json_path, root, outdir, cause);
	cJSON_Delete(root);
	return r;
}
