/* Units: the GVT-g description parser and the type selector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

static void
gvt_seed_description (void **state)
{
        vgpu_gvt_desc_t d;

        assert_int_equal (
                vgpu_gvt_parse ("low_gm_size: 128MB, high_gm_size: 512MB, fence: 4, resolution: 1920x1200, weight: 4",
                                &d),
                0);
        assert_true (d.valid);
        assert_int_equal (d.low_gm_mb, 128);
        assert_int_equal (d.high_gm_mb, 512);
        assert_int_equal (d.fence, 4);
        assert_int_equal (d.res_w, 1920);
        assert_int_equal (d.res_h, 1200);
        assert_int_equal (d.weight, 4);
}

static void
gvt_kernel_newlines (void **state)
{
        vgpu_gvt_desc_t d;

        assert_int_equal (
                vgpu_gvt_parse ("low_gm_size: 64MB\nhigh_gm_size: 384MB\nfence: 4\nresolution: 1024x768\nweight: 2\n",
                                &d),
                0);
        assert_int_equal (d.low_gm_mb, 64);
        assert_int_equal (d.res_w, 1024);
        assert_int_equal (d.res_h, 768);
        assert_int_equal (d.weight, 2);
}

static void
gvt_other_shapes_rejected (void **state)
{
        static const char *const bad[] = {
                "virtual display, 1024x768 framebuffer", /* mdpy */
                "",
                "low_gm_size: 128MB",
                "low_gm_size: 128, high_gm_size: 512MB, fence: 4, resolution: 1920x1200",
                "low_gm_size: 128MB, high_gm_size: 512MB, fence: 4, resolution: 1920",
                "low_gm_size: -1MB, high_gm_size: 512MB, fence: 4, resolution: 1x1",
                "low_gm_size: 128MB, high_gm_size: 512MB, fence: 4, resolution: 1920x1200, colour: blue",
        };
        vgpu_gvt_desc_t d = { 0 };

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal (vgpu_gvt_parse (bad[i], &d), -EINVAL);
        assert_false (d.valid);
}

static vgpu_type_t
gvt_type (const char *id, unsigned avail, unsigned w, unsigned h)
{
        vgpu_type_t t = { .available = avail, .has_description = true };

        strcpy (t.id, id);
        strcpy (t.device_api, "vfio-pci");
        t.gvt = (vgpu_gvt_desc_t) { .valid = true, .res_w = w, .res_h = h, .fence = 4 };
        return t;
}

/* The seed's GPU: V5_1/2/4/8 with 1, 2, 5, 7 instances. */
static vgpu_type_t seed_types[4];
static vgpu_parent_t seed_parent;

static void
seed_host (vgpu_host_t *host, vgpu_parent_t *parents, size_t n)
{
        seed_types[0] = gvt_type ("i915-GVTg_V5_1", 1, 1920, 1200);
        seed_types[1] = gvt_type ("i915-GVTg_V5_2", 2, 1920, 1200);
        seed_types[2] = gvt_type ("i915-GVTg_V5_4", 5, 1920, 1200);
        seed_types[3] = gvt_type ("i915-GVTg_V5_8", 7, 1024, 768);
        for (size_t i = 0; i < n; i++) {
                memset (&parents[i], 0, sizeof parents[i]);
                snprintf (parents[i].name, sizeof parents[i].name, "0000:00:0%zu.0", i + 2);
                parents[i].types = seed_types;
                parents[i].n_types = 4;
        }
        *host = (vgpu_host_t) { .parents = parents, .n_parents = n };
}

static void
auto_picks_v5_4_on_seed_gpu (void **state)
{
        vgpu_host_t host;
        vgpu_choice_t c;

        seed_host (&host, &seed_parent, 1);
        assert_int_equal (vgpu_select (&host, &(vgpu_selector_t) { .type = "auto" }, &c, NULL), 0);
        assert_string_equal (c.type->id, "i915-GVTg_V5_4");
        assert_string_equal (c.parent->name, "0000:00:02.0");
}

static void
auto_low_resolution_takes_most_instances (void **state)
{
        vgpu_host_t host;
        vgpu_choice_t c;

        seed_host (&host, &seed_parent, 1);
        assert_int_equal (
                vgpu_select (&host, &(vgpu_selector_t) { .type = "auto", .min_w = 1024, .min_h = 768 }, &c, NULL), 0);
        assert_string_equal (c.type->id, "i915-GVTg_V5_8");
        assert_int_equal (
                vgpu_select (&host, &(vgpu_selector_t) { .type = "auto", .min_w = 3840, .min_h = 2160 }, &c, NULL),
                -ENOENT);
}

static vgpu_type_t
vf_type (unsigned avail)
{
        vgpu_type_t t = { .available = avail, .backend = VGPU_BACKEND_VF };

        strcpy (t.id, "vf");
        strcpy (t.device_api, "vfio-pci");
        return t;
}

/* The seed's GVT-g GPU beside an SR-IOV PF: a VF is a whole function of its
 * GPU, so it meets any resolution; auto takes it when it has most left. */
