/* cmdline.params: what the running command line does to passthrough
 * (host-research section 5: which IOMMU parameters really work). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/ck.h"
#include "checks/cmdline.h"

struct finding {
	enum av_check_status st;
	char text[260];
};

static void note(struct finding *fs, int *n, enum av_check_status st, const char *tok, const char *what)
{
	if (*n >= 16)
		return;
	fs[*n].st = st;
	snprintf(fs[*n].text, sizeof(fs[*n].text), "%.60s %s", tok, what);
	(*n)++;
}

static bool has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		if (n == wl && strncmp(p, word, wl) == 0)
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

void ck_cmdline_params(struct av_ck *c)
{
	const char *text = ck_cmdline_or_skip(c);
	if (!text)
		return;
	struct av_cmdline cmd;
	if (av_cmdline_parse(text, &cmd) < 0) {
		c->err = -ENOMEM;
		return;
	}
	bool amd = ck_cpu_is_amd(c);
	struct finding fs[16];
	int n = 0;
	const char *hint = NULL;
	for (int i = 0; i < cmd.n; i++) {
		const char *t = cmd.tok[i];
		size_t nl = av_param_name_len(t);
		const char *v = t[nl] ? t + nl + 1 : "";
		if (av_param_name_eq(t, nl, "amd_iommu", 9)) {
			if (has_word(v, "off"))
				note(fs, &n, AV_CHECK_FAIL, t, "disables AMD-Vi");
			else if (has_word(v, "on"))
				note(fs, &n, AV_CHECK_NOTE, t, "has no effect (not an amd_iommu option; AMD-Vi is on "
				                             "whenever the firmware has IVRS)");
		} else if (av_param_name_eq(t, nl, "intel_iommu", 11)) {
			if (has_word(v, "off"))
				note(fs, &n, AV_CHECK_FAIL, t, "disables VT-d");
			else if (amd && has_word(v, "on"))
				note(fs, &n, AV_CHECK_NOTE, t, "has no effect on an AMD host");
		} else if (av_param_name_eq(t, nl, "iommu", 5)) {
			if (has_word(v, "off"))
				note(fs, &n, AV_CHECK_FAIL, t, "disables the IOMMU");
			else if (has_word(v, "on"))
				note(fs, &n, AV_CHECK_NOTE, t, "has no effect (x86 ignores it)");
			else if (strcmp(v, "1") == 0)
				note(fs, &n, AV_CHECK_NOTE, t, "has no effect on AMD-Vi (the digits set the legacy GART "
				                             "aperture size)");
		} else if (av_param_name_eq(t, nl, "pcie_acs_override", 17)) {
			note(fs, &n, AV_CHECK_WARN, t, "splits IOMMU groups the hardware does not isolate (out-of-tree "
			                             "patch; devices can still reach each other)");
		} else if (av_param_name_eq(t, nl, "pci", 3) && has_word(v, "noari")) {
			note(fs, &n, AV_CHECK_WARN, t, "disables ARI: SR-IOV VFs beyond function 7 cannot be routed");
		}
	}
	enum av_check_status worst = AV_CHECK_PASS;
	for (int i = 0; i < n; i++)
		if (fs[i].st > worst)
			worst = fs[i].st;
	if (worst == AV_CHECK_FAIL)
		hint = "remove the parameter from the boot configuration (GRUB_CMDLINE_LINUX, BLS options or "
		       "/etc/kernel/cmdline), regenerate it and reboot";
	else if (worst == AV_CHECK_WARN)
		hint = "prefer a slot/port with ACS and ARI over command-line workarounds; remove the parameter "
		       "if it is not needed";
	else if (worst == AV_CHECK_NOTE)
		hint = "harmless; drop it to keep the command line honest";
	if (!n) {
		const char *pt = av_cmdline_get(&cmd, "iommu");
		ck_add(c, AV_CHECK_PASS, "host", NULL, "/proc/cmdline", text, "no parameter works against passthrough%s",
		       pt && strcmp(pt, "pt") == 0 ? " (iommu=pt: identity mapping for host drivers)" : "");
	} else {
		char msg[1200] = "";
		for (int i = 0; i < n; i++) {
			size_t l = strlen(msg);
			snprintf(msg + l, sizeof(msg) - l, "%s%s", i ? "; " : "", fs[i].text);
		}
		ck_add(c, worst, "host", hint, "/proc/cmdline", text, "%s", msg);
	}
	av_cmdline_free(&cmd);
}
