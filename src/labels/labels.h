/* Node labels (contract section 5): a pure function of the host model and
 * of a few host facts that discovery does not keep (module versions,
 * product names, KFD topology), read separately by labels/host.c.
 *
 * The labeller owns only the keys it can produce (av_label_owned); every
 * other key on the Node belongs to someone else and is never touched. */
#ifndef AV_LABELS_H
#define AV_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include "host/host.h"
#include "host/model.h"

/* What one GPU (a PF, or one KFD partition of it) contributes to the
 * container-mode labels.  Unknown values are NULL / -1. */
struct av_gpu_facts {
	char bdf[AV_BDF_LEN];        /* the PF this belongs to */
	char *product_name;          /* sysfs product_name, as read */
	long long vram_bytes;        /* KFD mem_banks/0 size_in_bytes */
	long simd_count;             /* KFD simd_count */
	long simd_per_cu;            /* KFD simd_per_cu */
};

struct av_label_facts {
	char *gim_version;           /* /sys/module/gim/version, NULL when absent */
	char *amdgpu_version;        /* /sys/module/amdgpu/version */
	struct av_gpu_facts *gpus;   /* in PF then KFD node order */
	int n_gpus;
};

struct av_label {
	char *key;
	char *value;
};

struct av_labels {
	struct av_label *items;      /* sorted by key, keys unique */
	int n;
	char **notes;                /* labels left out, one line each */
	int n_notes;
};

/* Reads the facts for the model's PFs through host (labels/host.c).
 * Missing files are not errors: the facts stay NULL / -1.
 * Returns 0 or -ENOMEM. */
int av_label_facts_read(const struct av_host *host, const struct av_model *m,
                        struct av_label_facts *out);
void av_label_facts_clear(struct av_label_facts *f);

/* The labels this host should carry.  facts may be NULL (no host facts).
 * Keys or values that Kubernetes would refuse are left out with a note.
 * Returns 0 or -ENOMEM. */
int av_labels_compute(const struct av_model *m, const struct av_label_facts *facts,
                      struct av_labels *out);
void av_labels_clear(struct av_labels *l);
/* The value of key, or NULL. */
const char *av_labels_get(const struct av_labels *l, const char *key);

/* Whether the labeller owns key: the amd.com/gpu.*, beta.amd.com/gpu.* keys
 * it can produce, and gpu.operator.amd.com/NS.N.{driver,vfio.ready} of the
 * configured DeviceConfig (cfg may be NULL). */
bool av_label_owned(const char *key, const struct av_config *cfg);

/* "gpu.operator.amd.com/NS.N." for a DeviceConfig with a name (the
 * namespace defaults to "default"), in buf.  Returns false when cfg has no
 * name or the prefix does not fit. */
bool av_label_operator_prefix(const struct av_config *cfg, char *buf, size_t size);

/* Turns free text into a valid label value: spaces become '_', characters
 * Kubernetes refuses are dropped, the ends are trimmed to alphanumerics and
 * the result is cut to 63 characters.  cut_plus stops at the first '+'
 * (module versions: "8.1.0.K+build").  Returns buf ("" when nothing is left). */
char *av_label_value_clean(const char *in, bool cut_plus, char *buf, size_t size);
/* Kubernetes' rules for a label key ([prefix/]name) and value. */
bool av_label_key_valid(const char *key);
bool av_label_value_valid(const char *value);

#endif
