/* Row builders, one per screen, and the detail pane of a selection.
 * Pure functions of their inputs: they append to out and never fail loudly
 * (a row that cannot be allocated is dropped and out->oom set). */
#ifndef UI_BUILD_H
#define UI_BUILD_H

#include <stddef.h>

#include "checks/checks.h"
#include "host/details.h"
#include "labels/labels.h"
#include "host/model.h"
#include "host/resources.h"
#include "rows.h"

/* A one-word verdict on a GPU function for the mode ("ready", "in use",
 * "not bound", "blocked", ...) and its tone. */
const char *ui_func_state(const struct av_model *m, const struct av_resources *res,
                          const struct av_func *f, enum ui_tone *tone);
/* The plugin device that holds func (index into res->devices), or -1. */
int ui_plugin_device_of(const struct av_resources *res, int func);
/* "PCI bridge", "Processing accelerator", ... from the class code. */
const char *ui_class_name(uint32_t class_code);

/* Where the detail pane gets a function's BARs and link: the console
 * reads them through the core on demand, tests hand in canned ones. */
struct ui_hw_source {
	/* NULL when the details cannot be had. */
	const struct av_func_details *(*get)(void *ctx, const char *bdf);
	void *ctx;
};

/* Devices: PF -> VF tree.  Rows carry func. */
void ui_build_devices(const struct av_model *m, const struct av_resources *res, struct ui_rows *out);
/* hw NULL: the pane leaves out link, reset and BARs. */
void ui_build_device_detail(const struct av_model *m, const struct av_resources *res, int func,
                            const struct ui_hw_source *hw, struct ui_rows *out);
/* Link (a VF's is its PF's: pf), reset methods and BARs of func; d NULL
 * says they could not be read. */
void ui_build_hw_rows(const struct av_model *m, int func, const struct av_func_details *d,
                      const struct av_func_details *pf, struct ui_rows *out);

/* GOOD/BAD for a group holding a target of the mode, NORMAL otherwise. */
enum ui_tone ui_group_tone(const struct av_model *m, const struct av_group *g);

/* IOMMU groups: GPU groups first, then the others.  Headings carry group,
 * member rows func and group. */
void ui_build_groups(const struct av_model *m, struct ui_rows *out);
void ui_build_group_detail(const struct av_model *m, const struct av_resources *res, int group,
                           const struct ui_hw_source *hw, struct ui_rows *out);

/* Hives: members (in VF mode with the VFs VMs get under each PF) and the
 * allocation shapes the plugin accepts. */
void ui_build_hives(const struct av_model *m, const struct av_resources *res, struct ui_rows *out);
/* "1, 2 or 4 of its 4 VFs (4: the whole hive); ..." for model hive h, as
 * the plugin's Allocate rule decides it for the devices advertised now. */
void ui_hive_shapes(const struct av_model *m, const struct av_resources *res, int hive, char *buf,
                    size_t size);

/* Checks: one row per result, worst first; rows carry item = result index.
 * report NULL: the checks have not run yet (why says so). */
void ui_build_checks(const struct av_check_report *report, const char *why, struct ui_rows *out);
void ui_build_check_detail(const struct av_check_report *report, int item, struct ui_rows *out);
const char *ui_check_status_name(enum av_check_status s);
enum ui_tone ui_check_tone(enum av_check_status s);

/* Node: mode and evidence, resources, labels, the KubeVirt snippet and the
 * problems discovery reported.  labels may be NULL. */
void ui_build_node(const struct av_model *m, const struct av_resources *res,
                   const struct av_labels *labels, struct ui_rows *out);
/* Node, when `daemon --dra` ran here: the ResourceSlice last published
 * and the claims prepared, from the DRA driver's record (doc/dra.md). */
struct av_dra_claims;
void ui_build_node_dra(const struct av_model *m, const struct av_dra_claims *rec, struct ui_rows *out);
/* The KubeVirt CR fragment permitting the selected functions (YAML). */
void ui_build_kubevirt_snippet(const struct av_model *m, const struct av_resources *res,
                               struct ui_rows *out);

#endif
