/* Units: CDI names and their mapping, the spec as data and its JSON (both
 * ways), cdiVersion, dynamic devices from a host, pool requests, mdevctl
 * definitions, atomic save and removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>

#include "cdi-claim.h"
#include "cdi-gen.h"
#include "cdi-pool.h"
#include "cdi-spec.h"
#include "json.h"
#include "util.h"

static void
kinds (void **state)
{
        static const char *good[] = { "intel.com/vgpu", "vendor.com/foo", "foo.bar.baz/foo-bar123_Az", "ab/cd" };
        static const char *bad[] = { "intel.com",
                                     "intel.com/",
                                     "/vgpu",
                                     "a.com/b/c",
                                     "1ntel.com/vgpu",
                                     "intel.com-/vgpu",
                                     "intel.com/vgpu-",
                                     "intel.com/v.gpu",
                                     "i/vgpu",
                                     "intel.com/v",
                                     "intel com/vgpu",
                                     "intel.com/vgpu!",
                                     "" };
        vgpu_error_t err = { 0 };

        for (size_t i = 0; i < ARRAY_SIZE (good); i++)
                assert_int_equal (vgpu_cdi_kind_check (good[i], &err), 0);
        for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
                assert_int_equal (vgpu_cdi_kind_check (bad[i], &err), -EINVAL);
        assert_int_equal (vgpu_cdi_kind_check ("intel.com/v.gpu", &err), -EINVAL);
        assert_non_null (strstr (err.msg, "0.6.0"));
}

static void
names (void **state)
{
        assert_true (vgpu_cdi_name_valid ("i915-GVTg_V5_4"));
        assert_true (vgpu_cdi_name_valid ("0"));
        assert_true (vgpu_cdi_name_valid ("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"));
        assert_true (vgpu_cdi_name_valid ("a:b.c"));
        assert_false (vgpu_cdi_name_valid (""));
        assert_false (vgpu_cdi_name_valid ("-a"));
        assert_false (vgpu_cdi_name_valid ("a-"));
        assert_false (vgpu_cdi_name_valid ("a+b"));
        assert_false (vgpu_cdi_name_valid ("a/b"));
        assert_false (vgpu_cdi_name_valid ("a b"));
}

static void
mapping (void **state)
{
        static const struct {
                const char *id, *name;
        } cases[] = {
                { "i915-GVTg_V5_4", "i915-GVTg_V5_4" },
                { "odd+type", "odd:2btype" },
                { "x:y", "x:3ay" },
                { "-lead", "x::2dlead" },
                { "trail-", "trail:2d" },
                { "-", "x::2d" },
                { "x-", "x:2d" },
                { ".a", "x::2ea" },
                { "a b", "a:20b" },
        };
        /* ids a careless mapping would merge */
        static const char *ids[] = { "-",   "x-",    "x:2d", "x::2d", ":",      "x:", "x:3a", "a b", "a_b", "a:20b",
                                     "a+b", "a:2bb", "_a",   "x:5fa", "x::5fa", "a.", "a:2e", "A",   "a" };
        char out[ARRAY_SIZE (ids)][VGPU_CDI_NAME_MAX];
        char small[4];

        for (size_t i = 0; i < ARRAY_SIZE (cases); i++) {
                char name[VGPU_CDI_NAME_MAX];

                assert_int_equal (vgpu_cdi_map_name (cases[i].id, name, sizeof name), 0);
                assert_string_equal (name, cases[i].name);
        }
        for (size_t i = 0; i < ARRAY_SIZE (ids); i++) {
                assert_int_equal (vgpu_cdi_map_name (ids[i], out[i], sizeof out[i]), 0);
                assert_true (vgpu_cdi_name_valid (out[i]));
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal (out[i], out[j]);
        }
        assert_int_equal (vgpu_cdi_map_name ("", out[0], sizeof out[0]), -EINVAL);
        assert_int_equal (vgpu_cdi_map_name ("abcd", small, sizeof small), -ENAMETOOLONG);
        assert_int_equal (vgpu_cdi_map_name ("a+", small, sizeof small), -ENAMETOOLONG);
}

