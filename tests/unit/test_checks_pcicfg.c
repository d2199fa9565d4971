/* Config-space decoders (SR-IOV, ARI, ACS, ReBAR, VSEC, PCIe flags) on
 * hand-made images; the `resource` parser is test_details.c's. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "checks/pcicfg.h"

static uint8_t cfg[4096];

static void put(int off, uint32_t v, int width)
{
	for (int i = 0; i < width; i++)
		cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static void ecap(int off, unsigned id, int next)
{
	put(off, id | 1u << 16 | (uint32_t)next << 20, 4);
}

/* A GPU PF: PCIe endpoint v2 with FLR; SR-IOV, ARI, two VSECs, ReBAR. */
static void build_pf(void)
{
	memset(cfg, 0, sizeof(cfg));
	put(0x00, 0x74a11002, 4);
	put(0x06, 0x0010, 2);            /* capability list */
	put(0x34, 0x50, 1);
	put(0x50, 0x01 | 0x64 << 8, 2);  /* PM -> 0x64 */
	put(0x64, 0x10 | 0x00 << 8, 2);  /* PCIe, last */
	put(0x66, 0x0002 | AV_EXP_TYPE_ENDPOINT << 4, 2);
	put(0x68, 1u << 28, 4);          /* FLR */
	ecap(0x100, AV_ECAP_VSEC, 0x110);
	put(0x104, 0x0001 | 1u << 16, 4);     /* VSEC ID 1 */
	ecap(0x110, AV_ECAP_ARI, 0x120);
	ecap(0x120, AV_ECAP_SRIOV, 0x160);
	put(0x128, AV_SRIOV_CTRL_ARI | 1, 2);
	put(0x12e, 1, 2);                /* TotalVFs */
	put(0x130, 1, 2);                /* NumVFs */
	put(0x134, 0x10, 2);             /* offset */
	put(0x136, 1, 2);                /* stride */
	put(0x13a, 0x74b5, 2);
	ecap(0x160, AV_ECAP_VSEC, 0x170);
	put(0x164, 0x0002 | 1u << 16, 4);     /* VSEC ID 2: GPU-IOV */
	ecap(0x170, AV_ECAP_REBAR, 0);
	/* Entry 0: BAR 0, sizes 256 MiB..256 GiB supported, currently 256 MiB. */
	uint32_t sizes = 0;
	for (int n = 8; n <= 18; n++)
		sizes |= 1u << (n + 4);
	put(0x174, sizes, 4);
	put(0x178, 0 | 1u << 5 | 8u << 8, 4);
}

static void test_caps(void **state)
{
	(void)state;
	build_pf();
	assert_int_equal(av_cfg_find_cap(cfg, 4096, 0x01), 0x50);
	assert_int_equal(av_cfg_find_cap(cfg, 4096, AV_CAP_EXP), 0x64);
	assert_int_equal(av_cfg_find_cap(cfg, 4096, 0x05), 0);
	assert_int_equal(av_cfg_find_ecap(cfg, 4096, AV_ECAP_SRIOV, 0), 0x120);
	assert_int_equal(av_cfg_find_ecap(cfg, 4096, AV_ECAP_VSEC, 0), 0x100);
	assert_int_equal(av_cfg_find_ecap(cfg, 4096, AV_ECAP_VSEC, 0x100), 0x160);
	assert_int_equal(av_cfg_find_ecap(cfg, 4096, AV_ECAP_VSEC, 0x160), 0);
	assert_int_equal(av_cfg_find_ecap(cfg, 4096, AV_ECAP_ACS, 0), 0);
	assert_true(av_cfg_has_vsec(cfg, 4096, 2));
	assert_false(av_cfg_has_vsec(cfg, 4096, 3));
	/* Only 256 bytes visible: no extended space at all. */
	assert_int_equal(av_cfg_find_ecap(cfg, 256, AV_ECAP_SRIOV, 0), 0);
	assert_false(av_cfg_has_vsec(cfg, 256, 2));
	/* The header without root: no capability list to walk. */
	assert_int_equal(av_cfg_find_cap(cfg, 64, AV_CAP_EXP), 0);
}

