/* spec.driver.blacklist (vf-passthrough): amdgpu kept off the GPUs from
 * the next boot on, by a modprobe.d file as AMD's operator writes it (same
 * name, our own marker line); `false` removes the file only when amdvirt
 * wrote it.  amdgpu keeps whatever it holds until then: a PF it owns still
 * makes `gim load` refuse, naming it. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actions/internal.h"
#include "host/modprobe.h"

#define BLACKLIST_FILE "/etc/modprobe.d/blacklist-amdgpu.conf"
#define MARK "# added by amdvirt (spec.driver.blacklist)"
#define TRY(x) do { int r_ = (x); if (r_ < 0) return r_; } while (0)

static int plan(const struct av_model *m, struct av_host *host, struct av_plan *p)
{
	const struct av_config *cfg = m->config;
	char *text = NULL;
	ssize_t n = host ? av_read_all(host, BLACKLIST_FILE, 1 << 16, &text) : -ENOENT;
	bool ours = n >= 0 && strncmp(text, MARK, strlen(MARK)) == 0;
	int r = 0;
	if (cfg->blacklist) {
		TRY(av_plan_title(p, "blacklist amdgpu (spec.driver.blacklist)"));
		if (n >= 0 && av_modprobe_blocks(text, "amdgpu") == AV_MODPROBE_BLACKLIST) {
			r = av_plan_note(p, "%s already blacklists amdgpu", BLACKLIST_FILE);
		} else if (n >= 0 && !ours) {
			r = av_plan_refuse(p, "%s exists and is not amdvirt's: add 'blacklist amdgpu' to it, or remove it",
			                   BLACKLIST_FILE);
		} else if (n < 0 && n != -ENOENT) {
			r = av_plan_refuse(p, "%s: %s", BLACKLIST_FILE, strerror((int)-n));
		} else {
			int u = av_plan_unit(p, -1, "%s", BLACKLIST_FILE);
			r = u < 0 ? u : av_plan_step(p, AV_STEP_FILE, u, BLACKLIST_FILE, MARK "\nblacklist amdgpu\n",
			                             "amdgpu stays off the GPUs from the next boot");
			if (r >= 0)
				r = av_plan_check(p, u, false, AV_CHECK_TEXT, BLACKLIST_FILE, MARK "\nblacklist amdgpu", NULL);
			if (r >= 0)
				r = av_plan_note(p, "it takes effect at the next boot (rebuild the initramfs if amdgpu is in it)");
		}
	} else {
		TRY(av_plan_title(p, "remove amdvirt's amdgpu blacklist (spec.driver.blacklist: false)"));
		if (ours) {
			int u = av_plan_unit(p, -1, "%s", BLACKLIST_FILE);
			r = u < 0 ? u : av_plan_step(p, AV_STEP_FILE, u, BLACKLIST_FILE, NULL, "amdvirt wrote it");
			if (r >= 0)
				r = av_plan_check(p, u, false, AV_CHECK_ABSENT, BLACKLIST_FILE, NULL, NULL);
		}
	}
	free(text);
	return r < 0 ? r : 0;
}

int av_plan_blacklist(const struct av_model *m, const struct av_action_opts *opts, struct av_plan *out)
{
	memset(out, 0, sizeof(*out));
	if (!m->config || !m->config->blacklist_set)
		return 0;
	int r = plan(m, opts ? opts->host : NULL, out);
	if (r < 0)
		av_plan_clear(out);
	return r;
}
