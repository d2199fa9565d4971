#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "host/modprobe.h"

void av_module_name(char *dst, const char *src, size_t size)
{
	snprintf(dst, size, "%s", src);
	for (char *p = dst; *p; p++)
		if (*p == '-')
			*p = '_';
}

/* The next word of a line: blanks skipped, '#' ends the line. */
static const char *word(const char **p, size_t *len)
{
	*p += strspn(*p, " \t");
	if (**p == '#' || **p == '\n' || !**p) {
		*len = 0;
		return NULL;
	}
	const char *w = *p;
	*len = strcspn(w, " \t\n#");
	*p = w + *len;
	return w;
}

static bool is(const char *w, size_t len, const char *s)
{
	return w && len == strlen(s) && strncmp(w, s, len) == 0;
}

enum av_modprobe_block av_modprobe_blocks(const char *text, const char *module)
{
	for (const char *line = text; line && *line;) {
		const char *p = line;
		size_t l1, l2, l3;
		const char *w1 = word(&p, &l1), *w2 = word(&p, &l2), *w3 = word(&p, &l3);
		if (is(w1, l1, "blacklist") && is(w2, l2, module))
			return AV_MODPROBE_BLACKLIST;
		if (is(w1, l1, "install") && is(w2, l2, module) && w3) {
			/* install amdgpu /bin/false: loading "succeeds" doing nothing */
			char cmd[256];
			snprintf(cmd, sizeof(cmd), "%.*s", (int)l3, w3);
			if (strstr(cmd, "/false") || strstr(cmd, "/true"))
				return AV_MODPROBE_INSTALL_FALSE;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return AV_MODPROBE_NONE;
}

/* Module names compare with '-' and '_' as one. */
static bool same_module(const char *w, size_t len, const char *module)
{
	if (!w || len != strlen(module))
		return false;
	for (size_t i = 0; i < len; i++) {
		char a = w[i] == '-' ? '_' : w[i], b = module[i] == '-' ? '_' : module[i];
		if (a != b)
			return false;
	}
	return true;
}

const char *av_modprobe_command(const char *text, const char *verb, const char *module, size_t *len)
{
	for (const char *line = text; line && *line;) {
		const char *p = line;
		size_t l1, l2, l3;
		const char *w1 = word(&p, &l1), *w2 = word(&p, &l2), *w3 = word(&p, &l3);
		if (is(w1, l1, verb) && same_module(w2, l2, module) && w3) {
			*len = strcspn(w1, "\n");
			return w1;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}
