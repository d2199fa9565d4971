/* What amdgpu adds for the functions it drives: DRM minors, the device
 * attributes the tools read (product_name, xgmi_hive_info), the KFD
 * topology and /dev/kfd; and the hive record amdvirt keeps for GPUs whose
 * driver no longer shows hive ids. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fh.h"

#define RO 0444

#define KFD_DIR "sys/devices/virtual/kfd/kfd"
#define KFD_NODES KFD_DIR "/topology/nodes"

static bool on_amdgpu(const struct fh_dev *d)
{
	return d->driver && !strcmp(d->driver, "amdgpu") && d->vendor == 0x1002;
}

/* The hive's kobject lives under its first member; the others link to it
 * (drivers/gpu/drm/amd/amdgpu/amdgpu_xgmi.c). */
static int xgmi(struct fh_host *h, const struct fh_dev *d, int dfd)
{
	const struct fh_hive *hv = &h->hives[d->hive];
	const struct fh_dev *first = NULL;
	char path[512], to[512];
	int pos = 0;

	for (int k = 0; k < hv->n; k++) {
		const struct fh_dev *m = &h->devs[hv->members[k]];

		if (!on_amdgpu(m))
			continue;
		if (!first)
			first = m;
		if (m == d)
			break;
		pos++;
	}
	if (fh_putf(h, dfd, "xgmi_device_id", RO, "%llu\n",
		    (unsigned long long)strtoull(hv->id, NULL, 10) ^ (0x9e3779b97f4a7c15ull * (unsigned)(pos + 1))) < 0 ||
	    fh_putf(h, dfd, "xgmi_physical_id", RO, "%d\n", pos) < 0)
		return -h->err;
	snprintf(path, sizeof(path), "%s/xgmi_hive_info", first->path);
	if (first == d) {
		int fd;

		if (fh_mkdir(h, h->rootfd, path) < 0 || (fd = fh_opendir(h, path)) < 0)
			return -h->err;
		if (fh_putf(h, fd, "xgmi_hive_id", RO, "%s\n", hv->id) < 0) {
			close(fd);
			return -h->err;
		}
		close(fd);
	} else {
		snprintf(to, sizeof(to), "%s/xgmi_hive_info", d->path);
		if (fh_rlink(h, to, path) < 0)
			return -h->err;
	}
	snprintf(to, sizeof(to), "%s/xgmi_hive_info/node%d", first->path, pos + 1);
	return fh_rlink(h, to, d->path);
}

static int minor_dir(struct fh_host *h, const struct fh_dev *d, const char *name, int major,
                     int minor)
{
	char path[512], link[640];
	int fd, r;

	snprintf(path, sizeof(path), "%s/drm/%s", d->path, name);
	if (fh_mkdirs(h, h->rootfd, path) < 0 || (fd = fh_opendir(h, path)) < 0)
		return -h->err;
	r = fh_putf(h, fd, "dev", RO, "%d:%d\n", major, minor);
	if (r == 0)
		r = fh_putf(h, fd, "uevent", 0644, "MAJOR=%d\nMINOR=%d\nDEVNAME=dri/%s\n"
			    "DEVTYPE=drm_minor\n", major, minor, name);
	close(fd);
	if (r < 0)
		return r;
	snprintf(link, sizeof(link), "%s/device", path);
	if (fh_rlink(h, link, d->path) < 0)
		return -h->err;
	snprintf(link, sizeof(link), "%s/subsystem", path);
	if (fh_rlink(h, link, "sys/class/drm") < 0)
		return -h->err;
	snprintf(link, sizeof(link), "sys/class/drm/%s", name);
	if (fh_rlink(h, link, path) < 0)
		return -h->err;
	snprintf(link, sizeof(link), "dev/dri/%s", name);
	return fh_put(h, h->rootfd, link, "", 0, 0660);
}

