/* Units of vgpu-device-plugin: the settings and names (options.c), the
 * devices of dynamic mode over a made-up host (dynamic.c), what changed
 * between two lists (devices.c), the answers (answer.c), the pool's owner
 * names (pool.c), and the messages packed and unpacked with protobuf-c as
 * the kubelet reads them (wire.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer.h"
#include "deviceplugin.pb-c.h"
#include "devices.h"
#include "dynamic.h"
#include "options.h"
#include "pool.h"
#include "wire.h"

/* Log lines, kept for the test to look at. */
static char logged[64][1024];
static size_t n_logged;

static void
keep_line (void *data, const char *text)
{
        (void) data;
        if (n_logged < 64)
                snprintf (logged[n_logged++], sizeof logged[0], "%s", text);
}

static const vgpu_klog_t keep = { .line = keep_line };

static size_t
lines_with (const char *needle)
{
        size_t n = 0;

        for (size_t i = 0; i < n_logged; i++)
                n += strstr (logged[i], needle) != NULL;
        return n;
}

/* --- options --- */

static void
resource_names (void **state)
{
        (void) state;
        assert_true (vgpu_kubelet_resource_valid ("intel.com/vgpu"));
        assert_true (vgpu_kubelet_resource_valid ("gpu.example.org/V5_4.big-1"));
        assert_false (vgpu_kubelet_resource_valid ("vgpu"));
        assert_false (vgpu_kubelet_resource_valid ("intel.com/"));
        assert_false (vgpu_kubelet_resource_valid ("/vgpu"));
        assert_false (vgpu_kubelet_resource_valid ("Intel.com/vgpu"));
        assert_false (vgpu_kubelet_resource_valid ("intel..com/vgpu"));
        assert_false (vgpu_kubelet_resource_valid ("-intel.com/vgpu"));
        assert_false (vgpu_kubelet_resource_valid ("intel.com/a/b"));
        assert_false (vgpu_kubelet_resource_valid ("intel.com/-vgpu"));
        assert_false (vgpu_kubelet_resource_valid ("kubernetes.io/vgpu"));
        assert_false (vgpu_kubelet_resource_valid ("node.kubernetes.io/vgpu"));
        assert_true (vgpu_kubelet_resource_valid ("notkubernetes.io/vgpu"));
}

static void
cdi_names (void **state)
{
        (void) state;
        assert_true (vgpu_kubelet_cdi_kind_valid ("intel.com/vgpu"));
        assert_true (vgpu_kubelet_cdi_kind_valid ("vendor_1.example/class-2"));
        assert_false (vgpu_kubelet_cdi_kind_valid ("intel.com/v.gpu"));
        assert_false (vgpu_kubelet_cdi_kind_valid ("1intel.com/vgpu"));
        assert_false (vgpu_kubelet_cdi_kind_valid ("intel.com"));
        assert_false (vgpu_kubelet_cdi_kind_valid ("intel.com/vgpu-"));
        /* vgpu-cdi's own rule (cdi-name.h): one-byte labels crash the reference parser */
        assert_false (vgpu_kubelet_cdi_kind_valid ("a/vgpu"));
        assert_false (vgpu_kubelet_cdi_kind_valid ("intel.com/v"));
        assert_true (vgpu_kubelet_cdi_name_plain ("i915-GVTg_V5_4"));
        assert_false (vgpu_kubelet_cdi_name_plain ("odd:type"));
        assert_false (vgpu_kubelet_cdi_name_plain ("odd+type"));
        assert_false (vgpu_kubelet_cdi_name_plain ("-lead"));
        assert_false (vgpu_kubelet_cdi_name_plain (""));
}

static void
socket_name (void **state)
{
        char name[VGPU_KUBELET_SUN_PATH];

        (void) state;
        assert_int_equal (vgpu_kubelet_socket_name ("intel.com/vgpu", name, sizeof name), 0);
        assert_string_equal (name, "vgpu-toolkit-intel-com-vgpu.sock");
        assert_int_equal (vgpu_kubelet_socket_name ("a.b.example/x.y", name, sizeof name), 0);
        assert_string_equal (name, "vgpu-toolkit-a-b-example-x-y.sock");
        assert_int_equal (vgpu_kubelet_socket_name ("intel.com/vgpu", name, 20), -ENAMETOOLONG);
}

