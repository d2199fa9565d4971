/* /lib/modules/KVER: what is installed for the running kernel.  Every
 * in-tree module of the catalogue and every loaded module is installed
 * unless the scenario says otherwise; modules.dep and modules.builtin are
 * the text indexes depmod writes, and each .ko is a small ELF object whose
 * .modinfo section modinfo(8) and libkmod can read.  Like Ubuntu's, the
 * files are zstd-compressed (.ko.zst) unless kernel.module_compression is
 * "none"; the frame stores the object in a raw block, so its strings stay
 * readable without a decompressor. */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fh.h"

struct inst {
	const char *name;
	const char *version;
	const char *srcversion;  /* NULL: made up from the version */
	char path[256];          /* relative to /lib/modules/KVER */
	bool intree;
};

struct insts {
	struct inst *v;
	int n, cap;
};

static struct inst *find(struct insts *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

static void add(struct insts *l, const char *name, const char *version, const char *srcversion,
                bool dkms, const char *ext)
{
	struct inst *e;
	char file[200];
	const char *base;

	if (find(l, name))
		return;
	l->v = fh_grow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	e = &l->v[l->n++];
	e->name = name;
	e->version = version;
	e->srcversion = srcversion;
	e->intree = !dkms;
	fh_module_file(name, file, sizeof(file));
	base = strrchr(file, '/');
	if (dkms)
		snprintf(e->path, sizeof(e->path), "updates/dkms/%s%s", base ? base + 1 : file, ext);
	else
		snprintf(e->path, sizeof(e->path), "kernel/%s%s", file, ext);
}

/* A zstd frame (RFC 8878) holding data in one raw block. */
static unsigned char *zstd_raw(const unsigned char *data, size_t len, size_t *out_len)
{
	unsigned char *z = fh_alloc(len + 12);
	uint32_t block = 1u | (uint32_t)len << 3;   /* last block, raw */

	z[0] = 0x28, z[1] = 0xb5, z[2] = 0x2f, z[3] = 0xfd;
	z[4] = 0xa0;   /* single segment, 4-byte content size */
	for (int i = 0; i < 4; i++)
		z[5 + i] = (unsigned char)(len >> (8 * i));
	for (int i = 0; i < 3; i++)
		z[9 + i] = (unsigned char)(block >> (8 * i));
	memcpy(z + 12, data, len);
	*out_len = len + 12;
	return z;
}

/* A relocatable ELF object with .modinfo and the section name table. */
static unsigned char *elf_module(const char *info, size_t ilen, size_t *out_len)
{
	static const char shstr[] = "\0.modinfo\0.shstrtab";
	size_t data = sizeof(Elf64_Ehdr), strs = data + ilen;
	size_t shoff = (strs + sizeof(shstr) + 7) & ~(size_t)7;
	size_t len = shoff + 3 * sizeof(Elf64_Shdr);
	unsigned char *buf = fh_alloc(len);
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[3];

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_shoff = shoff;
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 2;
	memset(sh, 0, sizeof(sh));
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_PROGBITS;
	sh[1].sh_flags = SHF_ALLOC;
	sh[1].sh_offset = data;
	sh[1].sh_size = ilen;
	sh[1].sh_addralign = 1;
	sh[2].sh_name = 10;
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = strs;
	sh[2].sh_size = sizeof(shstr);
	sh[2].sh_addralign = 1;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + data, info, ilen);
	memcpy(buf + strs, shstr, sizeof(shstr));
	memcpy(buf + shoff, sh, sizeof(sh));
	*out_len = len;
	return buf;
}

static size_t info_add(char *buf, size_t len, size_t size, const char *key, const char *val)
{
	int n = snprintf(buf + len, size - len, "%s=%s", key, val);

	/* Each string keeps its NUL: .modinfo is a run of C strings. */
	return n < 0 || (size_t)n + 1 >= size - len ? len : len + (size_t)n + 1;
}

static int write_ko(struct fh_host *h, const struct inst *e, const char *deps)
{
	char info[1024], path[512], dir[512];
	size_t ilen = 0, klen;
	unsigned char *ko;
	const char *slash;
	int r;

	if (e->version)
		ilen = info_add(info, ilen, sizeof(info), "version", e->version);
	ilen = info_add(info, ilen, sizeof(info), "license", "GPL");
	if (e->srcversion) {
		ilen = info_add(info, ilen, sizeof(info), "srcversion", e->srcversion);
	} else if (e->version) {
		char src[32];

		snprintf(src, sizeof(src), "%08X%015llX", (unsigned)strlen(e->name) * 0x9E3779B1u,
			 (unsigned long long)strlen(e->version) * 0x9E3779B97F4A7C1ull);
		ilen = info_add(info, ilen, sizeof(info), "srcversion", src);
	}
	ilen = info_add(info, ilen, sizeof(info), "depends", deps);
	ilen = info_add(info, ilen, sizeof(info), "retpoline", "Y");
	if (e->intree)
		ilen = info_add(info, ilen, sizeof(info), "intree", "Y");
	ilen = info_add(info, ilen, sizeof(info), "name", e->name);
	snprintf(path, sizeof(path), "%s SMP preempt mod_unload modversions ", h->release);
	ilen = info_add(info, ilen, sizeof(info), "vermagic", path);
	snprintf(path, sizeof(path), "lib/modules/%s/%s", h->release, e->path);
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (fh_mkdirs(h, h->rootfd, dir) < 0)
		return -h->err;
	ko = elf_module(info, ilen, &klen);
	if (h->module_zstd) {
		size_t zlen;
		unsigned char *z = zstd_raw(ko, klen, &zlen);

		free(ko);
		ko = z;
		klen = zlen;
	}
	r = fh_put(h, h->rootfd, path, ko, klen, 0644);
	free(ko);
	return r;
}

