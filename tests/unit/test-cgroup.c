/* test-cgroup.c — finding a container's device cgroup and allowing nodes.
 *
 * The /proc/PID/cgroup and mountinfo parsers are tested as pure functions;
 * the v1 writes against a fake cgroup root (regular files); and then for
 * real, as root: a holder child sits in a fresh v1 devices cgroup (or cgroup2
 * cgroup with a deny-all-but-/dev/null program), vgpu_cgroup_allow gets its
 * pid, and probe children that join the same cgroup open a node with a char
 * major that has no driver: EPERM while denied, ENXIO once allowed.  Cgroups,
 * holders and temp dirs go in teardown, also when a case fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "testutil.h"
#include "util.h"

#define V1_DEVICES "/sys/fs/cgroup/devices"

/* ---- parsers ------------------------------------------------------------ */

static void
test_parse_proc_hybrid (void **state)
{
        static const char text[] = "9:name=systemd:/\n8:pids:/\n5:devices:/user.slice/c1\n"
                                   "4:memory:/x\n0::/user.slice/c1\n";
        vgpu_cgroup_proc_t p;
        vgpu_error_t err = { 0 };

        (void) state;
        assert_int_equal (vgpu_cgroup_parse_proc (text, &p, &err), 0);
        assert_string_equal (p.devices, "/user.slice/c1");
        assert_string_equal (p.unified, "/user.slice/c1");
}

static void
test_parse_proc_v2_only_and_odd_lines (void **state)
{
        vgpu_cgroup_proc_t p;
        vgpu_error_t err = { 0 };

        (void) state;
        assert_int_equal (vgpu_cgroup_parse_proc ("0::/system.slice/docker-1.scope\n", &p, &err), 0);
        assert_string_equal (p.devices, "");
        assert_string_equal (p.unified, "/system.slice/docker-1.scope");
        /* no trailing newline; a colon inside the path; co-mounted controllers */
        assert_int_equal (vgpu_cgroup_parse_proc ("3:cpu,devices:/a/b\n\n0::/with:colon", &p, &err), 0);
        assert_string_equal (p.devices, "/a/b");
        assert_string_equal (p.unified, "/with:colon");
        /* "devicesx" is not the devices controller */
        assert_int_equal (vgpu_cgroup_parse_proc ("1:name=devicesx:/z\n", &p, &err), 0);
        assert_string_equal (p.devices, "");
}

static void
test_parse_proc_rejects (void **state)
{
        static const struct {
                const char *text, *says;
        } bad[] = {
                { "5:devices:/a/../b\n", "/a/../b" },   { "0::/a/./b\n", "/a/./b" },
                { "5:devices:relative\n", "relative" }, { "0::/a//b\n", "/a//b" },
                { "8:pids:/\ngarbage\n", "line 2" },
        };

        (void) state;
        for (size_t i = 0; i < ARRAY_SIZE (bad); i++) {
                vgpu_cgroup_proc_t p;
                vgpu_error_t err = { 0 };

                assert_int_equal (vgpu_cgroup_parse_proc (bad[i].text, &p, &err), -EINVAL);
                assert_non_null (strstr (err.msg, bad[i].says));
        }
}

static const char hybrid_mountinfo[] =
        "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime shared:9 master:3 - cgroup cgroup rw,devices\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static void
test_find_mount_hybrid (void **state)
{
        vgpu_cgroup_mount_t m;
        vgpu_error_t err = { 0 };

        (void) state;
        assert_int_equal (vgpu_cgroup_find_mount (hybrid_mountinfo, false, &m, &err), 0);
        assert_string_equal (m.point, "/sys/fs/cgroup/devices");
        assert_string_equal (m.root, "/");
        assert_int_equal (vgpu_cgroup_find_mount (hybrid_mountinfo, true, &m, &err), 0);
        assert_string_equal (m.point, "/sys/fs/cgroup/unified");
}