static void
settings (void **state)
{
        vgpu_error_t err = { 0 };
        vgpu_kopts_t o;

        (void) state;
        assert_int_equal (vgpu_kopts_init (&o, &err), 0);
        assert_string_equal (o.plugin_dir, "/var/lib/kubelet/device-plugins");
        assert_string_equal (o.resource, "intel.com/vgpu");
        assert_string_equal (o.cdi_kind, "intel.com/vgpu");
        assert_string_equal (o.type, "auto");
        assert_int_equal (o.mode, VGPU_KMODE_DYNAMIC);
        assert_int_equal (vgpu_kopts_set (&o, "plugin-dir", "/x/dir/", &err), 0);
        assert_string_equal (o.plugin_dir, "/x/dir");
        assert_int_equal (vgpu_kopts_set (&o, "plugin-dir", "rel", &err), -EINVAL);
        assert_string_equal (err.msg, "plugin-dir \"rel\" is not an absolute path");
        assert_int_equal (vgpu_kopts_set (&o, "pool-size", "all", &err), 0);
        assert_int_equal (o.pool_size, VGPU_KUBELET_POOL_FILL);
        assert_int_equal (vgpu_kopts_set (&o, "pool-size", "-1", &err), -EINVAL);
        assert_int_equal (vgpu_kopts_set (&o, "adopt", "yes", &err), -EINVAL);
        assert_string_equal (err.msg, "adopt \"yes\" is not true or false");
        assert_int_equal (vgpu_kopts_set (&o, "scan-interval-ms", "99", &err), -EINVAL);
        assert_int_equal (vgpu_kopts_set (&o, "sysfs-root", "/s", &err), -EINVAL); /* roots: flags and env only */
        assert_int_equal (vgpu_kopts_set (&o, "color", "blue", &err), -EINVAL);
        assert_string_equal (err.msg, "unknown setting \"color\"");
}

static void
settings_together (void **state)
{
        vgpu_error_t err = { 0 };
        vgpu_kopts_t o;
        char dir[200];

        (void) state;
        vgpu_kopts_init (&o, &err);
        assert_int_equal (vgpu_kopts_set (&o, "adopt", "true", &err), 0);
        assert_int_equal (vgpu_kopts_check (&o, &err), -EINVAL);
        assert_string_equal (err.msg, "adopt is for mode pool, not dynamic");
        assert_int_equal (vgpu_kopts_set (&o, "mode", "pool", &err), 0);
        assert_int_equal (vgpu_kopts_check (&o, &err), 0);
        assert_int_equal (o.pool_size, 0); /* adopting: make none unless asked */
        vgpu_kopts_init (&o, &err);
        vgpu_kopts_set (&o, "mode", "pool", &err);
        assert_int_equal (vgpu_kopts_check (&o, &err), 0);
        assert_int_equal (o.pool_size, VGPU_KUBELET_POOL_FILL);
        vgpu_kopts_init (&o, &err);
        memset (dir, 'd', sizeof dir);
        dir[0] = '/';
        dir[90] = '\0';
        vgpu_kopts_set (&o, "plugin-dir", dir, &err);
        assert_int_equal (vgpu_kopts_check (&o, &err), -ENAMETOOLONG);
}

