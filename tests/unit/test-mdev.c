/* Units: UUID handling and name validation of mdev.h, and the plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mdev.h"
#include "plan.h"

static void
uuid_new_is_lowercase_and_unique (void **state)
{
        char a[VGPU_UUID_LEN + 1], b[VGPU_UUID_LEN + 1];

        vgpu_uuid_new (a);
        vgpu_uuid_new (b);
        assert_int_equal (strlen (a), VGPU_UUID_LEN);
        assert_true (vgpu_uuid_valid (a));
        assert_string_not_equal (a, b);
        for (size_t i = 0; a[i]; i++)
                assert_false (isupper ((unsigned char) a[i]));
        assert_int_equal (a[14], '4'); /* random (version 4) UUIDs */
}

static void
uuid_validation (void **state)
{
        char up[] = "83B8F4F2-509F-382F-3C1E-E6BFE0FA1001";

        assert_true (vgpu_uuid_valid ("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"));
        assert_true (vgpu_uuid_valid (up));
        vgpu_uuid_lower (up);
        assert_string_equal (up, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
        assert_false (vgpu_uuid_valid ("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001\n"));
        assert_false (vgpu_uuid_valid ("83b8f4f2509f382f3c1ee6bfe0fa1001"));
        assert_false (vgpu_uuid_valid ("../../../../../../etc/passwd-xxxxxxxx"));
        assert_false (vgpu_uuid_valid (""));
}

static void
names (void **state)
{
        assert_true (vgpu_name_valid ("0000:00:02.0"));
        assert_true (vgpu_name_valid ("i915-GVTg_V5_4"));
        assert_true (vgpu_name_valid ("mtty"));
        assert_false (vgpu_name_valid (".."));
        assert_false (vgpu_name_valid ("a/b"));
        assert_false (vgpu_name_valid (""));
        assert_false (vgpu_name_valid ("a b"));
}

static void
plan_nodes_and_env (void **state)
{
        vgpu_mdev_t m[2] = {
                { .uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
                  .parent = "0000:00:02.0",
                  .type = "i915-GVTg_V5_4",
                  .group = 3,
                  .group_major = 234,
                  .group_minor = 3,
                  .cdev = -1 },
                { .uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002",
                  .parent = "0000:00:02.0",
                  .type = "i915-GVTg_V5_4",
                  .group = 4,
                  .group_major = 234,
                  .group_minor = 4,
                  .cdev = -1 },
        };
        vgpu_roots_t roots = { .sysfs = "/nonexistent" };
        vgpu_plan_t plan;

        assert_int_equal (vgpu_plan_build (&roots, m, 1, &plan, NULL), 0);
        assert_int_equal (plan.n_nodes, 2);
        assert_string_equal (plan.nodes[0].path, "/dev/vfio/vfio");
        assert_int_equal (plan.nodes[0].major, 10);
        assert_int_equal (plan.nodes[0].minor, 196);
        assert_string_equal (plan.nodes[1].path, "/dev/vfio/3");
        assert_int_equal (plan.nodes[1].major, 234);
        assert_string_equal (plan.env[0], "VGPU_MDEV_UUID=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
        assert_string_equal (plan.env[3], "VGPU_IOMMU_GROUP=3");
        assert_string_equal (plan.env[4], "MDEV_PCI_RESOURCE_INTEL_COM_VGPU=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
        assert_int_equal (vgpu_plan_build (&roots, m, 2, &plan, NULL), 0);
        assert_int_equal (plan.n_nodes, 3);
        assert_string_equal (
                plan.env[0],
                "VGPU_MDEV_UUID=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001,83b8f4f2-509f-382f-3c1e-e6bfe0fa1002");
        m[0].group = -1;
        assert_int_equal (vgpu_plan_build (&roots, m, 1, &plan, NULL), -ENODEV);
}

/* A VF's env names its address and PF (KubeVirt builds a PCI hostdev from
 * PCI_RESOURCE_*); a plan of an mdev and a VF has each backend's variables,
 * each listing its own devices, and the groups of both. */
static void
plan_vf_env (void **state)
{
        vgpu_mdev_t m[2] = {
                { .backend = VGPU_BACKEND_VF,
                  .uuid = "1a2812f8-5574-5e99-a727-5723ba0dced3",
                  .name = "0000:00:02.1",
                  .parent = "0000:00:02.0",
                  .type = "vf",
                  .group = 1,
                  .group_major = 234,
                  .group_minor = 1,
                  .cdev = -1 },
                { .uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002",
                  .name = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1002",
                  .parent = "0000:00:02.0",
                  .type = "i915-GVTg_V5_4",
                  .group = 8,
                  .group_major = 234,
                  .group_minor = 8,
                  .cdev = -1 },
        };
        static const char *const vf_env[] = {
                "VGPU_VF_ADDRESS=0000:00:02.1",
                "VGPU_VF_PF=0000:00:02.0",
                "VGPU_IOMMU_GROUP=1",
                "PCI_RESOURCE_INTEL_COM_VGPU=0000:00:02.1",
        };
        vgpu_roots_t roots = { .sysfs = "/nonexistent" };
        vgpu_plan_t plan;

        assert_int_equal (vgpu_plan_build (&roots, m, 1, &plan, NULL), 0);
        assert_int_equal (plan.n_nodes, 2);
        assert_string_equal (plan.nodes[1].path, "/dev/vfio/1");
        assert_int_equal (plan.n_env, 4);
        for (size_t i = 0; i < 4; i++)
                assert_string_equal (plan.env[i], vf_env[i]);
        assert_int_equal (vgpu_plan_build (&roots, m, 2, &plan, NULL), 0);
        assert_int_equal (plan.n_nodes, 3);
        assert_int_equal (plan.n_env, 8);
        assert_string_equal (plan.env[0], "VGPU_MDEV_UUID=83b8f4f2-509f-382f-3c1e-e6bfe0fa1002");
        assert_string_equal (plan.env[3], "VGPU_VF_ADDRESS=0000:00:02.1");
        assert_string_equal (plan.env[5], "VGPU_IOMMU_GROUP=1,8");
        m[0].group = -1;
        assert_int_equal (vgpu_plan_build (&roots, m, 1, &plan, NULL), -ENODEV);
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (uuid_new_is_lowercase_and_unique),
                cmocka_unit_test (uuid_validation),
                cmocka_unit_test (names),
                cmocka_unit_test (plan_nodes_and_env),
                cmocka_unit_test (plan_vf_env),
        };
        return cmocka_run_group_tests (tests, NULL, NULL);
}