/* depmod lists every module a module needs, nearest first. */
static void dep_closure(struct insts *l, const char *name, char *paths, size_t psize,
                        char *names, size_t nsize, int depth)
{
	const char *driver, *deps;
	bool oot;
	unsigned size;
	char *list, *save = NULL;

	if (depth > 8)
		return;
	fh_module_facts(name, &driver, &deps, &oot, &size);
	list = fh_strdup(deps);
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct inst *d = find(l, t);
		size_t pl = strlen(paths), nl = strlen(names);

		if (!d)
			continue;
		if (depth == 0)
			snprintf(names + nl, nsize - nl, "%s%s", nl ? "," : "", t);
		if (strstr(paths, d->path))
			continue;
		snprintf(paths + pl, psize - pl, " %s", d->path);
		dep_closure(l, t, paths, psize, names, nsize, depth + 1);
	}
	free(list);
}

int fh_write_kmod(struct fh_host *h)
{
	struct insts l = { 0 };
	char dir[256], *dep = NULL, *builtin = NULL;
	size_t dlen = 0, blen = 0, dcap = 0, bcap = 0;
	bool oot;
	const char *name, *ext = h->module_zstd ? ".zst" : "";
	int r = 0;

	for (int i = 0; i < h->n_mods; i++) {
		const struct fh_module *m = &h->mods[i];
		int inst = m->installed == FH_AUTO ? !m->builtin : m->installed;
		const char *v = m->installed_version ? m->installed_version : m->version;

		/* The loaded file is the installed one unless a version says not. */
		const char *src = !m->installed_version ||
				  (m->version && !strcmp(m->version, m->installed_version)) ?
				  m->srcversion : NULL;

		if (inst && !m->builtin)
			add(&l, m->name, v, src, v != NULL || (m->oot && !strcmp(m->name, "gim")), ext);
	}
	for (int i = 0; (name = fh_module_catalog(i, &oot)); i++) {
		const struct fh_module *m = fh_module_get(h, name);

		if (!oot && !m)
			add(&l, name, NULL, NULL, false, ext);
	}
	for (int i = 0; i < l.n && r == 0; i++) {
		char paths[2048] = "", names[512] = "";
		size_t need;

		dep_closure(&l, l.v[i].name, paths, sizeof(paths), names, sizeof(names), 0);
		need = strlen(l.v[i].path) + strlen(paths) + 3;
		if (dlen + need >= dcap) {
			dcap = (dcap + need) * 2;
			dep = realloc(dep, dcap);
			if (!dep)
				abort();
		}
		dlen += (size_t)snprintf(dep + dlen, dcap - dlen, "%s:%s\n", l.v[i].path, paths);
		r = write_ko(h, &l.v[i], names);
	}
	for (int i = 0; i < h->n_mods && r == 0; i++) {
		char file[200];
		size_t need;

		if (!h->mods[i].builtin)
			continue;
		fh_module_file(h->mods[i].name, file, sizeof(file));
		need = strlen(file) + 9;
		if (blen + need >= bcap) {
			bcap = (bcap + need) * 2;
			builtin = realloc(builtin, bcap);
			if (!builtin)
				abort();
		}
		/* modules.builtin names the module as if it were a file. */
		blen += (size_t)snprintf(builtin + blen, bcap - blen, "kernel/%s\n", file);
	}
	snprintf(dir, sizeof(dir), "lib/modules/%s", h->release);
	if (r == 0)
		r = fh_mkdirs(h, h->rootfd, dir);
	if (r == 0) {
		int fd = fh_opendir(h, dir);

		r = fd < 0 ? fd : fh_put(h, fd, "modules.dep", dep ? dep : "", dlen, 0644);
		if (r == 0)
			r = fh_put(h, fd, "modules.builtin", builtin ? builtin : "", blen, 0644);
		if (fd >= 0)
			close(fd);
	}
	free(dep);
	free(builtin);
	free(l.v);
	return r;
}