static void
auto_with_vfs (void **state)
{
        vgpu_type_t vf = vf_type (7);
        vgpu_parent_t parents[2];
        vgpu_host_t host;
        vgpu_choice_t c;
        vgpu_error_t err = { 0 };

        seed_host (&host, parents, 1);
        parents[1] = (vgpu_parent_t) { .name = "0000:03:00.0", .types = &vf, .n_types = 1, .backend = VGPU_BACKEND_VF };
        host.n_parents = 2;
        assert_int_equal (vgpu_select (&host, &(vgpu_selector_t) { .type = "auto" }, &c, NULL), 0);
        assert_string_equal (c.type->id, "vf");
        assert_string_equal (c.parent->name, "0000:03:00.0");
        vf.available = 3;
        assert_int_equal (vgpu_select (&host, &(vgpu_selector_t) { .type = "auto" }, &c, NULL), 0);
        assert_string_equal (c.type->id, "i915-GVTg_V5_4");
        assert_int_equal (
                vgpu_select (&host, &(vgpu_selector_t) { .type = "auto", .min_w = 3840, .min_h = 2160 }, &c, NULL), 0);
        assert_string_equal (c.type->id, "vf");
        vf.available = 0;
        assert_int_equal (vgpu_select (&host, &(vgpu_selector_t) { .type = "vf" }, &c, &err), -ENOSPC);
        assert_string_equal (err.msg, "no VF left on 0000:03:00.0 (0 available): every enabled VF is held or not free "
                                      "(`vgpuctl list`; `vgpuctl sriov enable` sets how many there are)");
        assert_int_equal (vgpu_select (&host, &(vgpu_selector_t) { .type = "vf", .parent = "0000:00:02.0" }, &c, &err),
                          -ENOENT);
        assert_string_equal (err.msg, "type vf is not offered by parent 0000:00:02.0 (0000:03:00.0 offers it)");
}

static void
exact_type_and_errors (void **state)
{
        vgpu_host_t host;
        vgpu_choice_t c;
        vgpu_error_t err = { 0 };

        seed_host (&host, &seed_parent, 1);
        assert_int_equal (vgpu_select (&host, &(vgpu_selector_t) { .type = "i915-GVTg_V5_2" }, &c, &err), 0);
        assert_string_equal (c.type->id, "i915-GVTg_V5_2");
        assert_int_equal (vgpu_select (&host, &(vgpu_selector_t) { .type = "i915-GVTg_V9_9" }, &c, &err), -ENOENT);
        assert_string_equal (err.msg, "unknown type i915-GVTg_V9_9");
        assert_int_equal (
                vgpu_select (&host, &(vgpu_selector_t) { .type = "auto", .parent = "0000:00:09.0" }, &c, &err),
                -ENOENT);
        assert_non_null (strstr (err.msg, "unknown parent 0000:00:09.0"));
        seed_types[0].available = 0;
        assert_int_equal (vgpu_select (&host, &(vgpu_selector_t) { .type = "i915-GVTg_V5_1" }, &c, &err), -ENOSPC);
        assert_non_null (strstr (err.msg, "no instance of i915-GVTg_V5_1 left on 0000:00:02.0 (0 available)"));
        assert_non_null (strstr (err.msg, "BIOS/UEFI"));
}

/* A host with nothing to offer points at the command that says why. */
static void
no_parent_points_at_doctor (void **state)
{
        vgpu_host_t host = { 0 };
        vgpu_choice_t c;
        vgpu_error_t err = { 0 };

        for (int i = 0; i < 2; i++) {
                assert_int_equal (
                        vgpu_select (&host, &(vgpu_selector_t) { .type = i ? "i915-GVTg_V5_4" : "auto" }, &c, &err),
                        -ENOENT);
                assert_string_equal (err.msg, "no vGPU parent on this host (no GPU with GVT-g on, no SR-IOV PF): "
                                              "`vgpuctl doctor` says what is missing");
        }
}

static void
least_loaded_parent_first (void **state)
{
        vgpu_parent_t parents[2];
        vgpu_host_t host;
        vgpu_choice_t c;

        seed_host (&host, parents, 2);
        parents[0].active = 3;
        parents[1].active = 1;
        assert_int_equal (vgpu_select (&host, &(vgpu_selector_t) { .type = "auto" }, &c, NULL), 0);
        assert_string_equal (c.parent->name, "0000:00:03.0");
        assert_int_equal (
                vgpu_select (&host, &(vgpu_selector_t) { .type = "auto", .parent = "0000:00:02.0" }, &c, NULL), 0);
        assert_string_equal (c.parent->name, "0000:00:02.0");
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (gvt_seed_description),
                cmocka_unit_test (gvt_kernel_newlines),
                cmocka_unit_test (gvt_other_shapes_rejected),
                cmocka_unit_test (auto_picks_v5_4_on_seed_gpu),
                cmocka_unit_test (auto_with_vfs),
                cmocka_unit_test (auto_low_resolution_takes_most_instances),
                cmocka_unit_test (exact_type_and_errors),
                cmocka_unit_test (no_parent_points_at_doctor),
                cmocka_unit_test (least_loaded_parent_first),
        };
        return cmocka_run_group_tests (tests, NULL, NULL);
}
