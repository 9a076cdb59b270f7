/* Units: the GVT-g description parser, the type selector, and vgpu_choose
 * on a sysfs-shaped tree in a temp dir: it reads only what the request
 * needs (what it must not read is made unreadable: the full scan fails on
 * it) and keeps the text attributes for the rest of the process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "policy.h"
#include "testutil.h"

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

/* --- vgpu_choose on a tree --- */

static vgpu_roots_t tree;

#define SEED_DESC(w, h) "low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: " w "x" h "\nweight: 4\n"

/* Write root/rel (making its directories); content NULL makes rel a directory. */
static void
put (const char *rel, const char *content)
{
        char path[PATH_MAX + 512];
        FILE *f;

        snprintf (path, sizeof path, "%s/%s", tree.sysfs, rel);
        for (char *c = path + strlen (tree.sysfs) + 1; (c = strchr (c, '/')); c++) {
                *c = '\0';
                assert_true (mkdir (path, 0755) == 0 || errno == EEXIST);
                *c = '/';
        }
        if (!content) {
                assert_true (mkdir (path, 0755) == 0 || errno == EEXIST);
                return;
        }
        assert_non_null (f = fopen (path, "w"));
        fputs (content, f);
        fclose (f);
}

/* A GVT-g type of parent (a device under devices/pci), n mdevs of it made. */
static void
put_type (const char *parent, const char *id, const char *avail, const char *desc, unsigned n)
{
        char rel[PATH_MAX + 512], link[512];

        snprintf (rel, sizeof rel, "devices/pci/%s/mdev_supported_types/%s/available_instances", parent, id);
        put (rel, avail);
        snprintf (rel, sizeof rel, "devices/pci/%s/mdev_supported_types/%s/description", parent, id);
        put (rel, desc);
        snprintf (rel, sizeof rel, "devices/pci/%s/mdev_supported_types/%s/device_api", parent, id);
        put (rel, "vfio-pci\n");
        snprintf (rel, sizeof rel, "devices/pci/%s/mdev_supported_types/%s/devices", parent, id);
        put (rel, NULL);
        for (unsigned i = 0; i < n; i++) { /* an mdev: a UUID directory under its parent */
                snprintf (rel, sizeof rel, "devices/pci/%s/%08x-0000-4000-8000-%012zx", parent, i, strlen (id));
                put (rel, NULL);
        }
        snprintf (rel, sizeof rel, "%s/class/mdev_bus/%s", tree.sysfs, parent);
        snprintf (link, sizeof link, "../../devices/pci/%s", parent);
        put ("class/mdev_bus", NULL);
        assert_true (symlink (link, rel) == 0 || errno == EEXIST);
}

/* Two GPUs.  0000:00:02.0: V5_4 (5 left), V5_2 (2 left), V5_8 broken (an
 * available_instances that is no count).  0000:03:00.0: no V5_4, V5_1 broken. */
static int
tree_setup (void **state)
{
        (void) state;
        snprintf (tree.sysfs, sizeof tree.sysfs, "/tmp/vgpu-test-policy.XXXXXX");
        assert_non_null (mkdtemp (tree.sysfs));
        put_type ("0000:00:02.0", "i915-GVTg_V5_4", "5\n", SEED_DESC ("1920", "1200"), 0);
        put_type ("0000:00:02.0", "i915-GVTg_V5_2", "2\n", SEED_DESC ("1920", "1200"), 0);
        put_type ("0000:00:02.0", "i915-GVTg_V5_8", "many\n", SEED_DESC ("1024", "768"), 0);
        put_type ("0000:03:00.0", "i915-GVTg_V5_1", "many\n", SEED_DESC ("1920", "1200"), 0);
        return 0;
}

static int
tree_teardown (void **state)
{
        (void) state;
        test_rm_tree (tree.sysfs);
        return 0;
}

static void
choose_named_reads_that_type_only (void **state)
{
        vgpu_host_t host;
        vgpu_choice_t c;
        vgpu_error_t err = { 0 };

        (void) state;
        assert_int_equal (vgpu_host_scan (&tree, &host, &err), -EINVAL); /* everything read: the broken ones too */
        assert_non_null (strstr (err.msg, "is not a count"));
        assert_int_equal (vgpu_choose (&tree, &(vgpu_selector_t) { .type = "i915-GVTg_V5_4" }, &host, &c, &err), 0);
        assert_string_equal (c.parent->name, "0000:00:02.0");
        assert_string_equal (c.type->id, "i915-GVTg_V5_4");
        assert_int_equal (c.type->available, 5);
        assert_int_equal (host.n_parents, 2);
        assert_int_equal (host.parents[0].n_types, 1);
        assert_int_equal (host.parents[1].n_types, 0);
        assert_false (c.type->has_description); /* not read: not needed */
        vgpu_host_free (&host);
}

