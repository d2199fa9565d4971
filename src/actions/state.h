/* ROOT/var/lib/amdvirt/state.json: what each function was bound to before
 * amdvirt moved it, and the PFs' sriov_drivers_autoprobe before GIM load,
 * so that unbind and unload restore exactly that. */
#ifndef AV_ACTIONS_STATE_H
#define AV_ACTIONS_STATE_H

#include "actions/actions.h"

struct av_state_entry {
	struct av_saved_func f;  /* f.binding: a bind record; f.autoprobe >= 0: an autoprobe record */
};

struct av_state {
	struct av_state_entry *e;
	int n;
};

/* A missing file is an empty state.  Returns 0, or -errno with *cause. */
int av_state_load(struct av_host *host, struct av_state *st, char **cause);
/* Written atomically; a state without records removes the file.  Returns
 * 0 or -errno. */
int av_state_save(struct av_host *host, const struct av_state *st);
const struct av_state_entry *av_state_find(const struct av_state *st, const char *bdf);
/* A record already there wins: it is the state before the first bind. */
int av_state_put(struct av_state *st, const struct av_saved_func *f);
void av_state_drop(struct av_state *st, const struct av_saved_func *f);
void av_state_clear(struct av_state *st);

#endif
