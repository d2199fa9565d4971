#include "config.h"

#include <stddef.h>

#include "host/ids.h"

#define PF(id, vf, m, n) { id, false, vf, m, n }
#define VF(id, pf, m, n) { id, true, pf, m, n }

static const struct av_known_id known_ids[] = {
	PF(0x740f, 0x7410, "MI210", "AMD Instinct MI210"),
	VF(0x7410, 0x740f, "MI210", "AMD Instinct MI210 VF"),
	PF(0x7408, 0, "MI250X", "AMD Instinct MI250X"),
	PF(0x740c, 0, "MI250X", "AMD Instinct MI250X / MI250"),
	PF(0x74a0, 0, "MI300A", "AMD Instinct MI300A"),
	PF(0x74a1, 0x74b5, "MI300X", "AMD Instinct MI300X"),
	VF(0x74b5, 0x74a1, "MI300X", "AMD Instinct MI300X VF"),
	PF(0x74a9, 0x74bd, "MI300X HF", "AMD Instinct MI300X HF"),
	VF(0x74bd, 0x74a9, "MI300X HF", "AMD Instinct MI300X HF VF"),
	PF(0x74a2, 0x74b6, "MI308X", "AMD Instinct MI308X"),
	VF(0x74b6, 0x74a2, "MI308X", "AMD Instinct MI308X VF"),
	PF(0x74a8, 0x74bc, "MI308X HF", "AMD Instinct MI308X HF"),
	VF(0x74bc, 0x74a8, "MI308X HF", "AMD Instinct MI308X HF VF"),
	PF(0x74a5, 0x74b9, "MI325X", "AMD Instinct MI325X"),
	VF(0x74b9, 0x74a5, "MI325X", "AMD Instinct MI325X VF"),
	PF(0x75a0, 0x75b0, "MI350X", "AMD Instinct MI350X"),
	VF(0x75b0, 0x75a0, "MI350X", "AMD Instinct MI350X VF"),
	PF(0x75a3, 0x75b3, "MI355X", "AMD Instinct MI355X"),
	VF(0x75b3, 0x75a3, "MI355X", "AMD Instinct MI355X VF"),
	PF(0x75a8, 0x75b8, "MI350P", "AMD Instinct MI350P"),
	VF(0x75b8, 0x75a8, "MI350P", "AMD Instinct MI350P VF"),
	PF(0x7460, 0x7461, "V710", "AMD Radeon PRO V710"),
	VF(0x7461, 0x7460, "V710", "AMD Radeon PRO V710 MxGPU"),
	PF(0x73a1, 0x73ae, "V620", "AMD Radeon PRO V620"),
	VF(0x73ae, 0x73a1, "V620", "AMD Radeon PRO V620 MxGPU"),
};

const struct av_known_id *av_ids_lookup(uint16_t device)
{
	for (size_t i = 0; i < sizeof(known_ids) / sizeof(known_ids[0]); i++)
		if (known_ids[i].device == device)
			return &known_ids[i];
	return NULL;
}

const struct av_known_id *av_ids_table(int *count)
{
	*count = (int)(sizeof(known_ids) / sizeof(known_ids[0]));
	return known_ids;
}

bool av_class_is_gpu(uint32_t class_code)
{
	unsigned base = (class_code >> 16) & 0xff;
	return base == 0x03 || base == 0x12;
}
