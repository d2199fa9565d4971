/* The scenario's top level: host-wide settings with their defaults, the
 * device sections in order, then what follows from them (VFs, NUMA nodes,
 * loaded modules). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fh.h"

static const char *const top_keys[] = {
	"description", "hostname", "kernel", "cpu", "topology", "modules", "gpus", "others",
	"devices", "record_hives", "kubelet", "kvm", "files", "remove", "symlinks", "dirs", "age",
	"processes", NULL,
};
static const char *const kernel_keys[] = {
	"release", "cmdline", "grub", "iommu", "iommu_type", "firmware", "irq_remap", "iommufd",
	"vfio_cdev", "dmesg", "module_compression", NULL,
};
static const char *const cpu_keys[] = { "model", "count", "svm", NULL };
static const char *const topo_keys[] = { "sockets", "root_complexes", "numa", NULL };
static const char *const module_keys[] = {
	"version", "srcversion", "params", "builtin", "refcnt", "driver", "loaded", "installed",
	NULL,
};

static bool has_token(const char *cmdline, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = cmdline; (p = strstr(p, tok)); p += n)
		if ((p == cmdline || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* What GRUB's GRUB_CMDLINE_LINUX_DEFAULT would hold to give this command
 * line: everything but what the boot loader adds itself. */
static char *grub_from_cmdline(const char *cmdline)
{
	char *out = fh_alloc(strlen(cmdline) + 1), *copy = fh_strdup(cmdline), *save = NULL;
	size_t len = 0;

	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (!strncmp(t, "BOOT_IMAGE=", 11) || !strncmp(t, "root=", 5) || !strcmp(t, "ro") ||
		    !strcmp(t, "rw"))
			continue;
		len += (size_t)sprintf(out + len, "%s%s", len ? " " : "", t);
	}
	free(copy);
	return out;
}

static int kernel(struct fh_host *h, const cJSON *k)
{
	const char *s = NULL;
	const cJSON *v;

	h->release = fh_strdup("6.8.0-45-generic");
	h->iommu_type = NULL;
	h->firmware = fh_strdup("IVRS");
	h->irq_remap = true;
	h->module_zstd = true;
	if (k) {
		if (fh_keys(h, k, "kernel", kernel_keys) < 0)
			return -h->err;
		if (fh_get_str(h, k, "release", "kernel", &s) > 0 && s) {
			free(h->release);
			h->release = fh_strdup(s);
		}
		if (fh_get_str(h, k, "cmdline", "kernel", &s) > 0 && s)
			h->cmdline = fh_strdup(s);
		if (fh_get_str(h, k, "grub", "kernel", &s) > 0 && s)
			h->grub_cmdline = fh_strdup(s);
		if (fh_get_str(h, k, "iommu_type", "kernel", &s) > 0 && s)
			h->iommu_type = fh_strdup(s);
		if (fh_get_str(h, k, "firmware", "kernel", &s) > 0) {
			free(h->firmware);
			h->firmware = fh_strdup(s);
		}
		fh_get_bool(h, k, "irq_remap", "kernel", &h->irq_remap);
		if (fh_get_str(h, k, "module_compression", "kernel", &s) > 0) {
			if (!s || (strcmp(s, "zstd") && strcmp(s, "none")))
				return fh_fail(h, EINVAL, "kernel.module_compression: zstd or none");
			h->module_zstd = !strcmp(s, "zstd");
		}
		fh_get_bool(h, k, "iommufd", "kernel", &h->iommufd);
		fh_get_bool(h, k, "vfio_cdev", "kernel", &h->vfio_cdev);
		v = fh_get(k, "dmesg");
		if (v && !cJSON_IsArray(v))
			return fh_fail(h, EINVAL, "kernel.dmesg: expected a list of lines");
		h->dmesg = v;
		if (h->cause)
			return -h->err;
	}
	if (!h->cmdline)
		h->cmdline = fh_printf("BOOT_IMAGE=/boot/vmlinuz-%s "
				       "root=UUID=3b8f1c2e-6a4d-4e0b-9f1a-2c7d5e8a9b10 ro", h->release);
	if (!h->grub_cmdline)
		h->grub_cmdline = grub_from_cmdline(h->cmdline);
	/* AMD-Vi is on unless the command line turns it off. */
	h->iommu = !has_token(h->cmdline, "amd_iommu=off") && !has_token(h->cmdline, "iommu=off");
	if (k && fh_get_bool(h, k, "iommu", "kernel", &h->iommu) < 0)
		return -h->err;
	if (!h->iommu_type)
		h->iommu_type = fh_strdup(has_token(h->cmdline, "iommu=pt") ||
					  has_token(h->cmdline, "iommu.passthrough=1") ?
					  "identity" : "DMA-FQ");
	return 0;
}

