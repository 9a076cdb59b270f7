/* test-oci.c — OCI state, config.json, the vGPU request and the precreate edit.
 *
 * The states and the podman config.json are what runc 1.1.5, crun 1.8.1 and
 * podman 4.3.1 handed a dumping hook on this machine kind (podman's seccomp
 * list shortened); the rest are the malformed inputs a container could send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "oci.h"
#include "request.h"
#include "util.h"

/* A literal and its length, for inputs that may hold a NUL. */
#define L(s) s, sizeof s - 1

#define PODMAN_ID "1b87bb83e8b168acaa59d8cb4cfea422193a15f5a31a9f8c46da1bfee198a21f"

static const char runc_prestart[] =
        "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"vgpu-oci-probe-runc\",\"status\":\"creating\",\"pid\":1590,"
        "\"bundle\":\"/tmp/ocipod/bundle\",\"annotations\":{\"intel.com/vgpu\":\"i915-GVTg_V5_4\","
        "\"intel.com/vgpu.parent\":\"0000:00:02.0\"}}";
static const char runc_poststop[] =
        "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"vgpu-oci-probe-runc\",\"status\":\"stopped\","
        "\"bundle\":\"/tmp/ocipod/bundle\",\"annotations\":{\"intel.com/vgpu\":\"i915-GVTg_V5_4\","
        "\"intel.com/vgpu.parent\":\"0000:00:02.0\"}}";
static const char crun_create_runtime[] =
        "{\"ociVersion\":\"1.0\",\"id\":\"vgpu-oci-probe-crun\",\"pid\":1607,\"root\":\"rootfs\","
        "\"bundle\":\"/tmp/ocipod/bundle\",\"status\":\"created\",\"annotations\":{\"intel.com/vgpu\":"
        "\"i915-GVTg_V5_4\",\"intel.com/vgpu.parent\":\"0000:00:02.0\"}}";
static const char crun_poststop[] =
        "{\"ociVersion\":\"1.0\",\"id\":\"vgpu-oci-probe-crun\",\"pid\":0,\"root\":\"rootfs\","
        "\"bundle\":\"/tmp/ocipod/bundle\",\"status\":\"stopped\",\"annotations\":{\"intel.com/vgpu\":"
        "\"i915-GVTg_V5_4\",\"intel.com/vgpu.parent\":\"0000:00:02.0\"}}";
static const char podman_prestart[] =
        "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"" PODMAN_ID "\",\"status\":\"creating\",\"pid\":858,"
        "\"bundle\":\"/var/lib/containers/storage/overlay-containers/" PODMAN_ID "/userdata\","
        "\"annotations\":{\"intel.com/vgpu\":\"auto\",\"intel.com/vgpu.min-resolution\":\"1920x1200\","
        "\"io.container.manager\":\"libpod\",\"io.kubernetes.cri-o.Created\":\"2026-11-25T11:48:56.858105944Z\","
        "\"io.kubernetes.cri-o.TTY\":\"false\",\"io.podman.annotations.autoremove\":\"TRUE\","
        "\"io.podman.annotations.init\":\"FALSE\",\"io.podman.annotations.privileged\":\"FALSE\","
        "\"io.podman.annotations.publish-all\":\"FALSE\",\"org.opencontainers.image.stopSignal\":\"15\"}}";