static void
config_file (void **state)
{
        char path[] = "/tmp/test-kubelet-config.XXXXXX";
        vgpu_error_t err = { 0 };
        vgpu_kopts_t o;
        int fd = mkstemp (path);
        static const char good[] =
                "{\"mode\": \"pool\", \"pool-size\": 3, \"adopt\": true, \"type\": \"i915-GVTg_V5_4\"}";

        (void) state;
        assert_true (fd >= 0);
        assert_int_equal (write (fd, good, strlen (good)), (ssize_t) strlen (good));
        close (fd);
        vgpu_kopts_init (&o, &err);
        assert_int_equal (vgpu_kopts_load (&o, path, &err), 0);
        assert_int_equal (o.mode, VGPU_KMODE_POOL);
        assert_int_equal (o.pool_size, 3);
        assert_true (o.adopt);
        assert_string_equal (o.type, "i915-GVTg_V5_4");
        fd = open (path, O_WRONLY | O_TRUNC);
        assert_int_equal (write (fd, "{\"pool-size\": -2}", 17), 17);
        close (fd);
        assert_int_equal (vgpu_kopts_load (&o, path, &err), -EINVAL);
        assert_non_null (strstr (err.msg, "\"pool-size\" must be a string, a number or a boolean"));
        unlink (path);
        assert_int_equal (vgpu_kopts_load (&o, path, &err), -ENOENT);
}

/* --- dynamic mode over a made-up host --- */

static vgpu_type_t
gvt (const char *id, unsigned avail, unsigned active, unsigned w, unsigned h)
{
        vgpu_type_t t = { .available = avail, .active = active, .has_description = true };

        strcpy (t.id, id);
        t.gvt = (vgpu_gvt_desc_t) { .valid = true, .res_w = w, .res_h = h, .fence = 4 };
        return t;
}

static vgpu_type_t types_a[3], types_b[3];
static vgpu_parent_t parents[2];

static vgpu_host_t
two_gpus (unsigned v54_avail_a, bool with_b)
{
        types_a[0] = gvt ("i915-GVTg_V5_1", 1, 0, 1920, 1200);
        types_a[1] = gvt ("i915-GVTg_V5_4", v54_avail_a, 0, 1920, 1200);
        types_a[2] = gvt ("i915-GVTg_V5_8", 7, 0, 1024, 768);
        types_b[0] = gvt ("i915-GVTg_V5_1", 1, 0, 1920, 1200);
        types_b[1] = gvt ("i915-GVTg_V5_4", 6, 1, 1920, 1200);
        types_b[2] = gvt ("i915-GVTg_V5_8", 8, 0, 1024, 768);
        parents[0] = (vgpu_parent_t) { .name = "0000:00:02.0", .types = types_a, .n_types = 3 };
        parents[1] = (vgpu_parent_t) { .name = "0000:03:00.0", .types = types_b, .n_types = 3 };
        return (vgpu_host_t) { .parents = parents, .n_parents = with_b ? 2 : 1 };
}

static size_t
count_health (const vgpu_kdevs_t *l, const char *prefix, bool healthy)
{
        size_t n = 0;

        for (size_t i = 0; i < l->n; i++)
                n += strncmp (l->v[i].id, prefix, strlen (prefix)) == 0 && l->v[i].healthy == healthy;
        return n;
}

static void
dynamic_devices (void **state)
{
        vgpu_kcdi_name_t spec_names[] = { { "i915-GVTg_V5_4", "" } };
        vgpu_kcdi_t cdi = { spec_names, 1 };
        vgpu_kdynamic_t d = { 0 };
        vgpu_kdevs_t l = { 0 }, m = { 0 };
        vgpu_error_t err = { 0 };
        vgpu_host_t host = two_gpus (5, true);
        vgpu_kopts_t o;

        (void) state;
        n_logged = 0;
        vgpu_kopts_init (&o, &err);
        assert_int_equal (vgpu_kdynamic_scan (&d, &o, &host, &cdi, &keep, &l, &err), 0);
        assert_int_equal (l.n, 12); /* 5 + (6 available + 1 active) */
        assert_string_equal (l.v[0].id, "0000:00:02.0-0");
        assert_string_equal (l.v[11].id, "0000:03:00.0-6");
        assert_string_equal (l.v[11].type, "i915-GVTg_V5_4");
        assert_true (l.v[0].cdi);
        assert_int_equal (lines_with ("offering type i915-GVTg_V5_4"), 2);
        /* the budget shrinks (another type took it), then the second GPU goes */
        host = two_gpus (2, false);
        assert_int_equal (vgpu_kdynamic_scan (&d, &o, &host, &cdi, &keep, &m, &err), 0);
        assert_int_equal (m.n, 12);
        assert_int_equal (count_health (&m, "0000:00:02.0", true), 2);
        assert_int_equal (count_health (&m, "0000:00:02.0", false), 3);
        assert_string_equal (m.v[4].why, "GPU 0000:00:02.0 holds 2 of i915-GVTg_V5_4 now (other types use its budget)");
        assert_int_equal (count_health (&m, "0000:03:00.0", false), 7);
        assert_string_equal (m.v[11].why, "GPU 0000:03:00.0 is gone");
        assert_false (vgpu_kdevs_same (&l, &m));
        n_logged = 0;
        vgpu_kdevs_log_changes (&l, &m, &keep);
        assert_int_equal (n_logged, 10);
        assert_int_equal (lines_with ("device 0000:03:00.0-0: Unhealthy: GPU 0000:03:00.0 is gone"), 1);
        vgpu_kdevs_free (&l);
        vgpu_kdevs_free (&m);
        vgpu_kdynamic_done (&d);
}