static int machine(struct fh_host *h, const cJSON *root)
{
	const cJSON *cpu = fh_get(root, "cpu"), *topo = fh_get(root, "topology");
	const char *s = NULL;

	h->cpus = 16;
	h->svm = true;
	h->cpu_model = fh_strdup("AMD EPYC 9654 96-Core Processor");
	h->sockets = 2;
	h->rcs_initial = 8;
	h->numa = true;
	if (cpu) {
		if (fh_keys(h, cpu, "cpu", cpu_keys) < 0)
			return -h->err;
		fh_get_int(h, cpu, "count", "cpu", 1, 1024, &h->cpus);
		fh_get_bool(h, cpu, "svm", "cpu", &h->svm);
		if (fh_get_str(h, cpu, "model", "cpu", &s) > 0 && s) {
			free(h->cpu_model);
			h->cpu_model = fh_strdup(s);
		}
	}
	if (topo) {
		if (fh_keys(h, topo, "topology", topo_keys) < 0)
			return -h->err;
		fh_get_int(h, topo, "sockets", "topology", 1, 8, &h->sockets);
		fh_get_int(h, topo, "root_complexes", "topology", 1, 15, &h->rcs_initial);
		fh_get_bool(h, topo, "numa", "topology", &h->numa);
	}
	if (h->rcs_initial < h->sockets)
		return fh_fail(h, EINVAL, "topology: fewer root complexes than sockets");
	return h->cause ? -h->err : 0;
}

static int host_flags(struct fh_host *h, const cJSON *root)
{
	const char *s = NULL;
	static const struct { const char *key; int array; } hatches[] = {
		{ "files", 0 }, { "symlinks", 0 }, { "age", 0 }, { "remove", 1 }, { "dirs", 1 },
	};

	h->kvm = true;
	h->hostname = fh_strdup("fakehost");
	if (fh_get_str(h, root, "hostname", "scenario", &s) > 0 && s) {
		free(h->hostname);
		h->hostname = fh_strdup(s);
	}
	fh_get_bool(h, root, "record_hives", "scenario", &h->record_hives);
	fh_get_bool(h, root, "kubelet", "scenario", &h->kubelet);
	fh_get_bool(h, root, "kvm", "scenario", &h->kvm);
	for (size_t i = 0; i < sizeof(hatches) / sizeof(hatches[0]); i++) {
		const cJSON *v = fh_get(root, hatches[i].key);

		if (v && (hatches[i].array ? !cJSON_IsArray(v) : !cJSON_IsObject(v)))
			return fh_fail(h, EINVAL, "%s: expected %s", hatches[i].key,
				       hatches[i].array ? "a list of paths" : "an object {path: value}");
	}
	h->files = fh_get(root, "files");
	h->symlinks = fh_get(root, "symlinks");
	h->age = fh_get(root, "age");
	h->remove = fh_get(root, "remove");
	h->dirs = fh_get(root, "dirs");
	h->processes = fh_get(root, "processes");
	return h->cause ? -h->err : 0;
}

struct fh_module *fh_module_get(struct fh_host *h, const char *name)
{
	for (int i = 0; i < h->n_mods; i++)
		if (!strcmp(h->mods[i].name, name))
			return &h->mods[i];
	return NULL;
}

bool fh_module_loaded(struct fh_host *h, const char *name)
{
	const struct fh_module *m = fh_module_get(h, name);

	return m && m->loaded;
}

void fh_module_add(struct fh_host *h, const char *name, bool loaded)
{
	const char *driver, *deps;
	bool oot;
	unsigned size;
	struct fh_module *m = fh_module_get(h, name);
	char *list, *save = NULL;

	if (m && (m->loaded || !loaded))
		return;
	if (m) {
		m->loaded = true;
	} else {
		h->mods = realloc(h->mods, (size_t)(h->n_mods + 1) * sizeof(*h->mods));
		if (!h->mods)
			abort();
		m = &h->mods[h->n_mods++];
		memset(m, 0, sizeof(*m));
		m->name = fh_strdup(name);
		fh_module_facts(name, &driver, &deps, &oot, &size);
		m->driver = driver;
		m->oot = oot;
		m->size = size;
		m->refcnt = FH_AUTO;
		m->installed = FH_AUTO;
		m->loaded = loaded;
	}
	fh_module_facts(name, &driver, &deps, &oot, &size);
	list = fh_strdup(deps);
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
		fh_module_add(h, t, loaded);
	free(list);
}

static void norm(char *name)
{
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
}