static int drm(struct fh_host *h, struct fh_dev *d, int card)
{
	char name[32], link[128], to[64];
	int dfd;

	snprintf(name, sizeof(name), "card%d", card);
	if (minor_dir(h, d, name, 226, card) < 0)
		return -h->err;
	snprintf(link, sizeof(link), "dev/dri/by-path/pci-%s-card", d->bdf);
	snprintf(to, sizeof(to), "dev/dri/%s", name);
	if (fh_rlink(h, link, to) < 0)
		return -h->err;
	snprintf(name, sizeof(name), "renderD%d", 128 + card);
	if (minor_dir(h, d, name, 226, 128 + card) < 0)
		return -h->err;
	snprintf(link, sizeof(link), "dev/dri/by-path/pci-%s-render", d->bdf);
	snprintf(to, sizeof(to), "dev/dri/%s", name);
	if (fh_rlink(h, link, to) < 0)
		return -h->err;
	d->card = card;
	if ((dfd = fh_opendir(h, d->path)) < 0)
		return -h->err;
	if ((d->model && fh_putf(h, dfd, "product_name", RO, "%s\n", d->model->product) < 0) ||
	    (d->model && fh_putf(h, dfd, "mem_info_vram_total", RO, "%llu\n",
				 (unsigned long long)d->model->vram) < 0) ||
	    fh_putf(h, dfd, "unique_id", RO, "%016llx\n",
		    0x5a1f000000000000ull | (unsigned long long)(d->domain << 16 | d->bus << 8 | d->devfn)) < 0 ||
	    (d->hive >= 0 && xgmi(h, d, dfd) < 0)) {
		close(dfd);
		return -h->err;
	}
	if (d->model && d->model->gfx_target >= 90400 && d->model->gfx_target < 90500 &&
	    (fh_putf(h, dfd, "current_compute_partition", 0644, "SPX\n") < 0 ||
	     fh_putf(h, dfd, "current_memory_partition", 0644, "NPS1\n") < 0)) {
		close(dfd);
		return -h->err;
	}
	close(dfd);
	return 0;
}

static int kfd_cpu_node(struct fh_host *h, int node, int socket)
{
	char path[128];
	int fd, r, per = h->cpus / (h->numa ? h->sockets : 1);

	snprintf(path, sizeof(path), KFD_NODES "/%d/mem_banks/0", node);
	if (fh_mkdirs(h, h->rootfd, path) < 0 || (fd = fh_opendir(h, path)) < 0)
		return -h->err;
	r = fh_putf(h, fd, "properties", RO, "heap_type 0\nsize_in_bytes 811748671488\nflags 0\n"
		    "width 64\nmem_clk_max 4800\n");
	close(fd);
	snprintf(path, sizeof(path), KFD_NODES "/%d", node);
	if (r < 0 || (fd = fh_opendir(h, path)) < 0)
		return -h->err;
	r = fh_putf(h, fd, "properties", RO,
		    "cpu_cores_count %d\nsimd_count 0\nmem_banks_count 1\ncaches_count 0\n"
		    "io_links_count 0\np2p_links_count 0\ncpu_core_id_base %d\nsimd_id_base 0\n"
		    "max_waves_per_simd 0\nlds_size_in_kb 0\ngds_size_in_kb 0\nnum_gws 0\n"
		    "wave_front_size 0\narray_count 0\nsimd_arrays_per_engine 0\n"
		    "cu_per_simd_array 0\nsimd_per_cu 0\nmax_slots_scratch_cu 0\n"
		    "gfx_target_version 0\nvendor_id 0\ndevice_id 0\nlocation_id 0\ndomain 0\n"
		    "drm_render_minor 0\nhive_id 0\nnum_sdma_engines 0\nnum_sdma_xgmi_engines 0\n"
		    "num_sdma_queues_per_engine 0\nnum_cp_queues 0\nmax_engine_clk_ccompute 3700\n",
		    per, socket * per);
	if (r == 0)
		r = fh_putf(h, fd, "gpu_id", RO, "0\n");
	if (r == 0)
		r = fh_putf(h, fd, "name", RO, "\n");
	close(fd);
	return r;
}

static int kfd_gpu_node(struct fh_host *h, int node, const struct fh_dev *d)
{
	const struct fh_model *m = d->model;
	char path[128];
	int fd, r;
	int cus = m ? m->simd_count / m->simd_per_cu : 0;
	int arrays = m && m->num_xcc > 0 ? m->num_xcc * 4 : 1;
	unsigned gpu_id = 0x1000u + (unsigned)((d->bus << 8 | d->devfn) * 7919u % 60000u);

	if (!m)
		return 0;
	snprintf(path, sizeof(path), KFD_NODES "/%d/mem_banks/0", node);
	if (fh_mkdirs(h, h->rootfd, path) < 0 || (fd = fh_opendir(h, path)) < 0)
		return -h->err;
	r = fh_putf(h, fd, "properties", RO, "heap_type 1\nsize_in_bytes %llu\nflags 0\n"
		    "width 8192\nmem_clk_max 1300\n", (unsigned long long)m->vram);
	close(fd);
	snprintf(path, sizeof(path), KFD_NODES "/%d", node);
	if (r < 0 || (fd = fh_opendir(h, path)) < 0)
		return -h->err;
	if (fh_mkdir(h, fd, "io_links") < 0 || fh_mkdir(h, fd, "p2p_links") < 0 ||
	    fh_mkdir(h, fd, "caches") < 0) {
		close(fd);
		return -h->err;
	}
	r = fh_putf(h, fd, "properties", RO,
		    "cpu_cores_count 0\nsimd_count %d\nmem_banks_count 1\ncaches_count 0\n"
		    "io_links_count 0\np2p_links_count 0\ncpu_core_id_base 0\nsimd_id_base %u\n"
		    "max_waves_per_simd 8\nlds_size_in_kb 64\ngds_size_in_kb 0\nnum_gws 64\n"
		    "wave_front_size 64\narray_count %d\nsimd_arrays_per_engine 1\n"
		    "cu_per_simd_array %d\nsimd_per_cu %d\nmax_slots_scratch_cu 32\n"
		    "gfx_target_version %u\nvendor_id 4098\ndevice_id %u\nlocation_id %d\n"
		    "domain %d\ndrm_render_minor %d\nhive_id %s\nnum_sdma_engines 2\n"
		    "num_sdma_xgmi_engines 6\nnum_sdma_queues_per_engine 8\nnum_cp_queues 64\n"
		    "max_engine_clk_fcompute 2100\nlocal_mem_size 0\nfw_version 177\n"
		    "capability 1006354560\ndebug_prop 1495\nsdma_fw_version 19\n"
		    "unique_id %llu\nnum_xcc %d\nmax_engine_clk_ccompute 3700\n",
		    m->simd_count, 0x80001000u + (unsigned)node * 0x1000u, arrays,
		    cus / arrays, m->simd_per_cu, m->gfx_target,
		    d->device, d->bus << 8 | d->devfn, d->domain, 128 + d->card,
		    d->hive >= 0 ? h->hives[d->hive].id : "0",
		    0x5a1f000000000000ull | (unsigned long long)(d->domain << 16 | d->bus << 8 | d->devfn),
		    m->num_xcc);
	if (r == 0)
		r = fh_putf(h, fd, "gpu_id", RO, "%u\n", gpu_id);
	if (r == 0)
		r = fh_putf(h, fd, "name", RO, "%s\n", m->name);
	close(fd);
	return r;
}

