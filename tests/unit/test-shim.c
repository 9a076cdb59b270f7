/* test-shim.c — vgpu-runtime's pure parts: what it reads of runc's command
 * line (the words dockerd's containerd-shim-runc-v2 and ctr pass, as logged
 * on this machine kind), the --log line containerd decodes, its config file,
 * the hooks it adds to config.json, and the registration edits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "json.h"
#include "runc-cli.h"
#include "shim-config.h"
#include "shim-edit.h"
#include "testutil.h"
#include "util.h"

/* A literal and its length. */
#define L(s) s, sizeof s - 1

#define ID "e808d31150260ab40fe89361c1e23bb60e5599ffbbaf201bbdae6045b53ff856"
#define TASK "/run/containerd/io.containerd.runtime.v2.task/moby/" ID

static void
write_file (const char *dir, const char *name, const char *text, mode_t mode)
{
        _cleanup_close_ int fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

        assert_int_equal (vgpu_write_file_atomic (fd, name, text, strlen (text), mode), 0);
}

static void
parse (char *const *argv, vgpu_runc_cmdline_t *c)
{
        int argc = 0;

        while (argv[argc])
                argc++;
        vgpu_runc_cmdline_parse (argc, argv, c);
}

static void
test_cmdline_docker (void **state)
{
        char *const create[] = { "--root",
                                 "/var/run/docker/runtime-runc/moby",
                                 "--log",
                                 TASK "/log.json",
                                 "--log-format",
                                 "json",
                                 "create",
                                 "--bundle",
                                 TASK,
                                 "--pid-file",
                                 TASK "/init.pid",
                                 ID,
                                 NULL };
        char *const start[] = { "--root", "/r", "--log", TASK "/log.json", "--log-format", "json", "start", ID, NULL };
        vgpu_runc_cmdline_t c;

        (void) state;
        parse (create, &c);
        assert_string_equal (c.command, "create");
        assert_true (vgpu_runc_cmdline_creates (&c));
        assert_string_equal (c.id, ID);
        assert_string_equal (c.bundle, TASK);
        assert_string_equal (c.log, TASK "/log.json");
        assert_true (c.log_json);
        assert_null (c.config);
        assert_false (c.version);
        parse (start, &c);
        assert_string_equal (c.command, "start");
        assert_false (vgpu_runc_cmdline_creates (&c));
        assert_null (c.id);
}

static void
test_cmdline_forms (void **state)
{
        char *const eq[] = { "-log=/l", "--log-format=text", "--systemd-cgroup", "run", "-b=/b", "-d", "x1", NULL };
        char *const after[] = { "create", "x2", "--bundle", "/b2", "--console-socket", "/s", NULL };
        char *const dashdash[] = { "run", "--pid-file", "/p", "--", "x3", NULL };
        char *const crun[] = { "--cgroup-manager", "cgroupfs", "--log-level", "debug", "create", "-f",
                               "c.json",           "x4",       NULL };
        char *const version[] = { "--version", NULL };
        char *const none[] = { "--root", NULL };
        vgpu_runc_cmdline_t c;

        (void) state;
        parse (eq, &c);
        assert_string_equal (c.command, "run");
        assert_string_equal (c.log, "/l");
        assert_false (c.log_json);
        assert_string_equal (c.bundle, "/b");
        assert_string_equal (c.id, "x1");
        parse (after, &c); /* urfave/cli lets flags follow the id */
        assert_string_equal (c.id, "x2");
        assert_string_equal (c.bundle, "/b2");
        parse (dashdash, &c);
        assert_string_equal (c.id, "x3");
        assert_null (c.bundle);
        parse (crun, &c); /* values of crun's own options are not the command */
        assert_string_equal (c.command, "create");
        assert_string_equal (c.config, "c.json");
        assert_string_equal (c.id, "x4");
        parse (version, &c);
        assert_true (c.version);
        assert_null (c.command);
        parse (none, &c); /* a value missing at the end: nothing, no crash */
        assert_null (c.command);
}