int fh_modules(struct fh_host *h, const cJSON *obj)
{
	const cJSON *it;

	if (!obj)
		return 0;
	if (!cJSON_IsObject(obj))
		return fh_fail(h, EINVAL, "modules: expected an object {name: {...}}");
	cJSON_ArrayForEach(it, obj) {
		char name[64], where[96];
		struct fh_module *m;
		const char *s = NULL;
		const cJSON *p, *pv, *inst;
		bool loaded = true;

		snprintf(name, sizeof(name), "%s", it->string);
		norm(name);
		snprintf(where, sizeof(where), "modules.%s", it->string);
		if (fh_keys(h, it, where, module_keys) < 0 ||
		    fh_get_bool(h, it, "loaded", where, &loaded) < 0)
			return -h->err;
		fh_module_add(h, name, loaded);
		m = fh_module_get(h, name);
		inst = fh_get(it, "installed");
		if (cJSON_IsBool(inst)) {
			m->installed = cJSON_IsTrue(inst);
		} else if (cJSON_IsString(inst)) {
			m->installed = 1;
			m->installed_version = fh_strdup(inst->valuestring);
		} else if (inst) {
			return fh_fail(h, EINVAL, "%s.installed: expected true, false or a version",
				       where);
		}
		if (fh_get_str(h, it, "version", where, &s) > 0)
			m->version = fh_strdup(s);
		if (fh_get_str(h, it, "srcversion", where, &s) > 0)
			m->srcversion = fh_strdup(s);
		if (fh_get_str(h, it, "driver", where, &s) > 0)
			m->driver = s;
		fh_get_bool(h, it, "builtin", where, &m->builtin);
		fh_get_int(h, it, "refcnt", where, 0, 1 << 20, &m->refcnt);
		p = fh_get(it, "params");
		if (p && !cJSON_IsObject(p))
			return fh_fail(h, EINVAL, "%s.params: expected an object", where);
		cJSON_ArrayForEach(pv, p)
			if (!cJSON_IsString(pv))
				return fh_fail(h, EINVAL, "%s.params.%s: expected a string", where,
					       pv->string);
		m->params = p;
		if (h->cause)
			return -h->err;
	}
	return 0;
}

int fh_hive_add(struct fh_host *h, const char *id, int pf)
{
	struct fh_hive *hv = NULL;
	char *end;

	if (!*id || strtoull(id, &end, 10) == 0 || *end)
		return fh_fail(h, EINVAL, "%s: hive id '%s' is not a non-zero decimal number",
			       h->devs[pf].bdf, id);
	for (int i = 0; i < h->n_hives; i++)
		if (!strcmp(h->hives[i].id, id))
			hv = &h->hives[i];
	if (!hv) {
		h->hives = realloc(h->hives, (size_t)(h->n_hives + 1) * sizeof(*h->hives));
		if (!h->hives)
			abort();
		hv = &h->hives[h->n_hives++];
		memset(hv, 0, sizeof(*hv));
		hv->id = fh_strdup(id);
	}
	hv->members = realloc(hv->members, (size_t)(hv->n + 1) * sizeof(int));
	if (!hv->members)
		abort();
	hv->members[hv->n++] = pf;
	h->devs[pf].hive = (int)(hv - h->hives);
	return 0;
}

/* Modules follow from bound drivers; vfio-pci brings the vfio stack. */
static void derived_modules(struct fh_host *h)
{
	char buf[64];

	for (int i = 0; i < h->n_devs; i++) {
		const char *drv = h->devs[i].driver, *mod;

		if (!drv || !(mod = fh_driver_module(drv, buf, sizeof(buf))))
			continue;
		if (!fh_module_loaded(h, mod)) {
			struct fh_module *m;

			fh_module_add(h, mod, true);
			m = fh_module_get(h, mod);
			if (m && !m->driver)
				m->driver = h->devs[i].driver;
		}
	}
	if (fh_module_loaded(h, "vfio_pci"))
		fh_module_add(h, "vfio_iommu_type1", true);
	if (h->kvm)
		fh_module_add(h, "kvm_amd", true);
}

static void resolve(struct fh_host *h)
{
	for (int i = 0; i < h->n_devs; i++) {
		struct fh_dev *d = &h->devs[i];

		if (d->numa == FH_AUTO)
			d->numa = d->physfn >= 0 ? h->devs[d->physfn].numa :
				  h->numa ? h->rcs[d->rc].socket : -1;
		/* enable_cnt: drivers enable their devices at probe; vfio-pci and
		 * pci-stub only when a user opens them. */
		if (d->enable == FH_AUTO)
			d->enable = d->driver && strcmp(d->driver, "vfio-pci") &&
				    strcmp(d->driver, "pci-stub") ? 1 : 0;
	}
}

int fh_scenario(struct fh_host *h, const cJSON *root)
{
	if (!cJSON_IsObject(root))
		return fh_fail(h, EINVAL, "expected a JSON object");
	if (fh_keys(h, root, "scenario", top_keys) < 0 || host_flags(h, root) < 0 ||
	    kernel(h, fh_get(root, "kernel")) < 0 || machine(h, root) < 0)
		return -h->err;
	if (fh_rc_init(h, h->rcs_initial) < 0 || fh_gpus(h, fh_get(root, "gpus")) < 0 ||
	    fh_others(h, fh_get(root, "others")) < 0 || fh_devices(h, fh_get(root, "devices")) < 0)
		return -h->err;
	/* NUMA first: VFs copy their PF's. */
	for (int i = 0; i < h->n_devs; i++)
		if (h->devs[i].numa == FH_AUTO)
			h->devs[i].numa = h->numa ? h->rcs[h->devs[i].rc].socket : -1;
	if (fh_create_vfs(h) < 0 || fh_modules(h, fh_get(root, "modules")) < 0)
		return -h->err;
	derived_modules(h);
	resolve(h);
	return 0;
}
