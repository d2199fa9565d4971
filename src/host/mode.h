/* Mode detection (contract section 3) and target selection. */
#ifndef AV_MODE_H
#define AV_MODE_H

#include "host/model.h"

/* Detects the mode from the model's drivers, then applies --driver-type
 * (forced) or the config's spec.driver.driverType.  Sets mode,
 * mode_source, mode_evidence, mode_warning and mixed.  Pure. */
void av_mode_detect(struct av_model *m, bool forced_set, enum av_mode forced);

/* Marks the functions the mode and config select as targets: VFs in
 * vf-passthrough, PFs in pf-passthrough and container mode, chosen by
 * spec.driver.vfioConfig.deviceIDs or else the known IDs.  Pure. */
void av_select(struct av_model *m);

#endif
