/* XGMI hive membership.  amdgpu shows a hive id only while it owns the PF;
 * once a GPU is on gim or vfio-pci the id is gone.  So membership comes from
 * sysfs when present, else from spec.amdvirt.hives in the config, else from
 * the record ROOT/var/lib/amdvirt/hives.json that the commands changing
 * drivers and the daemon write when they see hive ids (av_opts_records_hives). */
#ifndef AV_HIVES_H
#define AV_HIVES_H

#include <stdbool.h>

#include "host/host.h"
#include "host/model.h"

#define AV_HIVES_RECORD "/var/lib/amdvirt/hives.json"

/* Fills model->hives and each function's hive index (VFs inherit their
 * PF's).  When record is true and sysfs showed hive ids that the record
 * lacks, the record is rewritten atomically (failure to write is not an
 * error for a read-only root, only a diagnostic otherwise). */
void av_hives_resolve(struct av_host *host, struct av_model *m, bool record);

#endif