static void
test_log_line (void **state)
{
        vgpu_runc_cmdline_t json = { .log_json = true }, text = { .log_json = false };
        _cleanup_free_ char *j = vgpu_runc_log_line (&json, "error", "vgpu-runtime: type \"x\"\nbad");
        _cleanup_free_ char *t = vgpu_runc_log_line (&text, "warning", "vgpu-runtime: type \"x\"\nbad");
        _cleanup_json_ json_object *o = NULL;
        const char *when;

        (void) state;
        assert_non_null (j);
        assert_non_null (t);
        assert_int_equal (j[strlen (j) - 1], '\n');
        assert_ptr_equal (strchr (j, '\n'), j + strlen (j) - 1); /* one line */
        assert_int_equal (vgpu_json_parse (j, strlen (j) - 1, "log line", &o, NULL), 0);
        assert_string_equal (vgpu_json_str (o, "level"), "error");
        assert_string_equal (vgpu_json_str (o, "msg"), "vgpu-runtime: type \"x\"\nbad");
        /* RFC 3339 in UTC with nanoseconds: what Go's time.Time decodes */
        when = vgpu_json_str (o, "time");
        assert_int_equal (strlen (when), strlen ("2026-12-01T02:33:28.123456789Z"));
        assert_int_equal (when[10], 'T');
        assert_int_equal (when[19], '.');
        assert_int_equal (when[29], 'Z');
        assert_non_null (strstr (t, " level=warning msg=\"vgpu-runtime: type \\\"x\\\"\\nbad\"\n"));
        assert_int_equal (strncmp (t, "time=\"", 6), 0);
}

static void
test_config (void **state)
{
        vgpu_shim_config_t c = { .accept_env = true };
        vgpu_error_t err = { 0 };
        static const char good[] = "{\"runtime\": \"crun\", \"accept_env\": false, \"hook\": \"/opt/vgpu-hook\","
                                   " \"roots\": {\"sysfs\": \"/tmp/sys/\", \"state\": \"/tmp/st\"}}";
        static const struct {
                const char *text, *msg;
        } bad[] = {
                { "{\"accept-env\": false}", "config file F has an unknown key \"accept-env\"" },
                { "{\"accept_env\": \"no\"}", "config file F field \"accept_env\" must be" },
                { "{\"runtime\": \"bin/runc\"}",
                  "config file F field \"runtime\" \"bin/runc\" is not a program name or an absolute path" },
                { "{\"runtime\": \"..\"}", "config file F field \"runtime\" \"..\" is not a program name" },
                { "{\"hook\": \"vgpu-hook\"}", "config file F field \"hook\" \"vgpu-hook\" is not an absolute path" },
                { "{\"roots\": {\"sys\": \"/x\"}}", "config file F \"roots\" has an unknown key \"sys\"" },
                { "{\"roots\": {\"dev\": \"x\"}}", "config file F: dev root \"x\" is not an absolute path" },
                { "{\"runtime\": \"a\\u0000b\"}", "contains a NUL byte" },
                { "[]", "config file F is not a JSON object" },
                { "{", "config file F is not valid JSON" },
        };

        (void) state;
        assert_int_equal (vgpu_shim_config_parse (&c, good, strlen (good), "F", &err), 0);
        assert_string_equal (c.runtime, "crun");
        assert_false (c.accept_env);
        assert_string_equal (c.hook, "/opt/vgpu-hook");
        assert_string_equal (c.roots.sysfs, "/tmp/sys");
        assert_string_equal (c.roots.state, "/tmp/st");
        for (size_t i = 0; i < ARRAY_SIZE (bad); i++) {
                vgpu_shim_config_t before = c;

                vgpu_error_clear (&err);
                assert_int_equal (vgpu_shim_config_parse (&c, bad[i].text, strlen (bad[i].text), "F", &err), -EINVAL);
                if (!strstr (err.msg, bad[i].msg))
                        fail_msg ("%s: got \"%s\", wanted \"%s\"", bad[i].text, err.msg, bad[i].msg);
                assert_memory_equal (&c, &before, sizeof c); /* untouched on failure */
        }
}

static void
test_config_load (void **state)
{
        char dir[] = "/tmp/test-shim.XXXXXX", path[PATH_MAX];
        vgpu_shim_config_t c;
        vgpu_error_t err = { 0 };

        (void) state;
        assert_non_null (mkdtemp (dir));
        snprintf (path, sizeof path, "%s/missing.json", dir);
        assert_int_equal (vgpu_shim_config_load (&c, path, &err), -ENOENT); /* named: must exist */
        setenv ("VGPU_STATE_DIR", "/tmp/from-env", 1);
        snprintf (path, sizeof path, "%s/c.json", dir);
        write_file (dir, "c.json", "{\"roots\": {\"state\": \"/tmp/from-file\"}}", 0600);
        assert_int_equal (vgpu_shim_config_load (&c, path, &err), 0);
        assert_string_equal (c.roots.state, "/tmp/from-env"); /* the environment over the file */
        assert_string_equal (c.runtime, "runc");
        assert_true (c.accept_env);
        unsetenv ("VGPU_STATE_DIR");
        assert_int_equal (vgpu_shim_config_load (&c, path, &err), 0);
        assert_string_equal (c.roots.state, "/tmp/from-file");
        test_rm_tree (dir);
}

