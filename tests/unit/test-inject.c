/* test-inject.c — device nodes created under a temp rootfs.
 *
 * Mostly pid 0 (the caller's own root); one case reaches, through
 * /proc/PID/root, the private mount namespace of a child that has a tmpfs on
 * ROOTFS/dev, as a runtime's container has at createRuntime; one runs with openat2 made ENOSYS by a
 * seccomp filter to prove the O_NOFOLLOW walk.  Every temp dir and child goes
 * in teardown, also when a case fails.  mknod needs root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inject.h"
#include "testutil.h"
#include "util.h"

typedef struct fixture {
        char tmp[64];
        char rootfs[96];
        char outside[96];
        pid_t child;
} fixture_t;

static int
setup (void **state)
{
        fixture_t *f;

        if (geteuid () != 0) {
                print_message ("skipped: mknod of char devices needs root\n");
                skip ();
        }
        f = calloc (1, sizeof *f);
        assert_non_null (f);
        *state = f;
        strcpy (f->tmp, "/tmp/vgpu-test-inject.XXXXXX");
        assert_non_null (mkdtemp (f->tmp));
        snprintf (f->rootfs, sizeof f->rootfs, "%s/rootfs", f->tmp);
        snprintf (f->outside, sizeof f->outside, "%s/outside", f->tmp);
        assert_int_equal (mkdir (f->rootfs, 0755), 0);
        assert_int_equal (mkdir (f->outside, 0755), 0);
        umask (077); /* the library must not depend on the caller's umask */
        return 0;
}

static int
teardown (void **state)
{
        fixture_t *f = *state;

        if (!f)
                return 0;
        if (f->child > 0) {
                kill (f->child, SIGKILL);
                waitpid (f->child, NULL, 0);
        }
        if (f->tmp[0])
                test_rm_tree (f->tmp);
        umask (022);
        free (f);
        return 0;
}

static void
rpath (const fixture_t *f, const char *container_path, char *buf, size_t size)
{
        snprintf (buf, size, "%s%s", f->rootfs, container_path);
}

static void
assert_node (const fixture_t *f, const char *container_path, unsigned maj, unsigned min, mode_t mode)
{
        char p[192];
        struct stat st;

        rpath (f, container_path, p, sizeof p);
        assert_int_equal (lstat (p, &st), 0);
        assert_true (S_ISCHR (st.st_mode));
        assert_int_equal (major (st.st_rdev), maj);
        assert_int_equal (minor (st.st_rdev), min);
        assert_int_equal (st.st_mode & 07777, mode);
}

static bool
exists (const fixture_t *f, const char *container_path)
{
        char p[192];
        struct stat st;

        rpath (f, container_path, p, sizeof p);
        return lstat (p, &st) == 0;
}

static void
mk (const fixture_t *f, const char *container_path, mode_t type, unsigned maj, unsigned min)
{
        char p[192];

        rpath (f, container_path, p, sizeof p);
        if (S_ISDIR (type))
                assert_int_equal (mkdir (p, 0755), 0);
        else
                assert_int_equal (mknod (p, type | 0666, makedev (maj, min)), 0);
        assert_int_equal (chmod (p, S_ISDIR (type) ? 0755 : 0666), 0); /* whatever the umask */
}

static void
link_to (const fixture_t *f, const char *container_path, const char *target)
{
        char p[192];

        rpath (f, container_path, p, sizeof p);
        assert_int_equal (symlink (target, p), 0);
}

static bool
dir_is_empty (const char *path)
{
        _cleanup_closedir_ DIR *d = opendir (path);
        struct dirent *e;

        assert_non_null (d);
        while ((e = readdir (d)))
                if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
                        return false;
        return true;
}

static vgpu_node_t
node (const char *path, unsigned maj, unsigned min, mode_t mode)
{
        vgpu_node_t n = { .major = maj, .minor = min, .mode = mode };

        snprintf (n.path, sizeof n.path, "%s", path);
        return n;
}

