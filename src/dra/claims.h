/* Prepared claims: what Prepare answered for each claim and the files it
 * wrote, kept in ROOT/var/lib/amdvirt/dra-claims.json (replaced
 * atomically after every change) so that a repeated Prepare gets the same
 * answer and Unprepare removes the right files after a daemon restart. */
#ifndef AV_DRA_CLAIMS_H
#define AV_DRA_CLAIMS_H

#include "host/host.h"

struct av_dra_dev {
	char *request;               /* the base request name */
	char *pool;
	char *device;
	char **cdi;                  /* fully qualified CDI device IDs */
	int n_cdi;
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
};

/* Reads the record; a missing file is an empty one.  Returns 0 or -errno
 * with *cause (a file that is not the record: nothing is loaded). */
int av_dra_claims_load(struct av_host *host, struct av_dra_claims *out, char **cause);
/* Writes the record atomically.  Returns 0 or -errno. */
int av_dra_claims_save(struct av_host *host, const struct av_dra_claims *c);
int av_dra_claims_find(const struct av_dra_claims *c, const char *uid);
/* Moves claim into the record (replacing one of the same uid).  0 or -ENOMEM. */
int av_dra_claims_put(struct av_dra_claims *c, struct av_dra_claim *claim);
void av_dra_claims_remove(struct av_dra_claims *c, int i);
void av_dra_claims_clear(struct av_dra_claims *c);

int av_dra_claim_dev_add(struct av_dra_claim *claim, const char *request, const char *pool,
                         const char *device);
int av_dra_strv_push(char ***v, int *n, const char *s);
void av_dra_claim_clear(struct av_dra_claim *claim);
/* Copies src's devices (with their CDI IDs) into dst.  0 or -ENOMEM. */
int av_dra_claim_copy_devs(struct av_dra_claim *dst, const struct av_dra_claim *src);

#endif