static int kfd(struct fh_host *h)
{
	int node = 0, cpu_nodes = h->numa ? h->sockets : 1;

	if (fh_mkdirs(h, h->rootfd, KFD_NODES) < 0 ||
	    fh_putf(h, h->rootfd, KFD_DIR "/dev", RO, "238:0\n") < 0 ||
	    fh_putf(h, h->rootfd, KFD_DIR "/uevent", 0644, "MAJOR=238\nMINOR=0\nDEVNAME=kfd\n") < 0 ||
	    fh_putf(h, h->rootfd, KFD_DIR "/topology/generation_id", RO, "1\n") < 0 ||
	    fh_putf(h, h->rootfd, KFD_DIR "/topology/system_properties", RO,
		    "platform_oem 0\nplatform_id 0\nplatform_rev 0\n") < 0 ||
	    fh_mkdirs(h, h->rootfd, "sys/class/kfd") < 0 ||
	    fh_rlink(h, "sys/class/kfd/kfd", KFD_DIR) < 0 ||
	    fh_put(h, h->rootfd, "dev/kfd", "", 0, 0666) < 0)
		return -h->err;
	for (int s = 0; s < cpu_nodes; s++)
		if (kfd_cpu_node(h, node++, s) < 0)
			return -h->err;
	for (int i = 0; i < h->n_devs; i++)
		if (h->devs[i].card >= 0 && kfd_gpu_node(h, node++, &h->devs[i]) < 0)
			return -h->err;
	return 0;
}

static int hive_record(struct fh_host *h)
{
	cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "hives");
	char *text;
	int r;

	for (int i = 0; i < h->n_hives; i++) {
		cJSON *o = cJSON_CreateObject(), *gpus;

		cJSON_AddStringToObject(o, "xgmi_hive_id", h->hives[i].id);
		gpus = cJSON_AddArrayToObject(o, "gpus");
		for (int k = 0; k < h->hives[i].n; k++)
			cJSON_AddItemToArray(gpus, cJSON_CreateString(h->devs[h->hives[i].members[k]].bdf));
		cJSON_AddItemToArray(list, o);
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		abort();
	r = fh_mkdirs(h, h->rootfd, "var/lib/amdvirt");
	if (r == 0)
		r = fh_putf(h, h->rootfd, "var/lib/amdvirt/hives.json", 0644, "%s\n", text);
	free(text);
	return r;
}

int fh_write_amdgpu(struct fh_host *h)
{
	int card = 0, n, *order;
	bool loaded = fh_module_loaded(h, "amdgpu");

	if (h->record_hives && hive_record(h) < 0)
		return -h->err;
	if (!loaded)
		return 0;
	if (fh_mkdirs(h, h->rootfd, "sys/class/drm") < 0 ||
	    fh_mkdirs(h, h->rootfd, "dev/dri/by-path") < 0)
		return -h->err;
	/* Minors in probe order; functions of other drivers have none. */
	order = fh_probe_order(h, &n);
	for (int k = 0; k < n; k++)
		if (on_amdgpu(&h->devs[order[k]]) && drm(h, &h->devs[order[k]], card++) < 0)
			break;
	free(order);
	return h->cause ? -h->err : kfd(h);
}