static void
test_creates_nodes_with_rdev_and_mode (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t nodes[] = {
                node ("/dev/vfio/vfio", 10, 196, 0666),
                node ("/dev/vfio/12", 240, 0, 0660),
                node ("/dev/vfio/devices/vfio0", 240, 1, 0600),
        };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };
        char p[192];
        struct stat st;

        if (vgpu_inject_nodes (0, f->rootfs, nodes, 3, &undo, &err) < 0)
                fail_msg ("%s", err.msg);
        assert_node (f, "/dev/vfio/vfio", 10, 196, 0666);
        assert_node (f, "/dev/vfio/12", 240, 0, 0660);
        assert_node (f, "/dev/vfio/devices/vfio0", 240, 1, 0600);
        rpath (f, "/dev/vfio", p, sizeof p);
        assert_int_equal (stat (p, &st), 0);
        assert_int_equal (st.st_mode & 07777, 0755);
        /* dev, dev/vfio, dev/vfio/devices and the three nodes */
        assert_int_equal (undo.n, 6);
        assert_string_equal (undo.created[0], "/dev");
        assert_string_equal (undo.created[5], "/dev/vfio/devices/vfio0");

        if (vgpu_inject_undo (0, f->rootfs, &undo, &err) < 0)
                fail_msg ("%s", err.msg);
        assert_false (exists (f, "/dev"));
        assert_true (dir_is_empty (f->rootfs));
}

static void
test_existing_right_node_is_accepted_not_recorded (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t nodes[] = { node ("/dev/vfio/vfio", 10, 196, 0666), node ("/dev/vfio/12", 240, 0, 0666) };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };

        mk (f, "/dev", S_IFDIR, 0, 0);
        mk (f, "/dev/vfio", S_IFDIR, 0, 0);
        mk (f, "/dev/vfio/vfio", S_IFCHR, 10, 196);
        if (vgpu_inject_nodes (0, f->rootfs, nodes, 2, &undo, &err) < 0)
                fail_msg ("%s", err.msg);
        assert_int_equal (undo.n, 1);
        assert_string_equal (undo.created[0], "/dev/vfio/12");

        /* Undo removes what it created, nothing else. */
        assert_int_equal (vgpu_inject_undo (0, f->rootfs, &undo, &err), 0);
        assert_false (exists (f, "/dev/vfio/12"));
        assert_true (exists (f, "/dev/vfio/vfio"));
        assert_true (exists (f, "/dev/vfio"));
}

static void
test_second_run_is_idempotent (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t nodes[] = { node ("/dev/vfio/12", 240, 0, 0666) };
        vgpu_inject_undo_t first, second;
        vgpu_error_t err = { 0 };

        assert_int_equal (vgpu_inject_nodes (0, f->rootfs, nodes, 1, &first, &err), 0);
        assert_int_equal (vgpu_inject_nodes (0, f->rootfs, nodes, 1, &second, &err), 0);
        assert_int_equal (first.n, 3);
        assert_int_equal (second.n, 0);
        assert_node (f, "/dev/vfio/12", 240, 0, 0666);
}

static void
test_wrong_rdev_is_an_error (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t nodes[] = { node ("/dev/vfio/12", 240, 0, 0666) };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };

        mk (f, "/dev", S_IFDIR, 0, 0);
        mk (f, "/dev/vfio", S_IFDIR, 0, 0);
        mk (f, "/dev/vfio/12", S_IFCHR, 1, 3);
        assert_int_equal (vgpu_inject_nodes (0, f->rootfs, nodes, 1, &undo, &err), -EEXIST);
        assert_non_null (strstr (err.msg, "/dev/vfio/12"));
        assert_non_null (strstr (err.msg, "char 1:3, expected char 240:0"));
        assert_int_equal (undo.n, 0);
        assert_node (f, "/dev/vfio/12", 1, 3, 0666); /* left as found */
}

static void
test_wrong_type_is_an_error (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t nodes[] = { node ("/dev/vfio/12", 240, 0, 0666) };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };

        mk (f, "/dev", S_IFDIR, 0, 0);
        mk (f, "/dev/vfio", S_IFDIR, 0, 0);
        mk (f, "/dev/vfio/12", S_IFBLK, 240, 0);
        assert_int_equal (vgpu_inject_nodes (0, f->rootfs, nodes, 1, &undo, &err), -EEXIST);
        assert_non_null (strstr (err.msg, "not a char device"));
}

