/* The DRA driver's record (`daemon --dra`, src/dra/): what Prepare answered
 * for each claim and the files it wrote, and the ResourceSlice last
 * published, kept in ROOT/var/lib/amdvirt/dra-claims.json (replaced
 * atomically after every change) so that a repeated Prepare gets the same
 * answer and Unprepare removes the right files after a daemon restart.
 * Here, below the checks, `list` and the console, because they read it:
 * a prepared device that left vfio-pci is a VM about to fail. */
#ifndef AV_DRA_CLAIMS_H
#define AV_DRA_CLAIMS_H

#include <stdbool.h>

#include "host/host.h"

#define AV_DRA_STATE "/var/lib/amdvirt/dra-claims.json"

struct av_dra_dev {
	char *request;               /* the base request name */
	char *pool;
	char *device;
	char *bdf;                   /* the device's first function, "" when unknown */
	char **cdi;                  /* fully qualified CDI device IDs */
	int n_cdi;
};

/* The ResourceSlice as last published. */
struct av_dra_slice_info {
	char *name;                  /* NULL: none published yet */
	char *pool;
	long long generation;
	char **devices;              /* device names */
	int n_devices;
};

struct av_dra_claim {
	char *uid;
	char *namespace_;
	char *name;
	struct av_dra_dev *devs;
	int n_devs;
	char **files;                /* host paths written (CDI specs, metadata) */
	int n_files;
	char **dirs;                 /* host directories made, removed when empty */
	int n_dirs;
	char *error;                 /* a refused claim: not recorded */
};

struct av_dra_claims {
	struct av_dra_claim *v;
	int n;
	struct av_dra_slice_info slice;
	bool present;                /* the record file exists */
};

/* Reads the record; a missing file is an empty one.  Returns 0 or -errno
 * with *cause (a file that is not the record: nothing is loaded). */
int av_dra_claims_load(struct av_host *host, struct av_dra_claims *out, char **cause);
/* The record as written: {"claims": [...], "slice": {...}}.  NULL on
 * allocation failure. */
struct cJSON;
struct cJSON *av_dra_claims_json(const struct av_dra_claims *c);
/* Writes the record atomically.  Returns 0 or -errno. */
int av_dra_claims_save(struct av_host *host, const struct av_dra_claims *c);
int av_dra_claims_find(const struct av_dra_claims *c, const char *uid);
/* Moves claim into the record (replacing one of the same uid).  0 or -ENOMEM. */
int av_dra_claims_put(struct av_dra_claims *c, struct av_dra_claim *claim);
void av_dra_claims_remove(struct av_dra_claims *c, int i);
void av_dra_claims_clear(struct av_dra_claims *c);

int av_dra_claim_dev_add(struct av_dra_claim *claim, const char *request, const char *pool,
                         const char *device, const char *bdf);
/* Replaces the slice info.  0 or -ENOMEM. */
int av_dra_claims_set_slice(struct av_dra_claims *c, const char *name, const char *pool,
                            long long generation, char *const *devices, int n_devices);
int av_dra_strv_push(char ***v, int *n, const char *s);
void av_dra_claim_clear(struct av_dra_claim *claim);
/* Replaces claim->error with the formatted text.  0, or -ENOMEM (the
 * error is then NULL). */
int av_dra_claim_fail(struct av_dra_claim *claim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies src's devices (with their CDI IDs) into dst.  0 or -ENOMEM. */
int av_dra_claim_copy_devs(struct av_dra_claim *dst, const struct av_dra_claim *src);

#endif
