/* state.interrupted: a function that amdvirt's state file records, left
 * between its recorded driver and vfio-pci by a bind, unbind or gim load
 * that was killed half-way (SIGKILL, a crash, a power cut: what signal
 * deferral cannot hold back). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/internal.h"
#include "actions/state.h"
#include "checks/ck.h"
#include "base/util.h"

static void judge_bind(struct av_ck *c, const struct av_saved_func *rec, const struct av_fn_facts *f)
{
	char hint[256], path[128], seen[160];
	snprintf(path, sizeof(path), "%s/%s", AV_DEVICES, rec->bdf);
	snprintf(seen, sizeof(seen), "driver %s, driver_override \"%s\"", av_driver_text(f->driver), f->driver_override);
	if (strcmp(f->driver, "vfio-pci") == 0) {
		ck_add(c, AV_CHECK_PASS, rec->bdf, NULL, path, seen, "on vfio-pci, bound by amdvirt (unbind puts back %s)",
		       av_driver_text(rec->driver));
	} else if (strcmp(f->driver, rec->driver) == 0 && strcmp(f->driver_override, rec->driver_override) == 0) {
		snprintf(hint, sizeof(hint), "run amdvirt unbind %s to drop the record", rec->bdf);
		ck_add(c, AV_CHECK_WARN, rec->bdf, hint, path, seen,
		       "on %s as recorded, but %s still holds its record: a bind or unbind was interrupted",
		       av_driver_text(f->driver), AV_STATE_FILE);
	} else {
		snprintf(hint, sizeof(hint), "run amdvirt unbind %s to put back %s as recorded (or amdvirt bind %s to "
		         "finish the bind)", rec->bdf, av_driver_text(rec->driver), rec->bdf);
		ck_add(c, AV_CHECK_FAIL, rec->bdf, hint, path, seen,
		       "half-way: on %s with driver_override \"%s\", recorded on %s with driver_override \"%s\" "
		       "(a bind or unbind was interrupted)", av_driver_text(f->driver), f->driver_override,
		       av_driver_text(rec->driver), rec->driver_override);
	}
}

static void judge_autoprobe(struct av_ck *c, const struct av_saved_func *rec, const struct av_fn_facts *f)
{
	char hint[256], path[128], seen[16];
	snprintf(path, sizeof(path), "%s/%s/sriov_drivers_autoprobe", AV_DEVICES, rec->bdf);
	snprintf(seen, sizeof(seen), "%d", f->autoprobe);
	if (av_exists(c->host, "/sys/module/gim")) {
		ck_add(c, AV_CHECK_PASS, rec->bdf, NULL, path, seen,
		       "gim is loaded; gim unload puts back sriov_drivers_autoprobe %d", rec->autoprobe);
		return;
	}
	snprintf(hint, sizeof(hint), "run amdvirt gim unload to put back sriov_drivers_autoprobe %d (or amdvirt gim "
	         "load to finish)", rec->autoprobe);
	ck_add(c, f->autoprobe == rec->autoprobe ? AV_CHECK_WARN : AV_CHECK_FAIL, rec->bdf, hint, path, seen,
	       "gim is not loaded but %s records sriov_drivers_autoprobe %d from a gim load (reads %d): a gim load or "
	       "unload was interrupted", AV_STATE_FILE, rec->autoprobe, f->autoprobe);
}

void ck_state_interrupted(struct av_ck *c)
{
	struct av_state st;
	char *cause = NULL, path[4096];
	if (av_state_load(c->host, &st, &cause) < 0) {
		ck_add(c, AV_CHECK_FAIL, "host", "put back every function it lists by hand before moving it aside",
		       av_host_path(c->host, AV_STATE_FILE, path, sizeof(path)), NULL, "%s",
		       cause ? cause : "cannot read the state file");
		free(cause);
		return;
	}
	int judged = 0;
	for (int i = 0; i < st.n; i++) {
		const struct av_saved_func *rec = &st.e[i].f;
		if (!rec->binding && rec->autoprobe < 0)
			continue;
		judged++;
		int idx = av_model_find(c->m, rec->bdf);
		if (idx < 0)
			ck_add(c, AV_CHECK_WARN, rec->bdf, "amdvirt gim unload drops the records of functions gone with gim",
			       AV_STATE_FILE, NULL, "recorded in %s but not present", AV_STATE_FILE);
		else {
			/* read live: the model keeps overrides only for GPUs */
			struct av_fn_facts fx;
			av_fn_facts_get(c->m, c->host, idx, &fx);
			if (rec->binding)
				judge_bind(c, rec, &fx);
			else
				judge_autoprobe(c, rec, &fx);
		}
	}
	if (!judged)
		ck_add(c, AV_CHECK_PASS, "host", NULL, AV_STATE_FILE, NULL, "no function is left half-way by amdvirt");
	av_state_clear(&st);
}