static void
claims_and_files (void **state)
{
        char name[NAME_MAX + 1], id[VGPU_CDI_CLAIM_MAX + 2];
        vgpu_error_t err = { 0 };

        assert_true (vgpu_cdi_claim_valid ("c1"));
        assert_true (vgpu_cdi_claim_valid ("0b1d6c52-7f3a-4b9e-9c1d-2f6a8e4b7c10"));
        assert_false (vgpu_cdi_claim_valid ("c1-"));
        assert_false (vgpu_cdi_claim_valid ("../c1"));
        assert_false (vgpu_cdi_claim_valid ("a/b"));
        assert_false (vgpu_cdi_claim_valid (""));
        memset (id, 'a', sizeof id - 1);
        id[sizeof id - 1] = '\0';
        assert_false (vgpu_cdi_claim_valid (id));
        id[VGPU_CDI_CLAIM_MAX] = '\0';
        assert_true (vgpu_cdi_claim_valid (id));

        assert_int_equal (vgpu_cdi_file_name ("intel.com/vgpu", NULL, name, sizeof name, &err), 0);
        assert_string_equal (name, "intel.com-vgpu.json");
        assert_int_equal (vgpu_cdi_file_name ("intel.com/vgpu", "c1", name, sizeof name, &err), 0);
        assert_string_equal (name, "intel.com-vgpu_c1.json");
        assert_int_equal (vgpu_cdi_file_name ("intel.com/vgpu", "../x", name, sizeof name, &err), -EINVAL);
        assert_int_equal (vgpu_cdi_file_name ("intel", NULL, name, sizeof name, &err), -EINVAL);
        assert_int_equal (vgpu_cdi_file_name ("intel.com/vgpu", "c1", name, 10, &err), -ENAMETOOLONG);
}

static vgpu_plan_t
fixed_plan (const char *uuid, int group)
{
        vgpu_plan_t p = { .n_nodes = 2, .n_env = 2 };

        p.nodes[0] = (vgpu_node_t) { .path = "/dev/vfio/vfio", .major = 10, .minor = 196, .mode = 0666 };
        p.nodes[1] = (vgpu_node_t) { .major = 234, .minor = (unsigned) group, .mode = 0666 };
        snprintf (p.nodes[1].path, sizeof p.nodes[1].path, "/dev/vfio/%d", group);
        snprintf (p.env[0], sizeof p.env[0], "VGPU_MDEV_UUID=%s", uuid);
        snprintf (p.env[1], sizeof p.env[1], "VGPU_IOMMU_GROUP=%d", group);
        return p;
}

