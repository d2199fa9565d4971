/* The sysfs `resource` file of a PCI function (drivers/pci/pci-sysfs.c
 * resource_show): one "start end flags" line per resource, in hex.  Shared
 * by the checks (pci.above-4g, pci.vf-bars) and the console's detail pane,
 * so both read BARs the same way.  Pure functions over text read elsewhere. */
#ifndef AV_PCIRES_H
#define AV_PCIRES_H

#include <stdbool.h>
#include <stdint.h>

/* Resource flags (include/linux/ioport.h). */
#define AV_RES_IO 0x100ull
#define AV_RES_MEM 0x200ull
#define AV_RES_PREFETCH 0x2000ull
#define AV_RES_MEM_64 0x100000ull
#define AV_RES_DISABLED 0x10000000ull
#define AV_RES_UNSET 0x20000000ull

/* Line indexes: 0-5 BARs, 6 expansion ROM, 7-12 SR-IOV VF BARs (each the
 * window for TotalVFs VFs), 13-16 bridge windows. */
#define AV_RES_ROM 6
#define AV_RES_IOV_FIRST 7
#define AV_RES_IOV_LAST 12
#define AV_RES_MAX 17

struct av_resource {
	uint64_t start, end, flags;
};

/* Parses the whole file.  Returns the number of lines (<= max), or -EINVAL
 * with *bad_line set (1-based) when a line is not three hex numbers. */
int av_resource_parse(const char *text, struct av_resource *out, int max, int *bad_line);
/* Whether the line describes a resource at all (absent ones are all zero). */
bool av_resource_present(const struct av_resource *r);
/* A memory resource the firmware or kernel left without an address. */
bool av_resource_unassigned(const struct av_resource *r);
/* Bytes covered, 0 for an absent resource. */
uint64_t av_resource_size(const struct av_resource *r);
/* Placed at or above 4 GiB (what Above 4G Decoding makes possible). */
bool av_resource_above_4g(const struct av_resource *r);

/* "256 MiB", "64 GiB" (power-of-two sizes print exactly). */
void av_size_str(uint64_t bytes, char *buf, int size);

#endif