/* podman 4.3.1's precreate stdin (compact, as podman writes it). */
static const char podman_config[] =
        "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{\"uid\":0,\"gid\":0,\"umask\":18},\"args\":[\"/bin"
        "/true\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"TE"
        "RM=xterm\",\"INTEL_VGPU=i915-GVTg_V5_4\",\"HOSTNAME=1b87bb83e8b1\"],\"cwd\":\"/\",\"capabilities"
        "\":{\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSET"
        "ID\",\"CAP_KILL\",\"CAP_MKNOD\",\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\",\"CAP_SETFCAP\",\"CAP_SET"
        "GID\",\"CAP_SETPCAP\",\"CAP_SETUID\",\"CAP_SYS_CHROOT\"],\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_"
        "CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_KILL\",\"CAP_MKNOD\",\"CAP_NET_BI"
        "ND_SERVICE\",\"CAP_NET_RAW\",\"CAP_SETFCAP\",\"CAP_SETGID\",\"CAP_SETPCAP\",\"CAP_SETUID\",\"CAP_S"
        "YS_CHROOT\"],\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FOWNER\""
        ",\"CAP_FSETID\",\"CAP_KILL\",\"CAP_MKNOD\",\"CAP_NET_BIND_SERVICE\",\"CAP_NET_RAW\",\"CAP_SETFCAP"
        "\",\"CAP_SETGID\",\"CAP_SETPCAP\",\"CAP_SETUID\",\"CAP_SYS_CHROOT\"]},\"rlimits\":[{\"type\":\"RLIMI"
        "T_NOFILE\",\"hard\":20000,\"soft\":20000},{\"type\":\"RLIMIT_NPROC\",\"hard\":32768,\"soft\":32768}"
        "]},\"root\":{\"path\":\"/var/lib/containers/storage/overlay/4f3e9c1d2b7a/merged\"},\"hostname"
        "\":\"1b87bb83e8b1\",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\",\"optio"
        "ns\":[\"nosuid\",\"noexec\",\"nodev\"]},{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\""
        ",\"options\":[\"nosuid\",\"noexec\",\"strictatime\",\"mode=755\",\"size=65536k\"]},{\"destination\":"
        "\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},{\"d"
        "estination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\","
        "\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},{\"destination\":\"/dev/mqueue\",\"type"
        "\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},{\"destination\":\"/e"
        "tc/hosts\",\"type\":\"bind\",\"source\":\"/run/containers/storage/overlay-containers/1b87bb83e"
        "8b168acaa59d8cb4cfea422193a15f5a31a9f8c46da1bfee198a21f/userdata/hosts\",\"options\":[\"bi"
        "nd\",\"rprivate\"]},{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"/var/lib/containers"
        "/storage/overlay-containers/1b87bb83e8b168acaa59d8cb4cfea422193a15f5a31a9f8c46da1bfee1"
        "98a21f/userdata/shm\",\"options\":[\"bind\",\"rprivate\",\"nosuid\",\"noexec\",\"nodev\"]},{\"destin"
        "ation\":\"/run/.containerenv\",\"type\":\"bind\",\"source\":\"/run/containers/storage/overlay-co"
        "ntainers/1b87bb83e8b168acaa59d8cb4cfea422193a15f5a31a9f8c46da1bfee198a21f/userdata/.co"
        "ntainerenv\",\"options\":[\"bind\",\"rprivate\"]},{\"destination\":\"/etc/hostname\",\"type\":\"bind"
        "\",\"source\":\"/run/containers/storage/overlay-containers/1b87bb83e8b168acaa59d8cb4cfea42"
        "2193a15f5a31a9f8c46da1bfee198a21f/userdata/hostname\",\"options\":[\"bind\",\"rprivate\"]},{\""
        "destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":[\"rprivate\","
        "\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],\"hooks\":{\"createRuntime\":[{\"path\":\"/usr/l"
        "ibexec/vgpu-toolkit/vgpu-hook\",\"args\":[\"vgpu-hook\",\"createRuntime\"]}],\"poststop\":[{\"pa"
        "th\":\"/usr/libexec/vgpu-toolkit/vgpu-hook\",\"args\":[\"vgpu-hook\",\"poststop\"]}]},\"annotati"
        "ons\":{\"intel.com/vgpu\":\"auto\",\"intel.com/vgpu.min-resolution\":\"1920x1200\",\"io.containe"
        "r.manager\":\"libpod\",\"io.kubernetes.cri-o.Created\":\"2026-11-25T11:48:56.858105944Z\",\"io"
        ".kubernetes.cri-o.TTY\":\"false\",\"io.podman.annotations.autoremove\":\"TRUE\",\"io.podman.an"
        "notations.init\":\"FALSE\",\"io.podman.annotations.privileged\":\"FALSE\",\"io.podman.annotati"
        "ons.publish-all\":\"FALSE\",\"org.opencontainers.image.stopSignal\":\"15\"},\"linux\":{\"resourc"
        "es\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],\"pids\":{\"limit\":2048}},\"cgroupsPath\":\""
        "/libpod_parent/libpod-1b87bb83e8b168acaa59d8cb4cfea422193a15f5a31a9f8c46da1bfee198a21f"
        "\",\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type"
        "\":\"mount\"}],\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"architec"
        "tures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":[{\"names\":[\"bdf"
        "lush\",\"io_pgetevents\",\"kexec_file_load\",\"kexec_load\",\"migrate_pages\",\"move_pages\",\"nfs"
        "servctl\",\"nice\",\"oldfstat\",\"oldlstat\",\"oldolduname\",\"oldstat\",\"olduname\",\"pciconfig_io"
        "base\",\"pciconfig_read\",\"pciconfig_write\",\"sgetmask\",\"ssetmask\",\"swapcontext\",\"swapoff\""
        ",\"swapon\",\"sysfs\",\"uselib\",\"userfaultfd\",\"ustat\",\"vm86\",\"vm86old\",\"vmsplice\"],\"action\""
        ":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},{\"names\":[\"_llseek\",\"_newselect\",\"accept\",\"accept4\",\"a"
        "ccess\",\"adjtimex\"],\"action\":\"SCMP_ACT_ALLOW\"}]},\"maskedPaths\":[\"/proc/acpi\",\"/proc/kco"
        "re\",\"/proc/keys\",\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/s"
        "ched_debug\",\"/proc/scsi\",\"/sys/firmware\",\"/sys/fs/selinux\",\"/sys/dev/block\"],\"readonly"
        "Paths\":[\"/proc/asound\",\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-tri"
        "gger\"]}}";

static void
state_ok (const char *text, vgpu_oci_state_t *s)
{
        vgpu_error_t err = { 0 };
        int r = vgpu_oci_state_parse (text, strlen (text), s, &err);

        if (r < 0)
                fail_msg ("%s", err.msg);
}

/* Parse must fail with code and a message containing want; ret untouched. */
static void
state_fails (const char *text, size_t len, int code, const char *want)
{
        vgpu_oci_state_t s;
        vgpu_error_t err = { 0 };

        memset (&s, 0x5a, sizeof s);
        assert_int_equal (vgpu_oci_state_parse (text, len, &s, &err), -code);
        if (!strstr (err.msg, want))
                fail_msg ("message \"%s\" lacks \"%s\"", err.msg, want);
        assert_int_equal ((unsigned char) s.id[0], 0x5a);
}

static json_object *
config_of (const char *text)
{
        vgpu_error_t err = { 0 };
        json_object *config = NULL;

        if (vgpu_oci_config_parse (text, strlen (text), &config, &err) < 0)
                fail_msg ("%s", err.msg);
        return config;
}

static void
test_state_runc (void **unused)
{
        vgpu_oci_state_t s;

        state_ok (runc_prestart, &s);
        assert_string_equal (s.id, "vgpu-oci-probe-runc");
        assert_string_equal (s.status, "creating");
        assert_int_equal (s.pid, 1590);
        assert_string_equal (s.bundle, "/tmp/ocipod/bundle");
        assert_non_null (s.annotations);
        assert_string_equal (vgpu_json_str (s.annotations, "intel.com/vgpu"), "i915-GVTg_V5_4");
        vgpu_oci_state_done (&s);
        assert_null (s.annotations);

        state_ok (runc_poststop, &s);
        assert_string_equal (s.status, "stopped");
        assert_int_equal (s.pid, 0);
        vgpu_oci_state_done (&s);
}

static void
test_state_crun (void **unused)
{
        vgpu_oci_state_t s;

        state_ok (crun_create_runtime, &s);
        assert_string_equal (s.id, "vgpu-oci-probe-crun");
        assert_string_equal (s.status, "created");
        assert_int_equal (s.pid, 1607);
        vgpu_oci_state_done (&s);
        state_ok (crun_poststop, &s);
        assert_int_equal (s.pid, 0);
        assert_string_equal (s.status, "stopped");
        vgpu_oci_state_done (&s);
}

static void
test_state_podman (void **unused)
{
        vgpu_oci_state_t s;
        vgpu_request_t req;
        vgpu_error_t err = { 0 };

        state_ok (podman_prestart, &s);
        assert_string_equal (s.id, PODMAN_ID);
        assert_string_equal (s.bundle, "/var/lib/containers/storage/overlay-containers/" PODMAN_ID "/userdata");
        assert_int_equal (vgpu_request_parse (s.annotations, NULL, NULL, NULL, &req, &err), 0);
        assert_true (req.wanted);
        assert_string_equal (req.type, "auto");
        assert_string_equal (req.source, "annotation");
        assert_int_equal (req.min_w, 1920);
        assert_int_equal (req.min_h, 1200);
        vgpu_oci_state_done (&s);

        state_ok ("{\"id\":\"minimal\"}", &s);
        assert_string_equal (s.status, "");
        assert_string_equal (s.bundle, "");
        assert_null (s.annotations);
        vgpu_oci_state_done (&s);
}

static void
test_state_bad_json (void **unused)
{
        static const char truncated[] = "{\"id\":\"a\",\"pid\":";
        static const char garbage[] = "{\"id\":\"a\",\"pid\":12x}";

        state_fails (truncated, strlen (truncated), EINVAL, "unexpected end at byte 16");
        state_fails (garbage, strlen (garbage), EINVAL, "OCI state is not valid JSON at byte 18");
        state_fails (L ("{\"id\":\"a\"} {}"), EINVAL, "OCI state is not valid JSON at byte 11");
        state_fails (L ("[1]"), EINVAL, "OCI state is not a JSON object");
        state_fails (L ("{\"id\":\"a\"}\0"), EINVAL, "NUL byte at offset 10");
}

static void
test_state_bad_fields (void **unused)
{
        static const char nul_id[] = "{\"id\":\"ok\\u0000../x\"}";
        char long_id[300];

        state_fails (L ("{\"id\":\"a\",\"pid\":\"1590\"}"), EINVAL, "OCI state field \"pid\" must be an integer");
        state_fails (L ("{\"id\":\"a\",\"pid\":-1}"), ERANGE, "OCI state field \"pid\" -1 is out of range");
        state_fails (L ("{\"id\":\"a\",\"pid\":99999999999}"), ERANGE, "99999999999 is out of range");
        state_fails (L ("{\"id\":\"a\",\"pid\":1.5}"), EINVAL, "\"pid\" must be an integer");
        state_fails (L ("{\"pid\":1}"), EINVAL, "OCI state lacks field \"id\"");
        state_fails (L ("{\"id\":7}"), EINVAL, "OCI state field \"id\" must be a string");
        state_fails (L ("{\"id\":\"../../etc/x\"}"), EINVAL,
                     "OCI state field \"id\" \"../../etc/x\" is not a valid container id");
        state_fails (nul_id, strlen (nul_id), EINVAL, "OCI state field \"id\" \"ok\\x00../x\" contains a NUL byte");
        state_fails (L ("{\"id\":\"\"}"), EINVAL, "\"id\" \"\" is not a valid container id");
        state_fails (L ("{\"id\":\"-a\"}"), EINVAL, "is not a valid container id");
        snprintf (long_id, sizeof long_id, "{\"id\":\"%0129d\"}", 0);
        state_fails (long_id, strlen (long_id), EINVAL, "...\" is not a valid container id");
        state_fails (L ("{\"id\":\"a\",\"annotations\":[]}"), EINVAL,
                     "OCI state field \"annotations\" must be an object");
        state_fails (L ("{\"id\":\"a\",\"annotations\":\"x\"}"), EINVAL, "\"annotations\" must be an object");
        state_fails (L ("{\"id\":\"a\",\"bundle\":\"rel/dir\"}"), EINVAL,
                     "OCI state field \"bundle\" \"rel/dir\" is not an absolute path");
        state_fails (L ("{\"id\":\"a\",\"bundle\":\"/b/../etc\"}"), EINVAL, "has a \"..\" component");
        state_fails (L ("{\"id\":\"a\",\"status\":\"Running!\"}"), EINVAL, "\"Running!\" is not a container status");
}

static void
test_state_id_limits (void **unused)
{
        char text[300], id[VGPU_CONTAINER_ID_MAX + 2];
        vgpu_oci_state_t s;

        memset (id, 'a', VGPU_CONTAINER_ID_MAX);
        id[VGPU_CONTAINER_ID_MAX] = '\0';
        assert_true (vgpu_container_id_valid (id));
        snprintf (text, sizeof text, "{\"id\":\"%s\"}", id);
        state_ok (text, &s);
        assert_string_equal (s.id, id);
        vgpu_oci_state_done (&s);
        strcat (id, "a");
        assert_false (vgpu_container_id_valid (id));
        assert_true (vgpu_container_id_valid ("A.b_c-9"));
        assert_false (vgpu_container_id_valid (".."));
        assert_false (vgpu_container_id_valid ("a/b"));
        assert_false (vgpu_container_id_valid (""));
        assert_false (vgpu_container_id_valid (NULL));
}

static void
test_state_size_and_depth (void **unused)
{
        size_t big = VGPU_JSON_MAX_BYTES + 1, n = 0;
        _cleanup_free_ char *text = malloc (big);
        _cleanup_free_ char *long_bundle = NULL;
        char deep[512];

        assert_non_null (text);
        memset (text, ' ', big);
        memcpy (text, "{\"id\":\"a\"}", 10);
        state_fails (text, big, EFBIG, "OCI state is larger than 4194304 bytes");

        long_bundle = malloc (PATH_MAX + 64);
        assert_non_null (long_bundle);
        n = (size_t) snprintf (long_bundle, 32, "{\"id\":\"a\",\"bundle\":\"");
        for (int i = 0; i < PATH_MAX / 2; i++, n += 2)
                memcpy (long_bundle + n, "/b", 2);
        memcpy (long_bundle + n, "\"}", 3);
        state_fails (long_bundle, n + 2, ENAMETOOLONG, "OCI state field \"bundle\" \"/b/b/b/b");

        n = 0;
        n += (size_t) snprintf (deep, sizeof deep, "{\"id\":\"a\",\"x\":");
        for (int i = 0; i < 100; i++)
                deep[n++] = '[';
        for (int i = 0; i < 100; i++)
                deep[n++] = ']';
        deep[n++] = '}';
        deep[n] = '\0';
        state_fails (deep, n, EINVAL, "OCI state is not valid JSON at byte 77: nesting too deep");
}

static void
request_ok (json_object *annotations, json_object *config, const char *arg_type, const char *arg_parent,
            vgpu_request_t *req)
{
        vgpu_error_t err = { 0 };

        if (vgpu_request_parse (annotations, config, arg_type, arg_parent, req, &err) < 0)
                fail_msg ("%s", err.msg);
}

static void
request_fails (const char *annotations, const char *want)
{
        _cleanup_json_ json_object *a = json_tokener_parse (annotations);
        vgpu_request_t req = { .wanted = true, .source = "untouched" };
        vgpu_error_t err = { 0 };

        assert_non_null (a);
        assert_int_equal (vgpu_request_parse (a, NULL, NULL, NULL, &req, &err), -EINVAL);
        if (strcmp (err.msg, want) != 0)
                fail_msg ("message \"%s\" is not \"%s\"", err.msg, want);
        assert_string_equal (req.source, "untouched");
}

static void
test_request_precedence (void **unused)
{
        _cleanup_json_ json_object *config = config_of (podman_config);
        _cleanup_json_ json_object *a = json_tokener_parse (
                "{\"intel.com/vgpu\":\"i915-GVTg_V5_8\",\"intel.com/vgpu.parent\":\"0000:00:02.0\"}");
        vgpu_request_t req;

        /* env only: the podman config has INTEL_VGPU=i915-GVTg_V5_4 and no vgpu type annotation */
        json_object_object_del (json_object_object_get (config, "annotations"), "intel.com/vgpu");
        request_ok (NULL, config, NULL, NULL, &req);
        assert_true (req.wanted);
        assert_string_equal (req.type, "i915-GVTg_V5_4");
        assert_string_equal (req.source, "env");
        assert_int_equal (req.min_w, 1920); /* its min-resolution annotation still counts */

        request_ok (a, config, NULL, NULL, &req);
        assert_string_equal (req.type, "i915-GVTg_V5_8");
        assert_string_equal (req.source, "annotation");
        assert_string_equal (req.parent, "0000:00:02.0");
        assert_int_equal (req.min_w, 0);

        request_ok (a, config, "i915-GVTg_V5_1", NULL, &req);
        assert_string_equal (req.type, "i915-GVTg_V5_1");
        assert_string_equal (req.source, "argument");
        assert_string_equal (req.parent, "0000:00:02.0");

        request_ok (a, config, "auto", "mtty", &req);
        assert_string_equal (req.type, "auto");
        assert_string_equal (req.parent, "mtty");
}

static void
test_request_env (void **unused)
{
        _cleanup_json_ json_object *last =
                config_of ("{\"process\":{\"env\":[\"INTEL_VGPU=mtty-1\",\"PATH=/bin\",\"INTEL_VGPU=auto\"]}}");
        _cleanup_json_ json_object *empty = config_of ("{\"process\":{\"env\":[\"INTEL_VGPU=auto\",\"INTEL_VGPU=\"]}}");
        _cleanup_json_ json_object *other = config_of ("{\"process\":{\"env\":[\"INTEL_VGPUX=auto\"]}}");
        _cleanup_json_ json_object *bad = config_of ("{\"process\":{\"env\":[\"A=1\",7]}}");
        _cleanup_json_ json_object *bad_value = config_of ("{\"process\":{\"env\":[\"INTEL_VGPU=../../x\"]}}");
        vgpu_request_t req;
        vgpu_error_t err = { 0 };

        request_ok (NULL, last, NULL, NULL, &req);
        assert_string_equal (req.type, "auto");
        assert_string_equal (req.source, "env");
        request_ok (NULL, empty, NULL, NULL, &req);
        assert_false (req.wanted);
        request_ok (NULL, other, NULL, NULL, &req);
        assert_false (req.wanted);
        assert_int_equal (vgpu_request_parse (NULL, bad, NULL, NULL, &req, &err), -EINVAL);
        assert_string_equal (err.msg, "config.json process.env[1] must be a string");
        assert_int_equal (vgpu_request_parse (NULL, bad_value, NULL, NULL, &req, &err), -EINVAL);
        assert_string_equal (err.msg, "env INTEL_VGPU \"../../x\" is not a vGPU type id or \"auto\"");
        /* an argument wins without the env being read */
        request_ok (NULL, bad, "mtty-2", NULL, &req);
        assert_string_equal (req.type, "mtty-2");
}

static void
test_request_none (void **unused)
{
        _cleanup_json_ json_object *a = json_tokener_parse ("{\"io.podman.annotations.init\":\"FALSE\"}");
        _cleanup_json_ json_object *config = config_of ("{\"process\":{\"args\":[\"sh\"]}}");
        vgpu_request_t req;

        request_ok (NULL, NULL, NULL, NULL, &req);
        assert_false (req.wanted);
        request_ok (a, config, NULL, NULL, &req);
        assert_false (req.wanted);
        assert_string_equal (req.type, "");
}

static void
test_request_bad_values (void **unused)
{
        char long_value[400], want[400];
        vgpu_request_t req;
        vgpu_error_t err = { 0 };
        _cleanup_json_ json_object *not_object = json_object_new_array ();

        request_fails ("{\"intel.com/vgpu\":7}", "annotation intel.com/vgpu must be a string");
        request_fails ("{\"intel.com/vgpu\":null}", "annotation intel.com/vgpu must be a string");
        request_fails ("{\"intel.com/vgpu\":{\"a\":1}}", "annotation intel.com/vgpu must be a string");
        request_fails ("{\"intel.com/vgpu\":\"../i915\"}",
                       "annotation intel.com/vgpu \"../i915\" is not a vGPU type id or \"auto\"");
        request_fails ("{\"intel.com/vgpu\":\"..\"}",
                       "annotation intel.com/vgpu \"..\" is not a vGPU type id or \"auto\"");
        request_fails ("{\"intel.com/vgpu\":\"\"}", "annotation intel.com/vgpu \"\" is not a vGPU type id or \"auto\"");
        request_fails ("{\"intel.com/vgpu\":\"a\\u0000b\"}",
                       "annotation intel.com/vgpu \"a\\x00b\" contains a NUL byte");
        request_fails ("{\"intel.com/vgpu\":\"a\\u0001\\\"b\"}",
                       "annotation intel.com/vgpu \"a\\x01\\\"b\" is not a vGPU type id or \"auto\"");
        request_fails ("{\"intel.com/vgpu\":\"auto\",\"intel.com/vgpu.parent\":\"../../sys\"}",
                       "annotation intel.com/vgpu.parent \"../../sys\" is not a PCI address or device name");
        request_fails ("{\"intel.com/vgpu\":\"auto\",\"intel.com/vgpu.parent\":true}",
                       "annotation intel.com/vgpu.parent must be a string");
        request_fails ("{\"intel.com/vgpu\":\"auto\",\"intel.com/vgpu.min-resolution\":\"19x\"}",
                       "annotation intel.com/vgpu.min-resolution \"19x\" is not WIDTHxHEIGHT with each 1 to 16384");
        request_fails ("{\"intel.com/vgpu\":\"auto\",\"intel.com/vgpu.min-resolution\":1920}",
                       "annotation intel.com/vgpu.min-resolution must be a string");

        memcpy (long_value, "{\"intel.com/vgpu\":\"", 19);
        memset (long_value + 19, 'a', 200);
        strcpy (long_value + 219, "\"}");
        snprintf (want, sizeof want, "annotation intel.com/vgpu \"%.64s...\" is not a vGPU type id or \"auto\"",
                  long_value + 19);
        request_fails (long_value, want);

        assert_int_equal (vgpu_request_parse (not_object, NULL, NULL, NULL, &req, &err), -EINVAL);
        assert_string_equal (err.msg, "annotations are not a JSON object");
        assert_int_equal (vgpu_request_parse (NULL, NULL, "a/b", NULL, &req, &err), -EINVAL);
        assert_string_equal (err.msg, "hook argument type \"a/b\" is not a vGPU type id or \"auto\"");
        assert_int_equal (vgpu_request_parse (NULL, NULL, "auto", "auto ", &req, &err), -EINVAL);
        assert_string_equal (err.msg, "hook argument parent \"auto \" is not a PCI address or device name");
}

static void
test_resolution (void **unused)
{
        static const char *const bad[] = { "0x0",
                                           "1920x",
                                           "x1080",
                                           "1920x1200x3",
                                           "99999x1",
                                           "1x16385",
                                           "0x1",
                                           "1920X1200",
                                           " 1x1",
                                           "1x1 ",
                                           "+1x1",
                                           "",
                                           "-1x-1",
                                           "19x",
                                           "x",
                                           "1x0",
                                           "999999999999999999999x1" };
        unsigned w = 7, h = 7;

        for (size_t i = 0; i < ARRAY_SIZE (bad); i++) {
                if (vgpu_parse_resolution (bad[i], &w, &h) != -EINVAL)
                        fail_msg ("\"%s\" was accepted", bad[i]);
                assert_int_equal (w, 7);
        }
        assert_int_equal (vgpu_parse_resolution (NULL, &w, &h), -EINVAL);
        assert_int_equal (vgpu_parse_resolution ("1920x1200", &w, &h), 0);
        assert_int_equal (w, 1920);
        assert_int_equal (h, 1200);
        assert_int_equal (vgpu_parse_resolution ("16384x1", &w, &h), 0);
        assert_int_equal (vgpu_parse_resolution ("1x16384", &w, &h), 0);
        assert_int_equal (h, 16384);
}

static void
test_container_id (void **unused)
{
        static const struct {
                const char *path, *id;
        } cases[] = {
                { "/libpod_parent/libpod-" PODMAN_ID, PODMAN_ID },
                { "machine.slice:libpod:" PODMAN_ID, PODMAN_ID },
                { "user.slice:libpod:abc", "abc" },
                { "/kubepods/besteffort/pod0b5e1c3a-27a4-4d3c-9f55-5c0b3c3b1f3e/crio-" PODMAN_ID, PODMAN_ID },
                { "kubepods-besteffort-pod0b5e1c3a_27a4.slice:crio:" PODMAN_ID, PODMAN_ID },
                { "system.slice:docker:" PODMAN_ID, PODMAN_ID },
                { "kubepods-burstable.slice:cri-containerd:c0ffee", "c0ffee" },
                { "/docker/" PODMAN_ID, PODMAN_ID },
                { "/kubepods/burstable/pod1/c0ffee", "c0ffee" },
                { "/machine.slice/libpod-c0ffee.scope", "c0ffee" },
                { "/mycontainer/", "mycontainer" },
                { "plain-id", "plain-id" },
                { "/libpod_parent/libpod-", "libpod-" },
        };
        static const char *const bad[] = {
                "", "/", "/a/..", "a:b", "a:b:c:d", "slice:prefix:", "/x/crio-../y/..", "/a/b c", "s:p:../../etc"
        };
        char id[VGPU_CONTAINER_ID_MAX + 1], text[512];
        vgpu_error_t err = { 0 };

        for (size_t i = 0; i < ARRAY_SIZE (cases); i++) {
                _cleanup_json_ json_object *config = NULL;

                snprintf (text, sizeof text, "{\"linux\":{\"cgroupsPath\":\"%s\"}}", cases[i].path);
                config = config_of (text);
                if (vgpu_oci_config_container_id (config, id, sizeof id, &err) < 0)
                        fail_msg ("%s: %s", cases[i].path, err.msg);
                assert_string_equal (id, cases[i].id);
        }
        for (size_t i = 0; i < ARRAY_SIZE (bad); i++) {
                _cleanup_json_ json_object *config = NULL;

                snprintf (text, sizeof text, "{\"linux\":{\"cgroupsPath\":\"%s\"}}", bad[i]);
                config = config_of (text);
                if (vgpu_oci_config_container_id (config, id, sizeof id, &err) != -EINVAL)
                        fail_msg ("\"%s\" was accepted", bad[i]);
                assert_non_null (strstr (err.msg, "does not end in a container id"));
        }
}

static void
test_container_id_missing (void **unused)
{
        _cleanup_json_ json_object *none = config_of ("{\"linux\":{}}");
        _cleanup_json_ json_object *no_linux = config_of ("{}");
        _cleanup_json_ json_object *number = config_of ("{\"linux\":{\"cgroupsPath\":5}}");
        _cleanup_json_ json_object *podman = config_of (podman_config);
        char id[VGPU_CONTAINER_ID_MAX + 1], small[8];
        vgpu_error_t err = { 0 };

        assert_int_equal (vgpu_oci_config_container_id (none, id, sizeof id, &err), -ENOENT);
        assert_string_equal (err.msg, "config.json has no linux.cgroupsPath to take the container id from");
        assert_int_equal (vgpu_oci_config_container_id (no_linux, id, sizeof id, &err), -ENOENT);
        assert_int_equal (vgpu_oci_config_container_id (number, id, sizeof id, &err), -EINVAL);
        assert_string_equal (err.msg, "config.json linux field \"cgroupsPath\" must be a string");
        assert_int_equal (vgpu_oci_config_container_id (podman, id, sizeof id, &err), 0);
        assert_string_equal (id, PODMAN_ID);
        assert_int_equal (vgpu_oci_config_container_id (podman, small, sizeof small, &err), -ENOBUFS);
}

static void
test_rootfs (void **unused)
{
        _cleanup_json_ json_object *rel = config_of ("{\"root\":{\"path\":\"rootfs\",\"readonly\":true}}");
        _cleanup_json_ json_object *abs = config_of (podman_config);
        _cleanup_json_ json_object *messy = config_of ("{\"root\":{\"path\":\"./a//b/./c/\"}}");
        _cleanup_json_ json_object *up = config_of ("{\"root\":{\"path\":\"../../etc\"}}");
        _cleanup_json_ json_object *up_abs = config_of ("{\"root\":{\"path\":\"/var/lib/x/../../../etc\"}}");
        _cleanup_json_ json_object *dots = config_of ("{\"root\":{\"path\":\"..rootfs/...\"}}");
        _cleanup_json_ json_object *none = config_of ("{\"root\":{}}");
        _cleanup_json_ json_object *no_root = config_of ("{}");
        char path[PATH_MAX], tiny[16];
        vgpu_error_t err = { 0 };

        assert_int_equal (vgpu_oci_config_rootfs (rel, "/tmp/ocipod/bundle", path, sizeof path, &err), 0);
        assert_string_equal (path, "/tmp/ocipod/bundle/rootfs");
        assert_int_equal (vgpu_oci_config_rootfs (rel, "/run/b//", path, sizeof path, &err), 0);
        assert_string_equal (path, "/run/b/rootfs");
        assert_int_equal (vgpu_oci_config_rootfs (abs, "/ignored", path, sizeof path, &err), 0);
        assert_string_equal (path, "/var/lib/containers/storage/overlay/4f3e9c1d2b7a/merged");
        assert_int_equal (vgpu_oci_config_rootfs (messy, "/b", path, sizeof path, &err), 0);
        assert_string_equal (path, "/b/a/b/c");
        assert_int_equal (vgpu_oci_config_rootfs (dots, "/b", path, sizeof path, &err), 0);
        assert_string_equal (path, "/b/..rootfs/...");

        assert_int_equal (vgpu_oci_config_rootfs (up, "/b", path, sizeof path, &err), -EINVAL);
        assert_string_equal (err.msg, "config.json root.path \"../../etc\" has a \"..\" component");
        assert_int_equal (vgpu_oci_config_rootfs (up_abs, "/b", path, sizeof path, &err), -EINVAL);
        assert_int_equal (vgpu_oci_config_rootfs (rel, "bundle", path, sizeof path, &err), -EINVAL);
        assert_string_equal (err.msg, "bundle \"bundle\" is not an absolute path");
        assert_int_equal (vgpu_oci_config_rootfs (rel, NULL, path, sizeof path, &err), -EINVAL);
        assert_int_equal (vgpu_oci_config_rootfs (rel, "/a/../b", path, sizeof path, &err), -EINVAL);
        assert_int_equal (vgpu_oci_config_rootfs (none, "/b", path, sizeof path, &err), -EINVAL);
        assert_string_equal (err.msg, "config.json root lacks field \"path\"");
        assert_int_equal (vgpu_oci_config_rootfs (no_root, "/b", path, sizeof path, &err), -EINVAL);
        strcpy (tiny, "untouched");
        assert_int_equal (vgpu_oci_config_rootfs (rel, "/a/long/bundle/dir", tiny, sizeof tiny, &err), -ENAMETOOLONG);
        assert_string_equal (err.msg, "config.json root.path \"rootfs\" makes a path longer than 15 bytes");
        assert_string_equal (tiny, "untouched");
}

static void
test_config_load (void **unused)
{
        char dir[] = "/tmp/test-oci-XXXXXX", file[64];
        _cleanup_json_ json_object *config = NULL;
        _cleanup_free_ char *big = NULL;
        vgpu_error_t err = { 0 };
        int fd;

        assert_non_null (mkdtemp (dir));
        assert_int_equal (vgpu_oci_config_load (dir, &config, &err), -ENOENT);
        assert_non_null (strstr (err.msg, "read config.json in bundle /tmp/test-oci-"));
        snprintf (file, sizeof file, "%s/config.json", dir);
        fd = open (file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true (fd >= 0);
        assert_int_equal (write (fd, podman_config, strlen (podman_config)), (ssize_t) strlen (podman_config));
        close (fd);
        assert_int_equal (vgpu_oci_config_load (dir, &config, &err), 0);
        assert_string_equal (vgpu_oci_config_to_string (config), podman_config);

        big = malloc (VGPU_JSON_MAX_BYTES + 1);
        assert_non_null (big);
        memset (big, ' ', VGPU_JSON_MAX_BYTES + 1);
        fd = open (file, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_int_equal (write (fd, big, VGPU_JSON_MAX_BYTES + 1), VGPU_JSON_MAX_BYTES + 1);
        close (fd);
        assert_int_equal (vgpu_oci_config_load (dir, &config, &err), -EFBIG);
        assert_non_null (strstr (err.msg, "is larger than 4194304 bytes"));
        assert_int_equal (vgpu_oci_config_load ("relative", &config, &err), -EINVAL);
        unlink (file);
        rmdir (dir);
}

static vgpu_plan_t
sample_plan (void)
{
        vgpu_plan_t plan = { .n_nodes = 2, .n_env = 2 };

        plan.nodes[0] = (vgpu_node_t) { .path = "/dev/vfio/vfio", .major = 10, .minor = 196, .mode = 0666 };
        plan.nodes[1] = (vgpu_node_t) { .path = "/dev/vfio/12", .major = 246, .minor = 0, .mode = 0666 };
        strcpy (plan.env[0], "VGPU_MDEV_UUID=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
        strcpy (plan.env[1], "INTEL_VGPU=i915-GVTg_V5_4");
        return plan;
}

static void
assert_json (json_object *obj, const char *want)
{
        int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

        assert_string_equal (json_object_to_json_string_ext (obj, flags), want);
}

static void
test_apply_podman (void **unused)
{
        _cleanup_json_ json_object *config = config_of (podman_config);
        _cleanup_json_ json_object *orig = config_of (podman_config);
        vgpu_plan_t plan = sample_plan ();
        vgpu_error_t err = { 0 };
        json_object *linux_, *env;

        assert_string_equal (vgpu_oci_config_to_string (config), podman_config);
        assert_int_equal (vgpu_oci_config_apply (config, &plan, &err), 0);
        linux_ = json_object_object_get (config, "linux");
        assert_json (json_object_object_get (linux_, "devices"),
                     "[{\"path\":\"/dev/vfio/vfio\",\"type\":\"c\",\"major\":10,\"minor\":196,\"fileMode\":438,"
                     "\"uid\":0,\"gid\":0},{\"path\":\"/dev/vfio/12\",\"type\":\"c\",\"major\":246,\"minor\":0,"
                     "\"fileMode\":438,\"uid\":0,\"gid\":0}]");
        assert_json (json_object_object_get (linux_, "resources"),
                     "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":10,"
                     "\"minor\":196,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":246,\"minor\":0,"
                     "\"access\":\"rwm\"}],\"pids\":{\"limit\":2048}}");
        env = json_object_object_get (json_object_object_get (config, "process"), "env");
        assert_json (env, "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\"TERM=xterm\","
                          "\"INTEL_VGPU=i915-GVTg_V5_4\",\"HOSTNAME=1b87bb83e8b1\","
                          "\"VGPU_MDEV_UUID=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001\"]");

        /* Everything the edit does not own is byte-identical, in order. */
        json_object_object_foreach (orig, key, value)
        {
                json_object *now = json_object_object_get (config, key);

                if (strcmp (key, "linux") == 0 || strcmp (key, "process") == 0) {
                        json_object_object_foreach (value, k2, v2)
                        {
                                if (strcmp (k2, "env") && strcmp (k2, "resources"))
                                        assert_json (
                                                json_object_object_get (now, k2),
                                                json_object_to_json_string_ext (
                                                        v2, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                        }
                        continue;
                }
                assert_json (now, json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN |
                                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
        }
        assert_int_equal (json_object_object_length (config), json_object_object_length (orig));
        assert_non_null (strstr (vgpu_oci_config_to_string (config),
                                 "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"));
}

static void
test_apply_idempotent (void **unused)
{
        _cleanup_json_ json_object *config = config_of (podman_config);
        vgpu_plan_t plan = sample_plan ();
        vgpu_error_t err = { 0 };
        _cleanup_free_ char *once = NULL;

        assert_int_equal (vgpu_oci_config_apply (config, &plan, &err), 0);
        once = strdup (vgpu_oci_config_to_string (config));
        assert_int_equal (vgpu_oci_config_apply (config, &plan, &err), 0);
        assert_string_equal (vgpu_oci_config_to_string (config), once);
}

static void
test_apply_replaces (void **unused)
{
        _cleanup_json_ json_object *config =
                config_of ("{\"process\":{\"env\":[\"VGPU_MDEV_UUID=old\",\"A=1\",\"VGPU_MDEV_UUID=older\","
                           "\"VGPU_MDEV_UUIDX=k\"]},"
                           "\"linux\":{\"devices\":[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229},"
                           "{\"path\":\"/dev/vfio/12\",\"type\":\"c\",\"major\":1,\"minor\":3,\"fileMode\":8630},"
                           "{\"path\":\"/dev/vfio/12\",\"type\":\"b\",\"major\":8,\"minor\":0}],"
                           "\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":246,\"minor\":0,"
                           "\"access\":\"rwm\"},"
                           "{\"allow\":false,\"access\":\"rwm\"}]}}}");
        vgpu_plan_t plan = sample_plan ();
        vgpu_error_t err = { 0 };
        json_object *linux_ = json_object_object_get (config, "linux");

        plan.n_env = 1;
        assert_int_equal (vgpu_oci_config_apply (config, &plan, &err), 0);
        assert_json (json_object_object_get (json_object_object_get (config, "process"), "env"),
                     "[\"VGPU_MDEV_UUID=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001\",\"A=1\",\"VGPU_MDEV_UUIDX=k\"]");
        assert_json (json_object_object_get (linux_, "devices"),
                     "[{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229},"
                     "{\"path\":\"/dev/vfio/12\",\"type\":\"c\",\"major\":246,\"minor\":0,\"fileMode\":438,\"uid\":0,"
                     "\"gid\":0},{\"path\":\"/dev/vfio/vfio\",\"type\":\"c\",\"major\":10,\"minor\":196,"
                     "\"fileMode\":438,\"uid\":0,\"gid\":0}]");
        /* The allow rule for 246:0 sat before a deny-all: it moves after it. */
        assert_json (json_object_object_get (json_object_object_get (linux_, "resources"), "devices"),
                     "[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":10,"
                     "\"minor\":196,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":246,"
                     "\"minor\":0,\"access\":\"rwm\"}]");
}

static void
test_apply_creates (void **unused)
{
        _cleanup_json_ json_object *bare = config_of ("{\"ociVersion\":\"1.0.2\"}");
        _cleanup_json_ json_object *partial = config_of ("{\"linux\":{\"namespaces\":[]},\"process\":{\"cwd\":\"/\"}}");
        vgpu_plan_t plan = sample_plan ();
        vgpu_error_t err = { 0 };

        plan.n_nodes = 1;
        plan.n_env = 1;
        assert_int_equal (vgpu_oci_config_apply (bare, &plan, &err), 0);
        assert_string_equal (vgpu_oci_config_to_string (bare),
                             "{\"ociVersion\":\"1.0.2\",\"linux\":{\"devices\":[{\"path\":\"/dev/vfio/vfio\","
                             "\"type\":\"c\",\"major\":10,\"minor\":196,\"fileMode\":438,\"uid\":0,\"gid\":0}],"
                             "\"resources\":{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":196,"
                             "\"access\":\"rwm\"}]}},\"process\":{\"env\":[\"VGPU_MDEV_UUID=83b8f4f2-509f-382f-3c1e-"
                             "e6bfe0fa1001\"]}}");
        assert_int_equal (vgpu_oci_config_apply (partial, &plan, &err), 0);
        assert_non_null (strstr (vgpu_oci_config_to_string (partial),
                                 "{\"linux\":{\"namespaces\":[],\"devices\":[{\"path\":\"/dev/vfio/vfio\""));
        assert_non_null (strstr (vgpu_oci_config_to_string (partial), "\"process\":{\"cwd\":\"/\",\"env\":[\"VGPU_"));
}

static void
test_apply_refused (void **unused)
{
        static const struct {
                const char *config, *msg;
        } cases[] = {
                { "{\"linux\":{\"devices\":{}}}", "config.json linux field \"devices\" must be an array" },
                { "{\"linux\":[]}", "config.json linux is not a JSON object" },
                { "{\"linux\":{\"devices\":[{\"path\":\"/dev/x\"},\"/dev/y\"]}}",
                  "config.json linux.devices[1] is not a JSON object" },
                { "{\"linux\":{\"devices\":[{\"type\":\"c\"}]}}", "config.json linux.devices[0] lacks field \"path\"" },
                { "{\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"major\":\"1\"}]}}",
                  "config.json linux.devices[0] field \"major\" must be an integer" },
                { "{\"linux\":{\"resources\":{\"devices\":[{\"access\":\"rwm\"}]}}}",
                  "config.json linux.resources.devices[0] lacks field \"allow\"" },
                { "{\"linux\":{\"resources\":{\"devices\":[{\"allow\":\"yes\"}]}}}",
                  "config.json linux.resources.devices[0] field \"allow\" must be a boolean" },
                { "{\"linux\":{\"resources\":[]}}", "config.json linux field \"resources\" must be an object" },
                { "{\"process\":{\"env\":[\"A=1\",null]}}", "config.json process.env[1] must be a string" },
                { "{\"process\":{\"env\":\"A=1\"}}", "config.json process field \"env\" must be an array" },
                { "{\"process\":{\"env\":[\"A=\\u0000\"]}}",
                  "config.json process.env[0] \"A=\\x00\" contains a NUL byte" },
        };
        vgpu_plan_t plan = sample_plan ();

        for (size_t i = 0; i < ARRAY_SIZE (cases); i++) {
                _cleanup_json_ json_object *config = json_tokener_parse (cases[i].config);
                _cleanup_free_ char *before = NULL;
                vgpu_error_t err = { 0 };

                assert_non_null (config);
                before = strdup (vgpu_oci_config_to_string (config));
                assert_int_equal (vgpu_oci_config_apply (config, &plan, &err), -EINVAL);
                assert_string_equal (err.msg, cases[i].msg);
                assert_string_equal (vgpu_oci_config_to_string (config), before);
        }
}

static void
test_apply_bad_plan (void **unused)
{
        _cleanup_json_ json_object *config = config_of ("{}");
        vgpu_plan_t plan = sample_plan ();
        vgpu_error_t err = { 0 };

        strcpy (plan.env[1], "NOEQUALS");
        assert_int_equal (vgpu_oci_config_apply (config, &plan, &err), -EINVAL);
        assert_string_equal (err.msg, "plan env entry 1 is not NAME=value");
        plan = sample_plan ();
        plan.nodes[1].path[0] = 'd';
        assert_int_equal (vgpu_oci_config_apply (config, &plan, &err), -EINVAL);
        plan = sample_plan ();
        plan.n_nodes = VGPU_PLAN_MAX_NODES + 1;
        assert_int_equal (vgpu_oci_config_apply (config, &plan, &err), -EINVAL);
        assert_string_equal (vgpu_oci_config_to_string (config), "{}");
}

static void
test_config_parse (void **unused)
{
        json_object *config = NULL;
        vgpu_error_t err = { 0 };

        assert_int_equal (vgpu_oci_config_parse ("{\"root\":\"/\"}", 12, &config, &err), -EINVAL);
        assert_string_equal (err.msg, "config.json field \"root\" must be an object");
        assert_int_equal (vgpu_oci_config_parse ("{\"annotations\":[]}", 18, &config, &err), -EINVAL);
        assert_int_equal (vgpu_oci_config_parse ("{\"process\":", 11, &config, &err), -EINVAL);
        assert_string_equal (err.msg, "config.json is not valid JSON: unexpected end at byte 11");
        assert_null (config);
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (test_state_runc),
                cmocka_unit_test (test_state_crun),
                cmocka_unit_test (test_state_podman),
                cmocka_unit_test (test_state_bad_json),
                cmocka_unit_test (test_state_bad_fields),
                cmocka_unit_test (test_state_id_limits),
                cmocka_unit_test (test_state_size_and_depth),
                cmocka_unit_test (test_request_precedence),
                cmocka_unit_test (test_request_env),
                cmocka_unit_test (test_request_none),
                cmocka_unit_test (test_request_bad_values),
                cmocka_unit_test (test_resolution),
                cmocka_unit_test (test_container_id),
                cmocka_unit_test (test_container_id_missing),
                cmocka_unit_test (test_rootfs),
                cmocka_unit_test (test_config_load),
                cmocka_unit_test (test_config_parse),
                cmocka_unit_test (test_apply_podman),
                cmocka_unit_test (test_apply_idempotent),
                cmocka_unit_test (test_apply_replaces),
                cmocka_unit_test (test_apply_creates),
                cmocka_unit_test (test_apply_refused),
                cmocka_unit_test (test_apply_bad_plan),
        };

        return cmocka_run_group_tests (tests, NULL, NULL);
}
