#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "host/pcidb.h"
#include "base/util.h"

/* libpci's error callback must not return ("Write error message and quit").
 * We jump back to the call that entered the library instead, so a garbled
 * file makes one lookup fail rather than ending the process.  libpci keeps
 * no pointer to us in its callbacks, hence one active context per thread. */
static _Thread_local jmp_buf *pci_jmp;
static _Thread_local char pci_errmsg[256];

static void PCI_NONRET PCI_PRINTF(1, 2) pci_error_cb(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	vsnprintf(pci_errmsg, sizeof(pci_errmsg), msg, ap);
	va_end(ap);
	if (pci_jmp)
		longjmp(*pci_jmp, 1);
	/* Not reachable: every entry into libpci sets pci_jmp. */
	abort();
}

static void PCI_PRINTF(1, 2) pci_quiet_cb(char *msg, ...)
{
	(void)msg;
}

struct av_pcidb {
	struct pci_access *pacc;
	char sysfs_path[PATH_MAX];
};

#define PCI_GUARD(ret_on_error)                         \
	jmp_buf env__;                                  \
	jmp_buf *saved__ = pci_jmp;                     \
	if (setjmp(env__)) {                            \
		pci_jmp = saved__;                      \
		return ret_on_error;                    \
	}                                               \
	pci_jmp = &env__
#define PCI_UNGUARD() (pci_jmp = saved__)

struct av_pcidb *av_pcidb_open(const struct av_host *host, char **cause)
{
	struct av_pcidb *volatile db = calloc(1, sizeof(*db));
	static char sysfs_param[] = "sysfs.path";
	if (!db) {
		av_set_cause(cause, "out of memory");
		return NULL;
	}
	av_host_path(host, "/sys/bus/pci", db->sysfs_path, sizeof(db->sysfs_path));
	db->pacc = pci_alloc();
	if (!db->pacc) {
		av_set_cause(cause, "libpci: cannot allocate");
		free(db);
		return NULL;
	}
	db->pacc->error = pci_error_cb;
	db->pacc->warning = pci_quiet_cb;
	db->pacc->debug = pci_quiet_cb;
	db->pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	/* Names come only from the local pci.ids: no DNS, no cache under $HOME
	 * and no udev hwdb, which would be the running host's, not ROOT's. */
	db->pacc->id_lookup_mode = PCI_LOOKUP_NO_HWDB;
	{
		PCI_GUARD((av_set_cause(cause, "libpci: %s", pci_errmsg),
		           pci_cleanup(db->pacc), free(db), (struct av_pcidb *)NULL));
		pci_set_param(db->pacc, sysfs_param, db->sysfs_path);
		pci_init(db->pacc);
		PCI_UNGUARD();
	}
	return db;
}

void av_pcidb_free(struct av_pcidb *db)
{
	if (!db)
		return;
	pci_cleanup(db->pacc);
	free(db);
}

static char *lookup(struct av_pcidb *db, int flags, unsigned a, unsigned b)
{
	char buf[256];
	char *r;
	PCI_GUARD(NULL);
	r = pci_lookup_name(db->pacc, buf, sizeof(buf), flags | PCI_LOOKUP_NO_NUMBERS, a, b);
	PCI_UNGUARD();
	return r ? strdup(r) : NULL;
}

char *av_pcidb_device_name(struct av_pcidb *db, uint16_t vendor, uint16_t device)
{
	return db ? lookup(db, PCI_LOOKUP_DEVICE, (unsigned)vendor, (unsigned)device) : NULL;
}

char *av_pcidb_vendor_name(struct av_pcidb *db, uint16_t vendor)
{
	return db ? lookup(db, PCI_LOOKUP_VENDOR, (unsigned)vendor, 0u) : NULL;
}

char *av_pcidb_class_name(struct av_pcidb *db, uint32_t class_code)
{
	return db ? lookup(db, PCI_LOOKUP_CLASS, (unsigned)(class_code >> 8), 0u) : NULL;
}

static int parse_bdf(const char *bdf, int *dom, int *bus, int *dev, int *fn)
{
	if (!av_bdf_valid(bdf) || sscanf(bdf, "%x:%x:%x.%d", dom, bus, dev, fn) != 4)
		return -EINVAL;
	return 0;
}

int av_pcidb_config(struct av_pcidb *db, const char *bdf, uint8_t *buf, size_t size)
{
	int dom, bus, dev, fn;
	if (!db || parse_bdf(bdf, &dom, &bus, &dev, &fn) < 0)
		return -EINVAL;
	struct pci_dev *volatile d = NULL;
	volatile int got = 0;
	{
		PCI_GUARD((d ? pci_free_dev(d) : (void)0, -EIO));
		d = pci_get_dev(db->pacc, dom, bus, dev, fn);
		if (!d) {
			PCI_UNGUARD();
			return -ENOMEM;
		}
		/* Read in 64-byte steps: the kernel hides all but the first 64
		 * bytes from non-root readers, and a truncated file ends early. */
		for (size_t off = 0; off < size; off += 64) {
			size_t n = size - off < 64 ? size - off : 64;
			if (pci_read_block(d, (int)off, buf + off, (int)n)) {
				got += (int)n;
				continue;
			}
			/* A short file: keep what can be read, dword by dword. */
			for (size_t k = 0; k + 4 <= n && pci_read_block(d, (int)(off + k), buf + off + k, 4); k += 4)
				got += 4;
			break;
		}
		pci_free_dev(d);
		PCI_UNGUARD();
	}
	return got ? got : -EIO;
}

int av_pcidb_find_cap(struct av_pcidb *db, const char *bdf, unsigned id, int extended)
{
	int dom, bus, dev, fn;
	if (!db || parse_bdf(bdf, &dom, &bus, &dev, &fn) < 0)
		return -EINVAL;
	struct pci_dev *volatile d = NULL;
	int ret;
	PCI_GUARD((d ? pci_free_dev(d) : (void)0, -EIO));
	d = pci_get_dev(db->pacc, dom, bus, dev, fn);
	if (!d) {
		PCI_UNGUARD();
		return -ENOMEM;
	}
	uint8_t probe[4];
	if (extended && !pci_read_block(d, 0x100, probe, 4)) {
		ret = -EACCES;
	} else {
		pci_fill_info(d, extended ? PCI_FILL_EXT_CAPS : PCI_FILL_CAPS);
		struct pci_cap *cap = pci_find_cap(d, id, extended ? PCI_CAP_EXTENDED : PCI_CAP_NORMAL);
		ret = cap ? cap->addr : 0;
	}
	pci_free_dev(d);
	PCI_UNGUARD();
	return ret;
}