static void
choose_named_errors (void **state)
{
        vgpu_host_t host;
        vgpu_choice_t c;
        vgpu_error_t err = { 0 };

        (void) state;
        assert_int_equal (vgpu_choose (&tree, &(vgpu_selector_t) { .type = "i915-GVTg_V5_4", .parent = "0000:03:00.0" },
                                       &host, &c, &err),
                          -ENOENT);
        assert_string_equal (err.msg,
                             "type i915-GVTg_V5_4 is not offered by parent 0000:03:00.0 (0000:00:02.0 offers it)");
        vgpu_host_free (&host);
        assert_int_equal (vgpu_choose (&tree, &(vgpu_selector_t) { .type = "i915-GVTg_V9_9" }, &host, &c, &err),
                          -ENOENT);
        assert_string_equal (err.msg, "unknown type i915-GVTg_V9_9");
        vgpu_host_free (&host);
        assert_int_equal (vgpu_choose (&tree, &(vgpu_selector_t) { .type = "../x" }, &host, &c, &err), -ENOENT);
        assert_string_equal (err.msg, "unknown type ../x");
        vgpu_host_free (&host);
        assert_int_equal (
                vgpu_choose (&tree, &(vgpu_selector_t) { .type = "auto", .parent = "0000:09:00.0" }, &host, &c, &err),
                -ENOENT);
        assert_non_null (strstr (err.msg, "unknown parent 0000:09:00.0"));
        vgpu_host_free (&host);
        put ("devices/pci/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/available_instances", "0\n");
        assert_int_equal (vgpu_choose (&tree, &(vgpu_selector_t) { .type = "i915-GVTg_V5_4" }, &host, &c, &err),
                          -ENOSPC);
        assert_non_null (strstr (err.msg, "no instance of i915-GVTg_V5_4 left on"));
        vgpu_host_free (&host);
}

/* auto reads descriptions once a process, counts every time. */
static void
choose_auto_keeps_the_text (void **state)
{
        vgpu_host_t host;
        vgpu_choice_t c;
        vgpu_error_t err = { 0 };
        vgpu_selector_t sel = { .type = "auto", .parent = "0000:00:02.0" };

        (void) state;
        put ("devices/pci/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_8/available_instances", "7\n");
        assert_int_equal (vgpu_choose (&tree, &sel, &host, &c, &err), 0);
        assert_string_equal (c.type->id, "i915-GVTg_V5_4");
        vgpu_host_free (&host);
        /* V5_2 now has more left, and (on disk only) V5_4 says 1024x768 */
        put ("devices/pci/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_2/available_instances", "9\n");
        put ("devices/pci/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/description", SEED_DESC ("1024", "768"));
        assert_int_equal (vgpu_choose (&tree, &sel, &host, &c, &err), 0);
        assert_string_equal (c.type->id, "i915-GVTg_V5_2");
        put ("devices/pci/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_2/available_instances", "0\n");
        vgpu_host_free (&host);
        assert_int_equal (vgpu_choose (&tree, &sel, &host, &c, &err), 0);
        assert_string_equal (c.type->id, "i915-GVTg_V5_4"); /* its 1920x1200 kept from the first read */
        vgpu_host_free (&host);
}

/* Two parents could give it: the one with fewer devices (of any type). */
static void
choose_least_loaded (void **state)
{
        vgpu_host_t host;
        vgpu_choice_t c;
        vgpu_error_t err = { 0 };

        (void) state;
        put_type ("0000:03:00.0", "i915-GVTg_V5_4", "5\n", SEED_DESC ("1920", "1200"), 0);
        put_type ("0000:00:02.0", "i915-GVTg_V5_2", "2\n", SEED_DESC ("1920", "1200"), 2);
        assert_int_equal (vgpu_choose (&tree, &(vgpu_selector_t) { .type = "i915-GVTg_V5_4" }, &host, &c, &err), 0);
        assert_string_equal (c.parent->name, "0000:03:00.0");
        assert_int_equal (host.parents[0].active, 2);
        vgpu_host_free (&host);
}

/* A long-running process sees a GPU go away and come back, and forgets
 * what it read of the one that went. */
static void
scan_sees_parents_come_and_go (void **state)
{
        char link[PATH_MAX + 64];
        vgpu_host_t host;
        vgpu_choice_t c;
        vgpu_error_t err = { 0 };
        vgpu_selector_t sel = { .type = "auto", .parent = "0000:03:00.0" };

        (void) state;
        put_type ("0000:03:00.0", "i915-GVTg_V5_4", "5\n", SEED_DESC ("1920", "1200"), 0);
        put ("devices/pci/0000:03:00.0/mdev_supported_types/i915-GVTg_V5_1/available_instances", "0\n");
        assert_int_equal (vgpu_choose (&tree, &sel, &host, &c, &err), 0);
        assert_string_equal (c.type->id, "i915-GVTg_V5_4");
        assert_int_equal (host.n_parents, 2);
        vgpu_host_free (&host);
        snprintf (link, sizeof link, "%s/class/mdev_bus/0000:03:00.0", tree.sysfs);
        assert_int_equal (unlink (link), 0);
        assert_int_equal (vgpu_choose (&tree, &sel, &host, &c, &err), -ENOENT);
        assert_non_null (strstr (err.msg, "unknown parent 0000:03:00.0"));
        assert_int_equal (host.n_parents, 1);
        vgpu_host_free (&host);
        /* back, its V5_4 now 1024x768: read again, not taken from before */
        put ("devices/pci/0000:03:00.0/mdev_supported_types/i915-GVTg_V5_4/description", SEED_DESC ("1024", "768"));
        assert_int_equal (symlink ("../../devices/pci/0000:03:00.0", link), 0);
        assert_int_equal (vgpu_choose (&tree, &sel, &host, &c, &err), -ENOSPC); /* only V5_1 meets it: none left */
        assert_non_null (strstr (err.msg, "no instance of i915-GVTg_V5_1 left"));
        vgpu_host_free (&host);
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
                cmocka_unit_test_setup_teardown (choose_named_reads_that_type_only, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown (choose_named_errors, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown (choose_auto_keeps_the_text, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown (choose_least_loaded, tree_setup, tree_teardown),
                cmocka_unit_test_setup_teardown (scan_sees_parents_come_and_go, tree_setup, tree_teardown),
        };
        return cmocka_run_group_tests (tests, NULL, NULL);
}