static void
test_find_mount_v2_only_escapes_and_roots (void **state)
{
        static const char v2only[] =
                "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        static const char several[] = "50 1 0:40 /kubepods /mnt/a rw - cgroup2 cgroup2 rw\n"
                                      "51 1 0:40 / /mnt/my\\040cgroup rw - cgroup2 cgroup2 rw\n"
                                      "52 1 0:41 / /mnt/v1 rw - cgroup cgroup rw,memory,devices\n";
        vgpu_cgroup_mount_t m;
        vgpu_error_t err = { 0 };

        (void) state;
        assert_int_equal (vgpu_cgroup_find_mount (v2only, true, &m, &err), 0);
        assert_string_equal (m.point, "/sys/fs/cgroup");
        assert_int_equal (vgpu_cgroup_find_mount (v2only, false, &m, &err), -ENOENT);
        assert_non_null (strstr (err.msg, "cgroup v1 devices"));
        /* the mount of the hierarchy's root wins; \040 is a space */
        assert_int_equal (vgpu_cgroup_find_mount (several, true, &m, &err), 0);
        assert_string_equal (m.point, "/mnt/my cgroup");
        assert_string_equal (m.root, "/");
        assert_int_equal (vgpu_cgroup_find_mount (several, false, &m, &err), 0);
        assert_string_equal (m.point, "/mnt/v1");
        assert_int_equal (vgpu_cgroup_find_mount ("", true, &m, &err), -ENOENT);
}

/* ---- fake v1 root ------------------------------------------------------- */

typedef struct fake {
        char root[64];
        char dir[PATH_MAX]; /* ROOT/devices/<our own v1 devices path> */
} fake_t;

static void
put (const char *dir, const char *name, const char *text)
{
        char p[PATH_MAX + 32];
        _cleanup_fclose_ FILE *f = NULL;

        snprintf (p, sizeof p, "%s/%s", dir, name);
        f = fopen (p, "we");
        assert_non_null (f);
        fputs (text, f);
}

static void
get (const char *dir, const char *name, char *buf, size_t size)
{
        char p[PATH_MAX + 32];

        snprintf (p, sizeof p, "%s/%s", dir, name);
        assert_true (vgpu_read_attr_at (AT_FDCWD, p, buf, size) >= 0);
}

static int
fake_setup (void **state)
{
        _cleanup_free_ char *text = NULL;
        vgpu_cgroup_proc_t proc;
        vgpu_error_t err = { 0 };
        char cmd[PATH_MAX + 64];
        fake_t *f;

        assert_int_equal (vgpu_read_file_at (AT_FDCWD, "/proc/self/cgroup", 1 << 20, &text, NULL), 0);
        assert_int_equal (vgpu_cgroup_parse_proc (text, &proc, &err), 0);
        if (!proc.devices[0]) {
                print_message ("skipped: this process has no v1 devices cgroup to mirror\n");
                skip ();
        }
        f = calloc (1, sizeof *f);
        assert_non_null (f);
        *state = f;
        strcpy (f->root, "/tmp/vgpu-test-cgroup.XXXXXX");
        assert_non_null (mkdtemp (f->root));
        assert_true (snprintf (f->dir, sizeof f->dir, "%s/devices%s", f->root,
                               strcmp (proc.devices, "/") ? proc.devices : "") < (int) sizeof f->dir);
        snprintf (cmd, sizeof cmd, "mkdir -p '%s'", f->dir);
        assert_int_equal (system (cmd), 0);
        put (f->dir, "devices.allow", "");
        put (f->dir, "devices.deny", "");
        return 0;
}

static int
fake_teardown (void **state)
{
        fake_t *f = *state;

        if (f && f->root[0])
                test_rm_tree (f->root);
        free (f);
        return 0;
}

static vgpu_node_t
node (unsigned maj, unsigned min)
{
        return (vgpu_node_t) { .path = "/dev/vfio/x", .major = maj, .minor = min, .mode = 0666 };
}

static void
test_fake_v1_writes_rules_and_undo_denies (void **state)
{
        fake_t *f = *state;
        vgpu_node_t nodes[] = { node (240, 0), node (240, 1), node (240, 0) };
        vgpu_cgroup_undo_t undo;
        vgpu_error_t err = { 0 };
        char buf[64];

        put (f->dir, "devices.list", "c 1:3 rwm\nc 240:0 rw\n"); /* 240:0 without m: not enough */
        if (vgpu_cgroup_allow (getpid (), f->root, nodes, 3, &undo, &err) < 0)
                fail_msg ("%s", err.msg);
        assert_int_equal (undo.kind, VGPU_CGROUP_V1);
        assert_string_equal (undo.path, f->dir);
        assert_int_equal (undo.n_allowed, 2); /* the duplicate is written once */
        assert_int_equal (undo.allowed[0][1], 0);
        assert_int_equal (undo.allowed[1][1], 1);
        get (f->dir, "devices.allow", buf, sizeof buf);
        assert_string_equal (buf, "c 240:1 rwm"); /* the last write */

        assert_int_equal (vgpu_cgroup_undo (&undo, &err), 0);
        get (f->dir, "devices.deny", buf, sizeof buf);
        assert_string_equal (buf, "c 240:0 rwm"); /* newest first: the last deny is the first rule */
        assert_int_equal (undo.kind, VGPU_CGROUP_NONE);
        assert_int_equal (undo.dir_fd, -1);
}