static void test_sriov_pcie(void **state)
{
	(void)state;
	build_pf();
	struct av_sriov_info sr;
	av_cfg_sriov(cfg, 4096, &sr);
	assert_int_equal(sr.off, 0x120);
	assert_int_equal(sr.total_vfs, 1);
	assert_int_equal(sr.num_vfs, 1);
	assert_int_equal(sr.offset, 0x10);
	assert_int_equal(sr.stride, 1);
	assert_int_equal(sr.vf_device, 0x74b5);
	assert_true(sr.ctrl & AV_SRIOV_CTRL_ARI);
	struct av_pcie_info pi;
	av_cfg_pcie(cfg, 4096, &pi);
	assert_true(pi.present);
	assert_int_equal(pi.type, AV_EXP_TYPE_ENDPOINT);
	assert_int_equal(pi.version, 2);
	assert_true(pi.flr);
	assert_false(pi.ari_fwd_supported);
	/* A downstream port with ARI Forwarding supported and enabled. */
	put(0x66, 0x0002 | AV_EXP_TYPE_DOWNSTREAM << 4, 2);
	put(0x64 + 0x24, 1u << 5, 4);
	put(0x64 + 0x28, 1u << 5, 2);
	av_cfg_pcie(cfg, 4096, &pi);
	assert_int_equal(pi.type, AV_EXP_TYPE_DOWNSTREAM);
	assert_true(pi.ari_fwd_supported && pi.ari_fwd_enabled);
	/* Version 1 has no DEVCAP2: the bits there mean nothing. */
	put(0x66, 0x0001 | AV_EXP_TYPE_DOWNSTREAM << 4, 2);
	av_cfg_pcie(cfg, 4096, &pi);
	assert_false(pi.has_cap2 || pi.ari_fwd_supported || pi.ari_fwd_enabled);
}

static void test_acs(void **state)
{
	(void)state;
	memset(cfg, 0, sizeof(cfg));
	ecap(0x100, AV_ECAP_ACS, 0);
	put(0x104, 0x5f, 2);  /* SV TB RR CR UF EC(0x20) DT(0x40 -> not set: 0x5f has 0x40) */
	put(0x106, 0x1d, 2);
	struct av_acs_info a;
	av_cfg_acs(cfg, 4096, &a);
	assert_int_equal(a.off, 0x100);
	assert_int_equal(av_acs_missing(&a), 0);
	put(0x106, 0x11, 2);  /* RR and CR off */
	av_cfg_acs(cfg, 4096, &a);
	assert_int_equal(av_acs_missing(&a), AV_ACS_RR | AV_ACS_CR);
	/* A port that does not implement RR/CR is not asked for them. */
	put(0x104, 0x11, 2);
	av_cfg_acs(cfg, 4096, &a);
	assert_int_equal(av_acs_missing(&a), 0);
}

static void test_rebar(void **state)
{
	(void)state;
	build_pf();
	struct av_rebar_entry e[6];
	assert_int_equal(av_cfg_rebar(cfg, 4096, AV_ECAP_REBAR, e, 6), 1);
	assert_int_equal(e[0].bar, 0);
	assert_int_equal(e[0].current, 8);
	assert_int_equal(e[0].largest, 18);
	/* Extended sizes in the control register's upper half. */
	put(0x178, 0 | 1u << 5 | 18u << 8 | 1u << 17, 4);
	assert_int_equal(av_cfg_rebar(cfg, 4096, AV_ECAP_REBAR, e, 6), 1);
	assert_int_equal(e[0].largest, 29);
	assert_int_equal(av_cfg_rebar(cfg, 4096, AV_ECAP_VF_REBAR, e, 6), 0);
}

static void test_loops_and_bounds(void **state)
{
	(void)state;
	memset(cfg, 0xff, sizeof(cfg));
	assert_int_equal(av_cfg_find_ecap(cfg, 4096, AV_ECAP_SRIOV, 0), 0);
	memset(cfg, 0, sizeof(cfg));
	ecap(0x100, AV_ECAP_VSEC, 0x100);   /* points at itself */
	assert_int_equal(av_cfg_find_ecap(cfg, 4096, AV_ECAP_SRIOV, 0), 0);
	assert_false(av_cfg_has_vsec(cfg, 4096, 2));
	put(0x06, 0x10, 2);
	put(0x34, 0x40, 1);
	put(0x40, 0x01 | 0x40 << 8, 2);      /* standard list loop */
	assert_int_equal(av_cfg_find_cap(cfg, 4096, AV_CAP_EXP), 0);
	assert_int_equal(av_cfg_get(cfg, 4096, 4095, 2), 0);
	assert_int_equal(av_cfg_get(NULL, 0, 0, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_sriov_pcie),
		cmocka_unit_test(test_acs),
		cmocka_unit_test(test_rebar),
		cmocka_unit_test(test_loops_and_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
