/* `amdvirt list`: the model as JSON (contract section 2) and as a tree. */
#ifndef AV_LIST_H
#define AV_LIST_H

#include <stdio.h>

#include "host/model.h"
#include "host/resources.h"

struct cJSON;

/* The whole document.  Returns NULL on allocation failure. */
struct cJSON *av_list_json(const struct av_model *m, const struct av_resources *r);
/* One function as the JSON object used in "gpus" and "vfs". */
struct cJSON *av_func_json(const struct av_model *m, const struct av_func *f);

/* The human tree.  colour: use ANSI colours (stdout is a terminal). */
void av_list_text(FILE *out, const struct av_model *m, const struct av_resources *r, bool colour);

#endif