static void
test_fake_v1_granted_rules_are_not_written (void **state)
{
        fake_t *f = *state;
        vgpu_node_t nodes[] = { node (240, 0), node (240, 7) };
        vgpu_cgroup_undo_t undo;
        vgpu_error_t err = { 0 };
        char buf[64];

        put (f->dir, "devices.list", "c 240:0 rwm\nc 240:* rwm\n");
        assert_int_equal (vgpu_cgroup_allow (getpid (), f->root, nodes, 2, &undo, &err), 0);
        assert_int_equal (undo.n_allowed, 0);
        put (f->dir, "devices.list", "a *:* rwm\n");
        assert_int_equal (vgpu_cgroup_allow (getpid (), f->root, nodes, 2, &undo, &err), 0);
        assert_int_equal (undo.n_allowed, 0);
        get (f->dir, "devices.allow", buf, sizeof buf);
        assert_string_equal (buf, "");
        assert_int_equal (vgpu_cgroup_undo (&undo, &err), 0);
        get (f->dir, "devices.deny", buf, sizeof buf);
        assert_string_equal (buf, "");
}

static void
test_fake_v1_write_failure_names_cgroup (void **state)
{
        fake_t *f = *state;
        vgpu_node_t nodes[] = { node (240, 0) };
        vgpu_cgroup_undo_t undo;
        vgpu_error_t err = { 0 };
        char p[PATH_MAX + 32];

        snprintf (p, sizeof p, "%s/devices.allow", f->dir);
        assert_int_equal (unlink (p), 0);
        assert_int_equal (vgpu_cgroup_allow (getpid (), f->root, nodes, 1, &undo, &err), -ENOENT);
        assert_non_null (strstr (err.msg, "allowing c 240:0 rwm"));
        assert_non_null (strstr (err.msg, f->root));
        assert_int_equal (undo.kind, VGPU_CGROUP_NONE);
        assert_int_equal (undo.dir_fd, -1);
}

static void
test_bad_pid (void **state)
{
        vgpu_node_t nodes[] = { node (240, 0) };
        vgpu_cgroup_undo_t undo;
        vgpu_error_t err = { 0 };
        pid_t gone = fork ();

        (void) state;
        assert_int_equal (vgpu_cgroup_allow (0, NULL, nodes, 1, &undo, &err), -EINVAL);
        assert_true (gone >= 0);
        if (gone == 0)
                _exit (0);
        assert_int_equal (waitpid (gone, NULL, 0), gone);
        assert_int_equal (vgpu_cgroup_allow (gone, NULL, nodes, 1, &undo, &err), -ENOENT);
        assert_non_null (strstr (err.msg, "container pid"));
        assert_int_equal (vgpu_cgroup_undo (&undo, &err), 0);
}

/* ---- real cgroups ------------------------------------------------------- */

typedef struct real {
        char tmp[64];
        char cgroup[128];
        pid_t holder;
        unsigned major;
        int prog_fd;
} real_t;

static int
join (const char *cgroup)
{
        char procs[192], pid[32];
        int n = snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());

        snprintf (procs, sizeof procs, "%s/cgroup.procs", cgroup);
        return vgpu_write_attr_at (AT_FDCWD, procs, pid, (size_t) n);
}

static int real_teardown (void **state);

/* Holder child in a fresh cgroup under `parent`; a failure here would skip
 * teardown, so it cleans up by hand first. */
