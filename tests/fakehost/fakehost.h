/* Fake hosts: a directory tree laid out as the Linux kernel lays out
 * sysfs, procfs and /dev (plus the few files under /etc, /boot, /lib and
 * /var the program reads), built from a small declarative JSON scenario.
 * The program under test reads it through --root DIR.  The scenario
 * format is described in tests/fakehost/README.md. */
#ifndef FAKEHOST_H
#define FAKEHOST_H

#include <cjson/cJSON.h>

/* Builds the host described by the JSON file scenario_json_path into
 * outdir, which must not exist or must be an empty directory.
 * Returns 0, or -errno with *cause set to an allocated message naming
 * the file and the field at fault (the caller frees it). */
int fakehost_build(const char *scenario_json_path, const char *outdir, char **cause);

/* The same from an in-memory scenario.  Messages name the fields only. */
int fakehost_build_json(const cJSON *scenario, const char *outdir, char **cause);

#endif
