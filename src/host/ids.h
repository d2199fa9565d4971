/* Known AMD Instinct / Radeon PRO device IDs (contract section 7). */
#ifndef AV_IDS_H
#define AV_IDS_H

#include <stdbool.h>
#include <stdint.h>

#define AV_VENDOR_AMD 0x1002

struct av_known_id {
	uint16_t device;
	bool is_vf;
	uint16_t partner;       /* the VF ID of a PF, or the PF ID of a VF; 0 when none */
	const char *model;      /* "MI300X" */
	const char *name;       /* "AMD Instinct MI300X", "AMD Instinct MI300X VF" */
};

/* The entry for an AMD device ID, or NULL. */
const struct av_known_id *av_ids_lookup(uint16_t device);
/* The whole table, for documentation and the console. */
const struct av_known_id *av_ids_table(int *count);
/* Class 0x03xx (display) or 0x12xx (processing accelerator). */
bool av_class_is_gpu(uint32_t class_code);

#endif