static int
real_setup (void **state, const char *parent)
{
        static const struct {
                const char *name;
                unsigned maj, min;
        } nodes[] = {
                { "null", 1, 3 },
                { "ours", 0, 0 },
                { "other", 0, 1 },
        };
        int ready[2] = { -1, -1 };
        real_t *f;
        char c;

        if (geteuid () != 0) {
                print_message ("skipped: needs root for real cgroups\n");
                skip ();
        }
        f = calloc (1, sizeof *f);
        assert_non_null (f);
        *state = f;
        f->prog_fd = -1;
        f->major = test_unused_major ();
        strcpy (f->tmp, "/tmp/vgpu-test-cgroup.XXXXXX");
        if (!mkdtemp (f->tmp) || pipe (ready) < 0)
                goto fail;
        for (size_t i = 0; i < ARRAY_SIZE (nodes); i++) {
                char p[128];

                snprintf (p, sizeof p, "%s/%s", f->tmp, nodes[i].name);
                if (mknod (p, S_IFCHR | 0666, makedev (nodes[i].maj ? nodes[i].maj : f->major, nodes[i].min)) < 0)
                        goto fail;
        }
        snprintf (f->cgroup, sizeof f->cgroup, "%s/vgpu-test-cgroup-%ld", parent, (long) getpid ());
        if (mkdir (f->cgroup, 0755) < 0) {
                f->cgroup[0] = '\0';
                goto fail;
        }
        f->holder = fork ();
        if (f->holder < 0)
                goto fail;
        if (f->holder == 0) {
                close (ready[0]);
                if (join (f->cgroup) < 0 || write (ready[1], "x", 1) != 1)
                        _exit (1);
                pause ();
                _exit (0);
        }
        close (ready[1]);
        ready[1] = -1;
        if (read (ready[0], &c, 1) != 1)
                goto fail;
        close (ready[0]);
        return 0;
fail:
        print_error ("setup: %s\n", strerror (errno));
        vgpu_closep (&ready[0]);
        vgpu_closep (&ready[1]);
        real_teardown (state);
        *state = NULL;
        return -1;
}

static int
real_teardown (void **state)
{
        real_t *f = *state;

        if (!f)
                return 0;
        if (f->holder > 0) {
                kill (f->holder, SIGKILL);
                waitpid (f->holder, NULL, 0);
        }
        vgpu_closep (&f->prog_fd);
        if (f->cgroup[0] && rmdir (f->cgroup) < 0 && errno != ENOENT)
                print_error ("cannot remove cgroup %s: %s\n", f->cgroup, strerror (errno));
        if (f->tmp[0])
                test_rm_tree (f->tmp);
        free (f);
        return 0;
}

static int
v1_setup (void **state)
{
        struct stat st;
        char p[192];
        real_t *f;
        int r;

        if (stat (V1_DEVICES "/devices.allow", &st) < 0) {
                print_message ("skipped: no cgroup v1 devices hierarchy at " V1_DEVICES "\n");
                skip ();
        }
        r = real_setup (state, V1_DEVICES);
        if (r < 0)
                return r;
        f = *state;
        /* Deny all but /dev/null, as a runtime's cgroup does.  The holder is
         * already inside: the rules apply to it and to the probes alike. */
        snprintf (p, sizeof p, "%s/devices.deny", f->cgroup);
        assert_int_equal (vgpu_write_attr_at (AT_FDCWD, p, "a", 1), 0);
        snprintf (p, sizeof p, "%s/devices.allow", f->cgroup);
        assert_int_equal (vgpu_write_attr_at (AT_FDCWD, p, "c 1:3 rwm", 9), 0);
        return 0;
}