static void
dynamic_type_missing (void **state)
{
        vgpu_kcdi_t cdi = { 0 };
        vgpu_kdynamic_t d = { 0 };
        vgpu_kdevs_t l = { 0 };
        vgpu_error_t err = { 0 };
        vgpu_host_t host = two_gpus (5, false);
        vgpu_kopts_t o;

        (void) state;
        n_logged = 0;
        vgpu_kopts_init (&o, &err);
        vgpu_kopts_set (&o, "type", "i915-GVTg_V5_2", &err);
        for (int i = 0; i < 3; i++) {
                assert_int_equal (vgpu_kdynamic_scan (&d, &o, &host, &cdi, &keep, &l, &err), 0);
                assert_int_equal (l.n, 0);
                vgpu_kdevs_free (&l);
        }
        assert_int_equal (n_logged, 1); /* once, not every scan */
        assert_string_equal (logged[0], "GPU 0000:00:02.0: not offered: it has no type i915-GVTg_V5_2");
        vgpu_kdynamic_done (&d);
}

/* --- answers --- */

static vgpu_kdevs_t
devs_on (const char *const *ids, const char *const *gpus, size_t n)
{
        vgpu_kdevs_t l = { 0 };

        for (size_t i = 0; i < n; i++) {
                vgpu_kdev_t d = { .healthy = true, .cdi = true };

                strcpy (d.id, ids[i]);
                strcpy (d.parent, gpus[i]);
                strcpy (d.type, "i915-GVTg_V5_4");
                vgpu_kdevs_push (&l, &d);
        }
        return l;
}

static void
prefer_spreads (void **state)
{
        const char *ids[] = { "a0", "a1", "a2", "a3", "b0", "b1", "c0" };
        const char *gpus[] = { "A", "A", "A", "A", "B", "B", "C" };
        vgpu_kdevs_t l = devs_on (ids, gpus, 7);
        const char *got[7], *must[] = { "a2" };
        vgpu_error_t err = { 0 };
        size_t n;

        (void) state;
        assert_int_equal (vgpu_kanswer_prefer (&l, ids, 7, NULL, 0, 3, got, &n, &err), 0);
        assert_int_equal (n, 3); /* one per GPU, the fullest first */
        assert_string_equal (got[0], "a0");
        assert_string_equal (got[1], "b0");
        assert_string_equal (got[2], "c0");
        assert_int_equal (vgpu_kanswer_prefer (&l, ids, 7, must, 1, 4, got, &n, &err), 0);
        assert_int_equal (n, 4);
        assert_string_equal (got[0], "a2");
        assert_string_equal (got[1], "b0");
        assert_string_equal (got[2], "c0");
        assert_string_equal (got[3], "a0");
        assert_int_equal (vgpu_kanswer_prefer (&l, ids, 2, NULL, 0, 5, got, &n, &err), 0);
        assert_int_equal (n, 2); /* fewer available than asked */
        vgpu_kdevs_free (&l);
}