static void
check_no_escape (fixture_t *f, const char *link_path, const char *named)
{
        vgpu_node_t nodes[] = { node ("/dev/vfio/vfio", 10, 196, 0666), node ("/dev/vfio/12", 240, 0, 0666) };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };
        char expect[64];

        link_to (f, link_path, f->outside);
        assert_int_equal (vgpu_inject_nodes (0, f->rootfs, nodes, 2, &undo, &err), -ELOOP);
        snprintf (expect, sizeof expect, "directory %s under rootfs", named);
        assert_non_null (strstr (err.msg, expect));
        assert_non_null (strstr (err.msg, "symlink"));
        assert_int_equal (undo.n, 0);
        assert_true (dir_is_empty (f->outside));
}

static void
test_dev_symlink_outside_refused (void **state)
{
        check_no_escape (*state, "/dev", "/dev");
}

static void
test_vfio_symlink_outside_refused (void **state)
{
        fixture_t *f = *state;

        mk (f, "/dev", S_IFDIR, 0, 0);
        check_no_escape (f, "/dev/vfio", "/dev/vfio");
        assert_true (exists (f, "/dev")); /* not ours: kept */
}

static void
test_dev_symlink_to_etc_refused (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t nodes[] = { node ("/dev/vgpu-test-node", 240, 0, 0666) };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };
        struct stat st;

        assert_int_equal (lstat ("/etc/vgpu-test-node", &st), -1);
        link_to (f, "/dev", "/etc");
        assert_int_equal (vgpu_inject_nodes (0, f->rootfs, nodes, 1, &undo, &err), -ELOOP);
        assert_non_null (strstr (err.msg, "directory /dev under rootfs"));
        assert_int_equal (lstat ("/etc/vgpu-test-node", &st), -1);
}

static void
test_node_symlink_is_not_followed (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t nodes[] = { node ("/dev/vfio/12", 240, 0, 0666) };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };
        char target[160];

        mk (f, "/dev", S_IFDIR, 0, 0);
        mk (f, "/dev/vfio", S_IFDIR, 0, 0);
        snprintf (target, sizeof target, "%s/12", f->outside);
        link_to (f, "/dev/vfio/12", target);
        assert_int_equal (vgpu_inject_nodes (0, f->rootfs, nodes, 1, &undo, &err), -EEXIST);
        assert_non_null (strstr (err.msg, "not a char device"));
        assert_true (dir_is_empty (f->outside));
}

static void
test_failure_rolls_back (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t nodes[] = { node ("/dev/new/vfio", 10, 196, 0666), node ("/dev/vfio/12", 240, 0, 0666) };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };

        mk (f, "/dev", S_IFDIR, 0, 0);
        mk (f, "/dev/vfio", S_IFDIR, 0, 0);
        mk (f, "/dev/vfio/12", S_IFCHR, 240, 7);
        assert_int_equal (vgpu_inject_nodes (0, f->rootfs, nodes, 2, &undo, &err), -EEXIST);
        assert_int_equal (undo.n, 0);
        assert_false (exists (f, "/dev/new")); /* dir and node made by this call: gone */
        assert_node (f, "/dev/vfio/12", 240, 7, 0666);
}

static void
test_bad_paths_touch_nothing (void **state)
{
        fixture_t *f = *state;
        static const char *const bad[] = {
                "/dev/../etc/x", "dev/x", "/etc/x", "/dev//x", "/dev/x/", "/dev/./x", "/dev"
        };
        vgpu_inject_undo_t undo;

        for (size_t i = 0; i < ARRAY_SIZE (bad); i++) {
                vgpu_node_t nodes[] = { node ("/dev/ok", 240, 0, 0666), node (bad[i], 240, 1, 0666) };
                vgpu_error_t err = { 0 };

                assert_int_equal (vgpu_inject_nodes (0, f->rootfs, nodes, 2, &undo, &err), -EINVAL);
                assert_non_null (strstr (err.msg, bad[i]));
        }
        assert_true (dir_is_empty (f->rootfs));
        assert_int_equal (vgpu_inject_nodes (0, "relative/rootfs", NULL, 0, &undo, &(vgpu_error_t) { 0 }), -EINVAL);
}

static void
test_gone_pid_is_reported (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t nodes[] = { node ("/dev/vfio/12", 240, 0, 0666) };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };
        pid_t gone = fork ();

        assert_true (gone >= 0);
        if (gone == 0)
                _exit (0);
        assert_int_equal (waitpid (gone, NULL, 0), gone);
        assert_int_equal (vgpu_inject_nodes (gone, f->rootfs, nodes, 1, &undo, &err), -ENOENT);
        assert_non_null (strstr (err.msg, "root of container pid"));
        assert_true (dir_is_empty (f->rootfs));
}

