/* Fake hosts for the driver-action tests: a temporary root with a fake
 * kernel attached, and the model discovered from it. */
#ifndef ACTIONS_FIXTURE_H
#define ACTIONS_FIXTURE_H

#include "actions/actions.h"
#include "host/discover.h"
#include "fakekernel/fakekernel.h"

struct fx {
	char root[256];
	struct sim *k;
	struct av_host *host;
	struct av_model m;
	bool have_model;
	struct av_config cfg;
};

/* The standard host:
 *   00:01.0 bridge (group 10) -> 05:00.0 MI300X PF on amdgpu (group 11), SR-IOV 16
 *   00:02.0 bridge (group 20) -> 06:00.0 MI300X PF, no driver (group 21), SR-IOV 16
 *   00:03.0 bridge            -> 07:00.0 MI210 PF on amdgpu + 07:00.1 audio on snd_hda_intel,
 *                                 both with the bridge in group 30
 *   00:04.0 bridge (group 40) -> 08:00.0 NVMe 1b36:0010 on nvme (group 41), SR-IOV 2, VFs nvme */
void fx_setup(struct fx *x);
void fx_teardown(struct fx *x);
/* (Re)discovers the model, forcing the mode unless mode is AV_MODE_NONE. */
void fx_discover(struct fx *x, enum av_mode mode);
/* The plan as av_plan_print writes it. */
char *fx_print(const struct av_plan *p);
/* A file's content under the root, "" when missing. */
const char *fx_read(struct fx *x, const char *path, char *buf, size_t size);
const char *fx_driver(struct fx *x, const char *bdf);
/* A one-line summary of every function's driver and override, the state
 * file and the /dev/vfio nodes: equal summaries mean an identical host. */
char *fx_snapshot(struct fx *x);

#endif
