/* Mode detection (contract section 3) and target selection. */
#ifndef AV_MODE_H
#define AV_MODE_H

#include "host/model.h"

/* Detects the mode from the model's drivers, then applies --driver-type
 * (forced) or the config's spec.driver.driverType when it names a
 * passthrough type (container, AMD's default, never overrides the host).  Sets mode,
 * mode_source, mode_evidence, mode_warning and mixed.  Pure. */
void av_mode_detect(struct av_model *m, bool forced_set, enum av_mode forced);

/* When the DeviceConfig's passthrough driverType decided the mode and the
 * host says otherwise (vf-passthrough with no GPU on gim and no VFs,
 * pf-passthrough with GPUs on gim, or the mode missing where driver
 * management is off): one line naming the field and the evidence,
 * allocated; NULL when they agree.  Pure. */
char *av_mode_config_conflict(const struct av_model *m);

/* Marks the functions the mode and config select as targets: VFs in
 * vf-passthrough, PFs in pf-passthrough and container mode, chosen by
 * spec.driver.vfioConfig.deviceIDs or else the known IDs.  Pure. */
void av_select(struct av_model *m);

#endif