static void
allocate_dynamic (void **state)
{
        const char *ids[] = { "g-0", "g-1" };
        const char *gpus[] = { "g", "g" };
        vgpu_kdevs_t l = devs_on (ids, gpus, 2);
        vgpu_kanswer_t *a = calloc (1, sizeof *a);
        const char *unknown[] = { "g-9" };
        vgpu_error_t err = { 0 };
        vgpu_kopts_t o;

        (void) state;
        vgpu_kopts_init (&o, &err);
        assert_int_equal (vgpu_kanswer_allocate (&o, &l, ids, 1, a, &err), 0);
        assert_int_equal (a->n_cdi, 1);
        assert_string_equal (a->cdi[0], "intel.com/vgpu=i915-GVTg_V5_4");
        assert_int_equal (a->n_devices + a->n_env, 0);
        assert_int_equal (vgpu_kanswer_allocate (&o, &l, ids, 2, a, &err), -EINVAL);
        assert_int_equal (vgpu_kanswer_allocate (&o, &l, unknown, 1, a, &err), -EINVAL);
        assert_string_equal (err.msg, "device \"g-9\" is not one intel.com/vgpu offers");
        l.v[1].healthy = false;
        strcpy (l.v[1].why, "GPU g is gone");
        assert_int_equal (vgpu_kanswer_allocate (&o, &l, ids + 1, 1, a, &err), -ENODEV);
        assert_string_equal (err.msg, "device g-1 is Unhealthy: GPU g is gone");
        l.v[0].cdi = false;
        vgpu_kopts_set (&o, "cdi-kind", "example.com/gpu", &err);
        assert_int_equal (vgpu_kanswer_allocate (&o, &l, ids, 1, a, &err), -ENOENT);
        assert_non_null (strstr (err.msg, "no CDI spec in /var/run/cdi names example.com/gpu=i915-GVTg_V5_4"));
        free (a);
        vgpu_kdevs_free (&l);
}

static void
pool_owners (void **state)
{
        vgpu_owner_t owner;
        char long_res[200];

        (void) state;
        assert_int_equal (vgpu_kpool_owner ("intel.com/vgpu", 3, &owner), 0);
        assert_string_equal (owner.id, "vgpu-device-plugin.intel.com_vgpu.3");
        assert_int_equal (owner.kind, VGPU_OWNER_VGPUCTL);
        assert_true (vgpu_owner_valid (owner.id));
        snprintf (long_res, sizeof long_res, "%0120d.example/vgpu", 0);
        assert_int_equal (vgpu_kpool_owner (long_res, 0, &owner), -ENAMETOOLONG);
}

/* --- the messages, as the kubelet unpacks and packs them --- */

static void
wire_list (void **state)
{
        const char *ids[] = { "0000:00:02.0-0", "0000:00:02.0-1" };
        const char *gpus[] = { "0000:00:02.0", "0000:00:02.0" };
        vgpu_kdevs_t l = devs_on (ids, gpus, 2);
        V1beta1__ListAndWatchResponse *m;
        uint8_t *buf = NULL;
        size_t len = 0;

        (void) state;
        l.v[1].healthy = false;
        assert_int_equal (vgpu_wire_list (&l, &buf, &len), 0);
        m = v1beta1__list_and_watch_response__unpack (NULL, len, buf);
        assert_non_null (m);
        assert_int_equal (m->n_devices, 2);
        assert_string_equal (m->devices[0]->id, "0000:00:02.0-0");
        assert_string_equal (m->devices[0]->health, "Healthy");
        assert_string_equal (m->devices[1]->health, "Unhealthy");
        v1beta1__list_and_watch_response__free_unpacked (m, NULL);
        free (buf);
        vgpu_kdevs_free (&l);
}

