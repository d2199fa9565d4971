/* libpci, pointed at ROOT/sys/bus/pci, for what it does best: names from
 * pci.ids and config space (with extended capabilities).  Its error
 * callbacks are replaced so that nothing in the library exits the process. */
#ifndef AV_PCIDB_H
#define AV_PCIDB_H

#include <stdint.h>
#include <stddef.h>

#include "host/host.h"

struct av_pcidb;

/* Returns NULL (and *cause) when libpci cannot be initialised. */
struct av_pcidb *av_pcidb_open(const struct av_host *host, char **cause);
void av_pcidb_free(struct av_pcidb *db);

/* Device name from pci.ids ("Aqua Vanjaram [Instinct MI300X]"), or NULL.
 * The string is allocated. */
char *av_pcidb_device_name(struct av_pcidb *db, uint16_t vendor, uint16_t device);
char *av_pcidb_vendor_name(struct av_pcidb *db, uint16_t vendor);
char *av_pcidb_class_name(struct av_pcidb *db, uint32_t class_code);

/* Reads config space of BDF into buf (up to size bytes; 4096 for extended
 * space).  Returns the number of bytes libpci could read (64 when the
 * caller is not root and the kernel hides the rest), or -errno. */
int av_pcidb_config(struct av_pcidb *db, const char *bdf, uint8_t *buf, size_t size);

/* Finds a capability: standard (extended=0) or extended (extended=1).
 * Returns its offset in config space, 0 when absent, -errno on error
 * (-EACCES when extended space is hidden because we are not root). */
int av_pcidb_find_cap(struct av_pcidb *db, const char *bdf, unsigned id, int extended);

#endif