static void
spec_data_and_version (void **state)
{
        vgpu_plan_t p = fixed_plan ("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", 3);
        vgpu_error_t err = { 0 };
        vgpu_cdi_spec_t s;

        assert_int_equal (vgpu_cdi_spec_init (&s, "bad", &err), -EINVAL);
        assert_int_equal (vgpu_cdi_spec_init (&s, VGPU_CDI_KIND, &err), 0);
        assert_int_equal (vgpu_cdi_spec_add (&s, "claim-c1", NULL, &p, &err), 0);
        assert_string_equal (vgpu_cdi_version (&s), "0.3.0");
        assert_int_equal (vgpu_cdi_spec_add (&s, "claim-c1", NULL, &p, &err), -EEXIST);
        assert_int_equal (vgpu_cdi_spec_add (&s, "bad name", NULL, &p, &err), -EINVAL);
        assert_int_equal (vgpu_cdi_spec_add (&s, "0", NULL, &p, &err), 0);
        assert_string_equal (vgpu_cdi_version (&s), "0.5.0");
        assert_int_equal (s.n_devices, 2);
        assert_string_equal (vgpu_cdi_device_env (&s.devices[0], "VGPU_MDEV_UUID"),
                             "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
        assert_null (vgpu_cdi_device_env (&s.devices[0], "VGPU_MDEV"));
        vgpu_cdi_spec_done (&s);
}

static void
render_parse_round_trip (void **state)
{
        vgpu_plan_t fixed = fixed_plan ("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", 3), dyn = { .n_nodes = 1 };
        _cleanup_free_ char *text = NULL, *again = NULL;
        _cleanup_json_ json_object *o = NULL;
        vgpu_error_t err = { 0 };
        vgpu_cdi_spec_t s, t;

        dyn.nodes[0] = fixed.nodes[0];
        assert_int_equal (vgpu_cdi_spec_init (&s, VGPU_CDI_KIND, &err), 0);
        snprintf (s.hook_path, sizeof s.hook_path, "/usr/bin/vgpu-hook");
        snprintf (s.roots.sysfs, sizeof s.roots.sysfs, "/tmp/sim/sys");
        assert_int_equal (vgpu_cdi_spec_add (&s, "i915-GVTg_V5_4", "i915-GVTg_V5_4", &dyn, &err), 0);
        assert_int_equal (vgpu_cdi_spec_add (&s, "0", NULL, &fixed, &err), 0);
        assert_int_equal (vgpu_cdi_render (&s, &text, &err), 0);

        /* the spellings of the reference library, nothing podman 4.3.1 refuses */
        assert_non_null (strstr (text, "\"cdiVersion\": \"0.5.0\""));
        assert_non_null (strstr (text, "\"containerEdits\""));
        assert_non_null (strstr (text, "\"deviceNodes\""));
        assert_non_null (strstr (text, "\"hookName\": \"createRuntime\""));
        assert_non_null (strstr (text, "\"hookName\": \"poststop\""));
        assert_non_null (strstr (text, "\"fileMode\": 438"));
        assert_null (strstr (text, "annotations"));
        assert_null (strstr (text, "hostPath"));
        assert_null (strstr (text, "--dev-root")); /* only roots that differ */
        assert_non_null (strstr (text, "\"--sysfs-root\","));
        assert_int_equal (vgpu_json_parse (text, strlen (text), "spec", &o, &err), 0);

        assert_int_equal (vgpu_cdi_parse (text, strlen (text), &t, &err), 0);
        assert_string_equal (t.kind, VGPU_CDI_KIND);
        assert_string_equal (t.hook_path, "/usr/bin/vgpu-hook");
        assert_string_equal (t.roots.sysfs, "/tmp/sim/sys");
        assert_string_equal (t.roots.dev, "/dev");
        assert_int_equal (t.n_devices, 2);
        assert_string_equal (t.devices[0].type, "i915-GVTg_V5_4");
        assert_string_equal (t.devices[1].type, "");
        assert_memory_equal (&t.devices[1].plan, &fixed, sizeof fixed);
        assert_int_equal (t.devices[0].plan.n_nodes, 1);
        assert_int_equal (vgpu_cdi_render (&t, &again, &err), 0);
        assert_string_equal (text, again);
        vgpu_cdi_spec_done (&s);
        vgpu_cdi_spec_done (&t);
}

static void
parse_refusals (void **state)
{
        static const char *bad[] = {
                "{\"cdiVersion\": \"0.5.0\", \"kind\": \"intel.com/vgpu\", \"devices\": [",
                "{\"kind\": \"intel.com/vgpu\", \"devices\": []}",
                "{\"cdiVersion\": \"0.5.0\", \"kind\": \"intel\", \"devices\": []}",
                "{\"cdiVersion\": \"0.5.0\", \"kind\": \"intel.com/vgpu\", \"devices\": {}}",
                "{\"cdiVersion\": \"0.5.0\", \"kind\": \"intel.com/vgpu\", \"devices\": [{\"name\": \"a\"}]}",
                "{\"cdiVersion\": \"0.5.0\", \"kind\": \"intel.com/vgpu\", \"devices\": [{\"name\": 1, "
                "\"containerEdits\": {}}]}",
                "{\"cdiVersion\": \"0.5.0\", \"kind\": \"intel.com/vgpu\", \"devices\": [{\"name\": \"a\", "
                "\"containerEdits\": {\"deviceNodes\": [{\"major\": 1}]}}]}",
                "{\"cdiVersion\": \"0.5.0\", \"kind\": \"intel.com/vgpu\", \"devices\": [{\"name\": \"a\", "
                "\"containerEdits\": {\"deviceNodes\": [{\"path\": \"/x\", \"major\": -1}]}}]}",
                "{\"cdiVersion\": \"0.5.0\", \"kind\": \"intel.com/vgpu\", \"devices\": [{\"name\": \"a\", "
                "\"containerEdits\": {\"env\": [1]}}]}",
                "{\"cdiVersion\": \"0.5.0\", \"kind\": \"intel.com/vgpu\", \"devices\": [{\"name\": \"a\", "
                "\"containerEdits\": {\"hooks\": [{\"path\": \"/x\"}]}}]}",
                "{\"cdiVersion\": \"0.5.0\", \"kind\": \"intel.com/vgpu\", \"devices\": [{\"name\": \"a\", "
                "\"containerEdits\": {}}, {\"name\": \"a\", \"containerEdits\": {}}]}",
        };
        vgpu_cdi_spec_t s;

        for (size_t i = 0; i < ARRAY_SIZE (bad); i++) {
                vgpu_error_t err = { 0 };

                assert_true (vgpu_cdi_parse (bad[i], strlen (bad[i]), &s, &err) < 0);
                assert_true (err.msg[0] != '\0');
                assert_null (strchr (err.msg, '\n'));
        }
}

static vgpu_type_t
gvt_type (const char *id, unsigned w, unsigned h, unsigned avail)
{
        vgpu_type_t t = { .available = avail, .gvt = { .valid = true, .res_w = w, .res_h = h } };

        snprintf (t.id, sizeof t.id, "%s", id);
        return t;
}

static void
dynamic_devices (void **state)
{
        vgpu_type_t a[] = { gvt_type ("i915-GVTg_V5_4", 1920, 1200, 5), gvt_type ("i915-GVTg_V5_8", 1024, 768, 7) };
        vgpu_type_t b[] = { gvt_type ("i915-GVTg_V5_8", 1024, 768, 0), gvt_type ("odd+type", 0, 0, 1) };
        vgpu_parent_t parents[] = { { .name = "0000:00:02.0", .types = a, .n_types = 2 },
                                    { .name = "0000:00:03.0", .types = b, .n_types = 2 } };
        vgpu_host_t host = { .parents = parents, .n_parents = 2 }, none = { 0 };
        vgpu_error_t err = { 0 };
        vgpu_cdi_spec_t s;

        b[1].gvt.valid = false;
        assert_int_equal (vgpu_cdi_spec_init (&s, VGPU_CDI_KIND, &err), 0);
        assert_int_equal (vgpu_cdi_dynamic (&host, &s, &err), 0);
        assert_int_equal (s.n_devices, 4); /* V5_8 once, though on two parents */
        assert_string_equal (s.devices[0].name, "i915-GVTg_V5_4");
        assert_string_equal (s.devices[1].name, "i915-GVTg_V5_8");
        assert_string_equal (s.devices[2].name, "odd:2btype");
        assert_string_equal (s.devices[2].type, "odd+type");
        assert_string_equal (s.devices[3].name, "auto");
        assert_string_equal (s.devices[3].type, "auto");
        assert_int_equal (s.devices[0].plan.n_nodes, 1);
        assert_string_equal (s.devices[0].plan.nodes[0].path, "/dev/vfio/vfio");
        assert_int_equal (s.devices[0].plan.nodes[0].major, 10);
        assert_int_equal (s.devices[0].plan.nodes[0].minor, 196);
        assert_string_equal (vgpu_cdi_version (&s), "0.3.0");
        vgpu_cdi_spec_done (&s);

        /* no type meets 1920x1200: no auto */
        a[0].gvt.res_h = 1080;
        assert_int_equal (vgpu_cdi_spec_init (&s, VGPU_CDI_KIND, &err), 0);
        assert_int_equal (vgpu_cdi_dynamic (&host, &s, &err), 0);
        assert_int_equal (s.n_devices, 3);
        vgpu_cdi_spec_done (&s);

        assert_int_equal (vgpu_cdi_spec_init (&s, VGPU_CDI_KIND, &err), 0);
        assert_int_equal (vgpu_cdi_dynamic (&none, &s, &err), 0);
        assert_int_equal (s.n_devices, 0);
        vgpu_cdi_spec_done (&s);
}

static void
pool_requests (void **state)
{
        vgpu_cdi_pool_req_t r;

        assert_int_equal (vgpu_cdi_pool_req_parse ("i915-GVTg_V5_4=2", &r), 0);
        assert_string_equal (r.type, "i915-GVTg_V5_4");
        assert_int_equal (r.count, 2);
        assert_int_equal (vgpu_cdi_pool_req_parse ("auto=64", &r), 0);
        assert_int_equal (vgpu_cdi_pool_req_parse ("i915-GVTg_V5_4", &r), -EINVAL);
        assert_int_equal (vgpu_cdi_pool_req_parse ("=2", &r), -EINVAL);
        assert_int_equal (vgpu_cdi_pool_req_parse ("../x=2", &r), -EINVAL);
        assert_int_equal (vgpu_cdi_pool_req_parse ("a/b=2", &r), -EINVAL);
        assert_int_equal (vgpu_cdi_pool_req_parse ("t=0", &r), -ERANGE);
        assert_int_equal (vgpu_cdi_pool_req_parse ("t=65", &r), -ERANGE);
        assert_int_equal (vgpu_cdi_pool_req_parse ("t=-1", &r), -ERANGE);
        assert_int_equal (vgpu_cdi_pool_req_parse ("t=", &r), -ERANGE);
}

static void
mdevctl_definition (void **state)
{
        _cleanup_free_ char *d = vgpu_mdevctl_definition ("i915-GVTg_V5_4", /* autostart= */ true);

        /* the bytes `mdevctl define --auto` (1.2.0) writes: no trailing newline */
        assert_string_equal (d, "{\n  \"mdev_type\": \"i915-GVTg_V5_4\",\n  \"start\": \"auto\",\n  \"attrs\": []\n}");
}

static void
save_and_remove (void **state)
{
        char dir[] = "/tmp/test-cdi-XXXXXX", path[PATH_MAX], other[PATH_MAX];
        vgpu_plan_t p = fixed_plan ("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", 3);
        vgpu_error_t err = { 0 };
        vgpu_cdi_spec_t s, t;
        struct stat st;
        mode_t old = umask (077);

        assert_non_null (mkdtemp (dir));
        snprintf (path, sizeof path, "%s/cdi/intel.com-vgpu.json", dir);
        assert_int_equal (vgpu_cdi_path_check (path, &err), 0);
        assert_int_equal (vgpu_cdi_spec_init (&s, VGPU_CDI_KIND, &err), 0);
        assert_int_equal (vgpu_cdi_save (path, &s, &err), 0); /* no devices, no dir: nothing */
        assert_int_equal (stat (path, &st), -1);
        assert_int_equal (vgpu_cdi_spec_add (&s, "0", NULL, &p, &err), 0);
        assert_int_equal (vgpu_cdi_save (path, &s, &err), 0);
        assert_int_equal (stat (path, &st), 0);
        assert_int_equal (st.st_mode & 07777, 0644);
        assert_int_equal (vgpu_cdi_load (path, &t, &err), 0);
        assert_int_equal (t.n_devices, 1);
        vgpu_cdi_spec_done (&t);
        s.n_devices = 0; /* a spec without devices removes the file */
        assert_int_equal (vgpu_cdi_save (path, &s, &err), 0);
        assert_int_equal (stat (path, &st), -1);
        assert_int_equal (vgpu_cdi_load (path, &t, &err), -ENOENT);
        assert_int_equal (vgpu_cdi_remove_file (path, &err), 0);

        snprintf (other, sizeof other, "%s/cdi/spec.yaml", dir);
        assert_int_equal (vgpu_cdi_save (other, &s, &err), -EINVAL);
        snprintf (other, sizeof other, "%s/a/b/x.json", dir);
        assert_int_equal (vgpu_cdi_path_check (other, &err), -ENOENT);
        s.n_devices = 1;
        vgpu_cdi_spec_done (&s);
        snprintf (other, sizeof other, "rm -rf %s", dir);
        assert_int_equal (system (other), 0);
        umask (old);
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (kinds),
                cmocka_unit_test (names),
                cmocka_unit_test (mapping),
                cmocka_unit_test (claims_and_files),
                cmocka_unit_test (spec_data_and_version),
                cmocka_unit_test (render_parse_round_trip),
                cmocka_unit_test (parse_refusals),
                cmocka_unit_test (dynamic_devices),
                cmocka_unit_test (pool_requests),
                cmocka_unit_test (mdevctl_definition),
                cmocka_unit_test (save_and_remove),
        };

        return cmocka_run_group_tests (tests, NULL, NULL);
}
