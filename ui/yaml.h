/* A cJSON value as block YAML text, the way kubectl shows a CR, so a
 * patch the core builds reads on screen exactly as it will be applied. */
#ifndef UI_YAML_H
#define UI_YAML_H

#include <cjson/cJSON.h>

/* Allocated text, one line per key or item, each ending in a newline;
 * strings that YAML could read as something else are double-quoted.
 * NULL when memory ran out. */
char *ui_yaml(const cJSON *v);

#endif
