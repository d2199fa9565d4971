#include "config.h"

#include <stddef.h>

#include "keys.h"

#define DEV UI_SCREEN_BIT(UI_SCR_DEVICES)
#define DEVG (UI_SCREEN_BIT(UI_SCR_DEVICES) | UI_SCREEN_BIT(UI_SCR_GROUPS) | UI_SCREEN_BIT(UI_SCR_HIVES))

/* Several keys may share an action; only the first carries the help text. */
static const struct ui_binding bindings[] = {
	{ '1', UI_ACT_SCREEN, UI_SCR_DEVICES, 0, "1", "Devices: GPUs and their VFs", true },
	{ '2', UI_ACT_SCREEN, UI_SCR_GROUPS, 0, "2", "IOMMU groups and their members", true },
	{ '3', UI_ACT_SCREEN, UI_SCR_HIVES, 0, "3", "XGMI hives and allocation shapes", true },
	{ '4', UI_ACT_SCREEN, UI_SCR_CHECKS, 0, "4", "Checks: host prerequisites", true },
	{ '5', UI_ACT_SCREEN, UI_SCR_NODE, 0, "5", "Node: mode, resources, labels, KubeVirt", true },
	{ '6', UI_ACT_SCREEN, UI_SCR_LOG, 0, "6", "Log: what happened in this session", true },
	{ UI_KEY_TAB, UI_ACT_NEXT_SCREEN, 0, 0, "Tab", "next screen (Shift-Tab: previous)", false },
	{ UI_KEY_BTAB, UI_ACT_PREV_SCREEN, 0, 0, NULL, NULL, false },
	{ UI_KEY_RIGHT, UI_ACT_NEXT_SCREEN, 0, 0, NULL, NULL, false },
	{ UI_KEY_LEFT, UI_ACT_PREV_SCREEN, 0, 0, NULL, NULL, false },

	{ UI_KEY_UP, UI_ACT_UP, 0, 0, "Up/k", "previous row", false },
	{ 'k', UI_ACT_UP, 0, 0, NULL, NULL, false },
	{ UI_KEY_DOWN, UI_ACT_DOWN, 0, 0, "Down/j", "next row", false },
	{ 'j', UI_ACT_DOWN, 0, 0, NULL, NULL, false },
	{ UI_KEY_PGUP, UI_ACT_PGUP, 0, 0, "PgUp/^B", "page up", false },
	{ 0x02, UI_ACT_PGUP, 0, 0, NULL, NULL, false },
	{ UI_KEY_PGDN, UI_ACT_PGDN, 0, 0, "PgDn/^F/Space", "page down", false },
	{ 0x06, UI_ACT_PGDN, 0, 0, NULL, NULL, false },
	{ ' ', UI_ACT_PGDN, 0, 0, NULL, NULL, false },
	{ UI_KEY_HOME, UI_ACT_HOME, 0, 0, "Home/g", "first row", false },
	{ 'g', UI_ACT_HOME, 0, 0, NULL, NULL, false },
	{ UI_KEY_END, UI_ACT_END, 0, 0, "End/G", "last row", false },
	{ 'G', UI_ACT_END, 0, 0, NULL, NULL, false },
	{ 'h', UI_ACT_PREV_SCREEN, 0, 0, "h/l", "previous / next screen", false },
	{ 'l', UI_ACT_NEXT_SCREEN, 0, 0, NULL, NULL, false },

	{ 'b', UI_ACT_BIND, 0, DEVG, "b", "bind the selection (and its IOMMU group) to vfio-pci", true },
	{ 'u', UI_ACT_UNBIND, 0, DEVG, "u", "unbind the selection: back to the driver it had", true },
	{ 'a', UI_ACT_BIND_ALL, 0, DEV, "a", "bind everything the mode selects to vfio-pci", true },
	{ 'A', UI_ACT_UNBIND_ALL, 0, DEV, "A", "unbind everything the mode selects", false },
	{ 'B', UI_ACT_BIND_GROUP, 0, DEVG, "B", "bind every member of the selection's group", false },
	{ 'U', UI_ACT_UNBIND_GROUP, 0, DEVG, "U", "unbind every member of the selection's group", false },
	{ 'm', UI_ACT_GIM_LOAD, 0, DEV, "m", "load the GIM driver (gim load)", false },
	{ 'M', UI_ACT_GIM_UNLOAD, 0, DEV, "M", "unload the GIM driver (gim unload)", false },
	{ 'd', UI_ACT_DEMO, 0, DEV, "d", "open the demo host (when this host has no AMD GPU)", false },

	{ UI_KEY_ENTER, UI_ACT_DETAIL, 0, 0, "Enter", "the selection's details in a window", false },
	{ 'r', UI_ACT_RESCAN, 0, 0, "r", "read the host again and re-run the checks", true },
	{ UI_KEY_F5, UI_ACT_RESCAN, 0, 0, NULL, NULL, false },
	{ 0x0c, UI_ACT_RESCAN, 0, 0, NULL, NULL, false },
	{ '/', UI_ACT_SEARCH, 0, 0, "/", "search (n: next, N: previous)", true },
	{ 'n', UI_ACT_SEARCH_NEXT, 0, 0, NULL, NULL, false },
	{ 'N', UI_ACT_SEARCH_PREV, 0, 0, NULL, NULL, false },
	{ '?', UI_ACT_HELP, 0, 0, "?", "this help", true },
	{ UI_KEY_F1, UI_ACT_HELP, 0, 0, NULL, NULL, false },
	{ 'q', UI_ACT_QUIT, 0, 0, "q", "quit (also F10)", true },
	{ UI_KEY_F10, UI_ACT_QUIT, 0, 0, NULL, NULL, false },
};

const struct ui_binding *ui_keys_lookup(int key, enum ui_screen screen)
{
	for (size_t i = 0; i < sizeof(bindings) / sizeof(bindings[0]); i++) {
		const struct ui_binding *b = &bindings[i];
		if (b->key == key && (!b->screens || (b->screens & UI_SCREEN_BIT(screen))))
			return b;
	}
	return NULL;
}

const struct ui_binding *ui_keys_table(int *count)
{
	*count = (int)(sizeof(bindings) / sizeof(bindings[0]));
	return bindings;
}

bool ui_action_mutates(enum ui_action a)
{
	return a >= UI_ACT_BIND;
}

const char *ui_screen_name(enum ui_screen s)
{
	static const char *const names[UI_NSCREENS] = { "Devices", "Groups", "Hives", "Checks", "Node", "Log" };
	return (unsigned)s < UI_NSCREENS ? names[s] : "?";
}