/* A child with a private mount namespace and a tmpfs on ROOTFS/dev, like a
 * container at createRuntime: the nodes must land in its tmpfs only, made
 * from this process (no helper, no setns). */
static void
test_reaches_the_mount_namespace (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t nodes[] = { node ("/dev/vfio/12", 240, 0, 0666) };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };
        int ready[2];
        char c, dev[160], seen[192];
        struct stat st;

        mk (f, "/dev", S_IFDIR, 0, 0);
        snprintf (dev, sizeof dev, "%s/dev", f->rootfs);
        assert_int_equal (pipe (ready), 0);
        f->child = fork ();
        assert_true (f->child >= 0);
        if (f->child == 0) {
                close (ready[0]);
                if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount ("tmpfs", dev, "tmpfs", 0, "mode=755") < 0)
                        _exit (1);
                if (write (ready[1], "x", 1) != 1)
                        _exit (1);
                pause ();
                _exit (0);
        }
        close (ready[1]);
        assert_int_equal (read (ready[0], &c, 1), 1);
        close (ready[0]);

        if (vgpu_inject_nodes (f->child, f->rootfs, nodes, 1, &undo, &err) < 0)
                fail_msg ("%s", err.msg);
        assert_int_equal (undo.n, 2);
        assert_false (exists (f, "/dev/vfio")); /* not in our namespace */
        snprintf (seen, sizeof seen, "/proc/%ld/root%s/vfio/12", (long) f->child, dev);
        assert_int_equal (lstat (seen, &st), 0);
        assert_true (S_ISCHR (st.st_mode));
        assert_int_equal (st.st_rdev, makedev (240, 0));

        assert_int_equal (vgpu_inject_undo (f->child, f->rootfs, &undo, &err), 0);
        assert_int_equal (lstat (seen, &st), -1);
}

/* Run the symlink and the plain case with openat2 failing ENOSYS. */
static int
fallback_child (const fixture_t *f)
{
        vgpu_node_t nodes[] = { node ("/dev/vfio/12", 240, 0, 0666) };
        vgpu_node_t escape[] = { node ("/dev/link/12", 240, 0, 0666) };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };
        scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
        char link[192];

        if (!ctx || seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (openat2), 0) < 0 ||
            seccomp_load (ctx) < 0)
                return 10;
        seccomp_release (ctx);
        if (vgpu_inject_nodes (0, f->rootfs, nodes, 1, &undo, &err) < 0 || undo.n != 3)
                return 11;
        rpath (f, "/dev/link", link, sizeof link);
        if (symlink (f->outside, link) < 0)
                return 12;
        if (vgpu_inject_nodes (0, f->rootfs, escape, 1, &undo, &err) != -ELOOP ||
            !strstr (err.msg, "directory /dev/link under rootfs"))
                return 13;
        return 0;
}

static void
test_walk_without_openat2 (void **state)
{
        fixture_t *f = *state;
        int status;
        pid_t child = fork ();

        assert_true (child >= 0);
        if (child == 0)
                _exit (fallback_child (f));
        assert_int_equal (waitpid (child, &status, 0), child);
        assert_true (WIFEXITED (status));
        assert_int_equal (WEXITSTATUS (status), 0);
        assert_node (f, "/dev/vfio/12", 240, 0, 0666);
        assert_true (dir_is_empty (f->outside));
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown (t, setup, teardown)
                T (test_creates_nodes_with_rdev_and_mode), T (test_existing_right_node_is_accepted_not_recorded),
                T (test_second_run_is_idempotent),         T (test_wrong_rdev_is_an_error),
                T (test_wrong_type_is_an_error),           T (test_dev_symlink_outside_refused),
                T (test_vfio_symlink_outside_refused),     T (test_dev_symlink_to_etc_refused),
                T (test_node_symlink_is_not_followed),     T (test_failure_rolls_back),
                T (test_bad_paths_touch_nothing),          T (test_gone_pid_is_reported),
                T (test_reaches_the_mount_namespace),      T (test_walk_without_openat2),
#undef T
        };

        return cmocka_run_group_tests (tests, NULL, NULL);
}