static void
wire_allocate (void **state)
{
        char *ids0[] = { "u0", "u1" };
        V1beta1__ContainerAllocateRequest c = V1BETA1__CONTAINER_ALLOCATE_REQUEST__INIT, *cp[1] = { &c };
        V1beta1__AllocateRequest req = V1BETA1__ALLOCATE_REQUEST__INIT;
        V1beta1__AllocateResponse *resp;
        vgpu_kanswer_t *a = calloc (1, sizeof *a);
        const vgpu_kanswer_t *ap[1] = { a };
        vgpu_error_t err = { 0 };
        vgpu_kreq_t r = { 0 };
        uint8_t buf[256], *out = NULL;
        size_t len, out_len = 0;

        (void) state;
        c.n_devices_ids = 2;
        c.devices_ids = ids0;
        req.n_container_requests = 1;
        req.container_requests = cp;
        len = v1beta1__allocate_request__pack (&req, buf);
        assert_int_equal (vgpu_wire_allocate_request (buf, len, &r, &err), 0);
        assert_int_equal (r.n, 1);
        assert_int_equal (r.c[0].n_ids, 2);
        assert_string_equal (r.c[0].ids[1], "u1");
        vgpu_kreq_free (&r);
        assert_int_equal (vgpu_wire_allocate_request ((const uint8_t *) "\xff\xff", 2, &r, &err), -EINVAL);

        strcpy (a->devices[0].container_path, "/dev/vfio/7");
        strcpy (a->devices[0].host_path, "/dev/vfio/7");
        a->n_devices = 1;
        strcpy (a->env[0], "VGPU_MDEV_UUID=u0");
        a->n_env = 1;
        strcpy (a->cdi[0], "intel.com/vgpu=u0");
        a->n_cdi = 1;
        assert_int_equal (vgpu_wire_allocate_response (ap, 1, &out, &out_len), 0);
        resp = v1beta1__allocate_response__unpack (NULL, out_len, out);
        assert_non_null (resp);
        assert_int_equal (resp->n_container_responses, 1);
        assert_string_equal (resp->container_responses[0]->devices[0]->host_path, "/dev/vfio/7");
        assert_string_equal (resp->container_responses[0]->devices[0]->permissions, "rw");
        assert_string_equal (resp->container_responses[0]->envs[0]->key, "VGPU_MDEV_UUID");
        assert_string_equal (resp->container_responses[0]->envs[0]->value, "u0");
        assert_string_equal (resp->container_responses[0]->cdi_devices[0]->name, "intel.com/vgpu=u0");
        v1beta1__allocate_response__free_unpacked (resp, NULL);
        free (out);
        free (a);
}

static void
wire_register (void **state)
{
        V1beta1__RegisterRequest *m;
        uint8_t *buf = NULL;
        size_t len = 0;

        (void) state;
        assert_int_equal (vgpu_wire_register ("vgpu-toolkit-intel-com-vgpu.sock", "intel.com/vgpu", &buf, &len), 0);
        m = v1beta1__register_request__unpack (NULL, len, buf);
        assert_non_null (m);
        assert_string_equal (m->version, "v1beta1");
        assert_string_equal (m->endpoint, "vgpu-toolkit-intel-com-vgpu.sock");
        assert_string_equal (m->resource_name, "intel.com/vgpu");
        assert_true (m->options->get_preferred_allocation_available);
        assert_false (m->options->pre_start_required);
        v1beta1__register_request__free_unpacked (m, NULL);
        free (buf);
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (resource_names),    cmocka_unit_test (cdi_names),
                cmocka_unit_test (socket_name),       cmocka_unit_test (settings),
                cmocka_unit_test (settings_together), cmocka_unit_test (config_file),
                cmocka_unit_test (dynamic_devices),   cmocka_unit_test (dynamic_type_missing),
                cmocka_unit_test (prefer_spreads),    cmocka_unit_test (allocate_dynamic),
                cmocka_unit_test (pool_owners),       cmocka_unit_test (wire_list),
                cmocka_unit_test (wire_allocate),     cmocka_unit_test (wire_register),
        };

        return cmocka_run_group_tests (tests, NULL, NULL);
}