static void
test_runtime_resolve (void **state)
{
        char path[PATH_MAX], self[PATH_MAX];
        vgpu_error_t err = { 0 };

        (void) state;
        assert_int_equal (vgpu_shim_runtime_resolve ("sh", path, &err), 0);
        assert_true (strcmp (path, "/usr/bin/sh") == 0 || strcmp (path, "/bin/sh") == 0);
        assert_int_equal (vgpu_shim_runtime_resolve ("/bin/sh", path, &err), 0);
        assert_string_equal (path, "/bin/sh");
        assert_int_equal (vgpu_shim_runtime_resolve ("no-such-runtime-here", path, &err), -ENOENT);
        assert_int_equal (vgpu_shim_runtime_resolve ("/etc/passwd", path, &err), -EACCES);
        assert_int_equal (vgpu_shim_runtime_resolve ("/etc", path, &err), -EACCES);
        assert_non_null (realpath ("/proc/self/exe", self));
        assert_int_equal (vgpu_shim_runtime_resolve (self, path, &err), -ELOOP);
        assert_non_null (strstr (err.msg, "is vgpu-runtime itself"));
}

static void
test_add_hooks (void **state)
{
        vgpu_shim_config_t c = { .hook = "/usr/bin/vgpu-hook" };
        _cleanup_json_ json_object *config = NULL, *bad = NULL;
        static const char text[] = "{\"hooks\": {\"createRuntime\": [{\"path\": \"/other\"}]}}";
        vgpu_error_t err = { 0 };

        (void) state;
        vgpu_roots_set (&c.roots, "sysfs", "/sys", NULL);
        vgpu_roots_set (&c.roots, "dev", "/dev", NULL);
        vgpu_roots_set (&c.roots, "state", "/tmp/state", NULL);
        assert_int_equal (vgpu_json_parse (text, strlen (text), "config", &config, NULL), 0);
        assert_int_equal (vgpu_shim_add_hooks (config, &c, &err), 0);
        assert_string_equal (
                json_object_to_json_string_ext (json_object_object_get (config, "hooks"),
                                                JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                "{\"createRuntime\":[{\"path\":\"/other\"},{\"path\":\"/usr/bin/vgpu-hook\",\"args\":[\"vgpu-hook\","
                "\"--state-dir\",\"/tmp/state\",\"createRuntime\"],\"timeout\":30}],\"poststop\":[{\"path\":\"/usr/"
                "bin/vgpu-hook\",\"args\":[\"vgpu-hook\",\"--state-dir\",\"/tmp/"
                "state\",\"poststop\"],\"timeout\":30}]}");
        /* the shim's accept_env reaches the hooks, which refuse env requests otherwise */
        c.accept_env = true;
        json_object_put (config);
        assert_int_equal (vgpu_json_parse (L ("{}"), "config", &config, NULL), 0);
        assert_int_equal (vgpu_shim_add_hooks (config, &c, &err), 0);
        assert_string_equal (
                json_object_to_json_string_ext (json_object_object_get (config, "hooks"),
                                                JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                "{\"createRuntime\":[{\"path\":\"/usr/bin/vgpu-hook\",\"args\":[\"vgpu-hook\",\"--state-dir\","
                "\"/tmp/state\",\"--accept-env\",\"createRuntime\"],\"timeout\":30}],\"poststop\":[{\"path\":"
                "\"/usr/bin/vgpu-hook\",\"args\":[\"vgpu-hook\",\"--state-dir\",\"/tmp/state\",\"--accept-env\","
                "\"poststop\"],\"timeout\":30}]}");
        assert_int_equal (vgpu_json_parse (L ("{\"hooks\": {\"poststop\": {}}}"), "config", &bad, NULL), 0);
        assert_int_equal (vgpu_shim_add_hooks (bad, &c, &err), -EINVAL);
        assert_string_equal (err.msg, "config.json hooks.poststop is not a JSON array");
        assert_null (json_object_object_get (json_object_object_get (bad, "hooks"), "createRuntime"));
}

static void
test_docker_edit (void **state)
{
        static const char old[] = "{\"storage-driver\": \"vfs\", \"runtimes\": {\"other\": {\"path\": \"/o\","
                                  " \"runtimeArgs\": [\"-x\"]}}, \"default-shm-size\": 1.50, \"labels\": [\"a=b\"]}";
        _cleanup_free_ char *out = NULL, *again = NULL;
        _cleanup_json_ json_object *o = NULL;
        vgpu_error_t err = { 0 };

        (void) state;
        assert_int_equal (vgpu_engine_docker_edit (old, strlen (old), "F", "vgpu", "/usr/bin/vgpu-runtime", &out, &err),
                          0);
        assert_int_equal (vgpu_json_parse (out, strlen (out), "out", &o, NULL), 0);
        assert_string_equal (
                json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                "{\"storage-driver\":\"vfs\",\"runtimes\":{\"other\":{\"path\":\"/o\",\"runtimeArgs\":"
                "[\"-x\"]},\"vgpu\":{\"path\":\"/usr/bin/vgpu-runtime\"}},\"default-shm-size\":1.50,"
                "\"labels\":[\"a=b\"]}");
        /* idempotent: a second run gives the same text */
        assert_int_equal (
                vgpu_engine_docker_edit (out, strlen (out), "F", "vgpu", "/usr/bin/vgpu-runtime", &again, &err), 0);
        assert_string_equal (out, again);
        assert_int_equal (vgpu_engine_docker_edit (L ("{\"runtimes\": []}"), "F", "vgpu", "/x", &again, &err), -EINVAL);
        assert_string_equal (err.msg, "F field \"runtimes\" must be an object");
        assert_int_equal (vgpu_engine_docker_edit (L ("[1]"), "F", "vgpu", "/x", &again, &err), -EINVAL);
}

static void
test_docker_configure (void **state)
{
        char dir[] = "/tmp/test-shim.XXXXXX", file[PATH_MAX], bak[PATH_MAX];
        _cleanup_free_ char *text = NULL, *old = NULL, *dry = NULL;
        vgpu_error_t err = { 0 };
        struct stat st;
        bool backup;

        (void) state;
        assert_non_null (mkdtemp (dir));
        snprintf (file, sizeof file, "%s/daemon.json", dir);
        snprintf (bak, sizeof bak, "%s/daemon.json.bak", dir);
        /* no file yet: made 0644, no backup */
        assert_int_equal (vgpu_engine_docker_configure (file, "vgpu", "/s", false, &text, &backup, &err), 0);
        assert_false (backup);
        assert_int_equal (stat (file, &st), 0);
        assert_int_equal (st.st_mode & 0777, 0644);
        assert_int_equal (access (bak, F_OK), -1);
        free (TAKE_PTR (text));
        /* an old file: kept as .bak with its mode; --dry-run writes nothing */
        write_file (dir, "daemon.json", "{\"debug\": true}", 0600);
        assert_int_equal (vgpu_engine_docker_configure (file, "vgpu", "/s", true, &dry, &backup, &err), 0);
        assert_false (backup);
        assert_int_equal (access (bak, F_OK), -1);
        assert_int_equal (vgpu_engine_docker_configure (file, "vgpu", "/s", false, &text, &backup, &err), 0);
        assert_true (backup);
        assert_string_equal (text, dry);
        assert_int_equal (vgpu_read_file_at (AT_FDCWD, bak, 1024, &old, NULL), 0);
        assert_string_equal (old, "{\"debug\": true}");
        assert_int_equal (stat (file, &st), 0);
        assert_int_equal (st.st_mode & 0777, 0600);
        free (TAKE_PTR (text));
        assert_int_equal (vgpu_engine_docker_configure ("daemon.json", "vgpu", "/s", false, &text, &backup, &err),
                          -EINVAL);
        test_rm_tree (dir);
}

static void
test_containerd_snippet (void **state)
{
        _cleanup_free_ char *s = NULL;

        (void) state;
        assert_int_equal (vgpu_engine_containerd_snippet ("vgpu", "/usr/bin/vgpu-runtime", &s, NULL), 0);
        assert_non_null (strstr (s, "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.vgpu]\n"
                                    "  runtime_type = \"io.containerd.runc.v2\"\n"
                                    "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.vgpu.options]\n"
                                    "  BinaryName = \"/usr/bin/vgpu-runtime\"\n"));
        assert_non_null (strstr (s, "kind: RuntimeClass\nmetadata:\n  name: vgpu\nhandler: vgpu\n"));
        assert_true (vgpu_engine_name_valid ("vgpu"));
        assert_true (vgpu_engine_name_valid ("vgpu-2"));
        assert_false (vgpu_engine_name_valid ("VGPU"));
        assert_false (vgpu_engine_name_valid ("v.gpu"));
        assert_false (vgpu_engine_name_valid ("-vgpu"));
        assert_false (vgpu_engine_name_valid (""));
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (test_cmdline_docker),   cmocka_unit_test (test_cmdline_forms),
                cmocka_unit_test (test_log_line),         cmocka_unit_test (test_config),
                cmocka_unit_test (test_config_load),      cmocka_unit_test (test_runtime_resolve),
                cmocka_unit_test (test_add_hooks),        cmocka_unit_test (test_docker_edit),
                cmocka_unit_test (test_docker_configure), cmocka_unit_test (test_containerd_snippet),
        };

        return cmocka_run_group_tests (tests, NULL, NULL);
}