static int
v2_setup (void **state)
{
        const char *mnt = test_cgroup2_mount ();
        vgpu_node_t null_only[] = { node (1, 3) };
        _cleanup_free_ struct bpf_insn *insns = NULL;
        _cleanup_close_ int dir = -1;
        vgpu_error_t err = { 0 };
        size_t len;
        real_t *f;
        int r;

        if (!mnt) {
                print_message ("skipped: no cgroup2 mount\n");
                skip ();
        }
        r = real_setup (state, mnt);
        if (r < 0)
                return r;
        f = *state;
        dir = open (f->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true (dir >= 0);
        assert_int_equal (vgpu_bpf_build (null_only, 1, NULL, 0, &insns, &len, &err), 0);
        f->prog_fd = vgpu_bpf_load (insns, len, &err);
        assert_true (f->prog_fd >= 0);
        assert_int_equal (vgpu_bpf_attach (dir, f->prog_fd, BPF_F_ALLOW_MULTI, -1, &err), 0);
        return 0;
}

/* Open tmp/name from a child that joined the cgroup: 0 or the errno. */
static int
probe (const real_t *f, const char *name)
{
        char p[128];
        int status;
        pid_t child;

        snprintf (p, sizeof p, "%s/%s", f->tmp, name);
        child = fork ();
        assert_true (child >= 0);
        if (child == 0) {
                int fd;

                if (join (f->cgroup) < 0)
                        _exit (255);
                fd = open (p, O_RDONLY | O_CLOEXEC);
                _exit (fd >= 0 ? 0 : errno);
        }
        assert_int_equal (waitpid (child, &status, 0), child);
        assert_true (WIFEXITED (status));
        assert_int_not_equal (WEXITSTATUS (status), 255);
        return WEXITSTATUS (status);
}

static bool
list_has (const real_t *f, const char *rule)
{
        char p[192];
        _cleanup_free_ char *list = NULL;

        snprintf (p, sizeof p, "%s/devices.list", f->cgroup);
        assert_int_equal (vgpu_read_file_at (AT_FDCWD, p, 1 << 20, &list, NULL), 0);
        return strstr (list, rule) != NULL;
}

static void
test_real_v1_allow_and_undo (void **state)
{
        real_t *f = *state;
        vgpu_node_t nodes[] = { node (f->major, 0) };
        vgpu_cgroup_undo_t undo, again;
        vgpu_error_t err = { 0 };
        char rule[32];

        snprintf (rule, sizeof rule, "c %u:0 rwm", f->major);
        assert_int_equal (probe (f, "ours"), EPERM);
        assert_int_equal (probe (f, "null"), 0);

        if (vgpu_cgroup_allow (f->holder, NULL, nodes, 1, &undo, &err) < 0)
                fail_msg ("%s", err.msg);
        assert_int_equal (undo.kind, VGPU_CGROUP_V1);
        assert_string_equal (undo.path, f->cgroup);
        assert_int_equal (undo.n_allowed, 1);
        assert_true (list_has (f, rule));
        assert_int_equal (probe (f, "ours"), ENXIO);
        assert_int_equal (probe (f, "other"), EPERM);
        assert_int_equal (probe (f, "null"), 0);

        /* A second grant finds the rule in devices.list: nothing to undo. */
        assert_int_equal (vgpu_cgroup_allow (f->holder, NULL, nodes, 1, &again, &err), 0);
        assert_int_equal (again.n_allowed, 0);
        vgpu_cgroup_undo_release (&again);

        assert_int_equal (vgpu_cgroup_undo (&undo, &err), 0);
        assert_false (list_has (f, rule));
        assert_int_equal (probe (f, "ours"), EPERM);
        assert_int_equal (probe (f, "null"), 0);
}

static void
test_real_v2_allow_and_undo (void **state)
{
        real_t *f = *state;
        vgpu_node_t nodes[] = { node (f->major, 0) };
        vgpu_cgroup_undo_t undo;
        vgpu_error_t err = { 0 };
        const char *mnt = test_cgroup2_mount ();

        assert_int_equal (probe (f, "ours"), EPERM);
        assert_int_equal (probe (f, "null"), 0);
        /* cgroup_root = the cgroup2 mount: this host's v1 devices stay out of it */
        if (vgpu_cgroup_allow (f->holder, mnt, nodes, 1, &undo, &err) < 0)
                fail_msg ("%s", err.msg);
        assert_int_equal (undo.kind, VGPU_CGROUP_V2);
        assert_string_equal (undo.path, f->cgroup);
        assert_int_equal (undo.bpf.n, 1);
        assert_int_equal (probe (f, "ours"), ENXIO);
        assert_int_equal (probe (f, "other"), EPERM);
        assert_int_equal (probe (f, "null"), 0);

        assert_int_equal (vgpu_cgroup_undo (&undo, &err), 0);
        assert_int_equal (probe (f, "ours"), EPERM);
        assert_int_equal (probe (f, "null"), 0);
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (test_parse_proc_hybrid),
                cmocka_unit_test (test_parse_proc_v2_only_and_odd_lines),
                cmocka_unit_test (test_parse_proc_rejects),
                cmocka_unit_test (test_find_mount_hybrid),
                cmocka_unit_test (test_find_mount_v2_only_escapes_and_roots),
                cmocka_unit_test_setup_teardown (test_fake_v1_writes_rules_and_undo_denies, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown (test_fake_v1_granted_rules_are_not_written, fake_setup, fake_teardown),
                cmocka_unit_test_setup_teardown (test_fake_v1_write_failure_names_cgroup, fake_setup, fake_teardown),
                cmocka_unit_test (test_bad_pid),
                cmocka_unit_test_setup_teardown (test_real_v1_allow_and_undo, v1_setup, real_teardown),
                cmocka_unit_test_setup_teardown (test_real_v2_allow_and_undo, v2_setup, real_teardown),
        };

        return cmocka_run_group_tests (tests, NULL, NULL);
}
