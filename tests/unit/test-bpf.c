/* test-bpf.c — cgroup v2 device programs on a real cgroup2 child cgroup.
 *
 * Each case makes a fresh child cgroup under the cgroup2 mount, attaches
 * programs to it and runs probes: a forked child joins the cgroup and open()s
 * nodes we mknod'ed in a temp dir.  A char node whose major has no driver gives
 * ENXIO when the cgroup allows it and EPERM when it does not; /dev/null's
 * numbers (1:3) open fine when allowed.  Needs root and a cgroup2 mount; the
 * cgroup and temp dir are removed in teardown, also when a case fails. */
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
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf.h"
#include "testutil.h"
#include "util.h"

typedef struct fixture {
        char tmp[64];
        char cgroup[128];
        int cgroup_fd;
        unsigned major; /* a char major with no driver */
} fixture_t;

/* A char major absent from /proc/devices, from the range for local use. */
static void
node_path (const fixture_t *f, const char *name, char *buf, size_t size)
{
        snprintf (buf, size, "%s/%s", f->tmp, name);
}

static int teardown (void **state);

/* A failure here would skip teardown: clean up by hand before failing. */
static int
setup (void **state)
{
        const char *mnt = test_cgroup2_mount ();
        static const struct {
                const char *name;
                unsigned maj, min;
        } nodes[] = {
                { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "ours", 0, 0 }, { "other", 0, 1 },
        };
        fixture_t *f;

        if (geteuid () != 0) {
                print_message ("skipped: needs root to load and attach device programs\n");
                skip ();
        }
        if (!mnt) {
                print_message ("skipped: no cgroup2 mount at /sys/fs/cgroup/unified or /sys/fs/cgroup\n");
                skip ();
        }
        f = calloc (1, sizeof *f);
        assert_non_null (f);
        *state = f;
        f->cgroup_fd = -1;
        f->major = test_unused_major ();
        strcpy (f->tmp, "/tmp/vgpu-test-bpf.XXXXXX");
        if (!mkdtemp (f->tmp))
                goto fail;
        for (size_t i = 0; i < ARRAY_SIZE (nodes); i++) {
                char p[128];

                node_path (f, nodes[i].name, p, sizeof p);
                if (mknod (p, S_IFCHR | 0666, makedev (nodes[i].maj ? nodes[i].maj : f->major, nodes[i].min)) < 0)
                        goto fail;
        }
        snprintf (f->cgroup, sizeof f->cgroup, "%s/vgpu-test-bpf-%ld", mnt, (long) getpid ());
        if (mkdir (f->cgroup, 0755) < 0) {
                f->cgroup[0] = '\0';
                goto fail;
        }
        f->cgroup_fd = open (f->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (f->cgroup_fd < 0)
                goto fail;
        return 0;
fail:
        print_error ("setup: %s\n", strerror (errno));
        teardown (state);
        *state = NULL;
        return -1;
}

static int
teardown (void **state)
{
        fixture_t *f = *state;
        static const char *const names[] = { "null", "zero", "full", "ours", "other" };

        if (!f)
                return 0;
        vgpu_closep (&f->cgroup_fd);
        /* Attached programs go with the cgroup. */
        if (f->cgroup[0] && rmdir (f->cgroup) < 0 && errno != ENOENT)
                print_error ("cannot remove cgroup %s: %s\n", f->cgroup, strerror (errno));
        for (size_t i = 0; i < ARRAY_SIZE (names); i++) {
                char p[128];

                node_path (f, names[i], p, sizeof p);
                unlink (p);
        }
        rmdir (f->tmp);
        free (f);
        return 0;
}

/* Open the node from a child that joined the cgroup: 0 or the errno. */
static int
probe (const fixture_t *f, const char *name)
{
        char p[128], procs[192], pid[32];
        int status;
        pid_t child;

        node_path (f, name, p, sizeof p);
        snprintf (procs, sizeof procs, "%s/cgroup.procs", f->cgroup);
        child = fork ();
        assert_true (child >= 0);
        if (child == 0) {
                int fd, n = snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());

                if (vgpu_write_attr_at (AT_FDCWD, procs, pid, (size_t) n) < 0)
                        _exit (255);
                fd = open (p, O_RDONLY | O_CLOEXEC);
                _exit (fd >= 0 ? 0 : errno);
        }
        assert_int_equal (waitpid (child, &status, 0), child);
        assert_true (WIFEXITED (status));
        assert_int_not_equal (WEXITSTATUS (status), 255);
        return WEXITSTATUS (status);
}

static vgpu_node_t
node (unsigned maj, unsigned min)
{
        return (vgpu_node_t) { .path = "/dev/x", .major = maj, .minor = min, .mode = 0666 };
}

/* Load "allow these, deny the rest" and attach it as a runtime would. */
static int
attach_runtime_prog (const fixture_t *f, const vgpu_node_t *nodes, size_t n, unsigned flags)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        vgpu_error_t err = { 0 };
        size_t len;
        int fd;

        assert_int_equal (vgpu_bpf_build (nodes, n, NULL, 0, &insns, &len, &err), 0);
        fd = vgpu_bpf_load (insns, len, &err);
        if (fd < 0)
                fail_msg ("%s", err.msg);
        if (vgpu_bpf_attach (f->cgroup_fd, fd, flags, -1, &err) < 0)
                fail_msg ("%s", err.msg);
        return fd;
}

static unsigned
only_prog_id (const fixture_t *f)
{
        unsigned ids[4], flags;
        size_t n;
        vgpu_error_t err;

        assert_int_equal (vgpu_bpf_query (f->cgroup_fd, ids, 4, &n, &flags, &err), 0);
        assert_int_equal (n, 1);
        return ids[0];
}

static void
test_built_program_decides (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t allow[] = { node (f->major, 0) };
        _cleanup_close_ int fd = attach_runtime_prog (f, allow, 1, BPF_F_ALLOW_MULTI);

        assert_int_equal (probe (f, "ours"), ENXIO);
        assert_int_equal (probe (f, "other"), EPERM);
        assert_int_equal (probe (f, "null"), EPERM);
}

static void
check_replacement (fixture_t *f, unsigned flags)
{
        vgpu_node_t old_allow[] = { node (1, 3) }, ours[] = { node (f->major, 0) };
        _cleanup_close_ int old = attach_runtime_prog (f, old_allow, 1, flags);
        unsigned old_id = only_prog_id (f);
        vgpu_bpf_undo_t undo;
        vgpu_error_t err = { 0 };

        assert_int_equal (probe (f, "null"), 0);
        assert_int_equal (probe (f, "ours"), EPERM);

        if (vgpu_bpf_allow (f->cgroup_fd, ours, 1, &undo, &err) < 0)
                fail_msg ("%s", err.msg);
        assert_int_equal (undo.n, 1);
        assert_int_not_equal (only_prog_id (f), old_id);
        assert_int_equal (probe (f, "null"), 0);      /* old decision kept */
        assert_int_equal (probe (f, "ours"), ENXIO);  /* ours granted */
        assert_int_equal (probe (f, "other"), EPERM); /* same major, other minor */
        assert_int_equal (probe (f, "zero"), EPERM);  /* old denial kept */

        if (vgpu_bpf_undo (&undo, &err) < 0)
                fail_msg ("%s", err.msg);
        assert_int_equal (only_prog_id (f), old_id);
        assert_int_equal (probe (f, "ours"), EPERM);
        assert_int_equal (probe (f, "null"), 0);
}

static void
test_replace_multi (void **state)
{
        check_replacement (*state, BPF_F_ALLOW_MULTI);
}

static void
test_replace_single (void **state)
{
        check_replacement (*state, 0);
}

static void
test_release_keeps_grant (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t old_allow[] = { node (1, 3) }, ours[] = { node (f->major, 0), node (f->major, 1) };
        _cleanup_close_ int old = attach_runtime_prog (f, old_allow, 1, BPF_F_ALLOW_MULTI);
        vgpu_bpf_undo_t undo;
        vgpu_error_t err = { 0 };

        if (vgpu_bpf_allow (f->cgroup_fd, ours, 2, &undo, &err) < 0)
                fail_msg ("%s", err.msg);
        vgpu_bpf_undo_release (&undo);
        assert_int_equal (undo.cgroup_fd, -1);
        assert_int_equal (probe (f, "ours"), ENXIO);
        assert_int_equal (probe (f, "other"), ENXIO);
        assert_int_equal (probe (f, "null"), 0);
}

/* Two programs: each must allow, so each is extended. */
static void
test_two_programs (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t a[] = { node (1, 3), node (1, 5) }, b[] = { node (1, 3), node (1, 7) },
                    ours[] = { node (f->major, 0) };
        _cleanup_close_ int pa = attach_runtime_prog (f, a, 2, BPF_F_ALLOW_MULTI);
        _cleanup_close_ int pb = attach_runtime_prog (f, b, 2, BPF_F_ALLOW_MULTI);
        vgpu_bpf_undo_t undo;
        vgpu_error_t err = { 0 };

        assert_int_equal (probe (f, "null"), 0);
        assert_int_equal (probe (f, "zero"), EPERM);
        if (vgpu_bpf_allow (f->cgroup_fd, ours, 1, &undo, &err) < 0)
                fail_msg ("%s", err.msg);
        assert_int_equal (undo.n, 2);
        assert_int_equal (probe (f, "ours"), ENXIO);
        assert_int_equal (probe (f, "null"), 0);
        assert_int_equal (probe (f, "zero"), EPERM);
        assert_int_equal (probe (f, "full"), EPERM);
        assert_int_equal (vgpu_bpf_undo (&undo, &err), 0);
        assert_int_equal (probe (f, "ours"), EPERM);
}

static void
test_no_program_nothing_to_do (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t ours[] = { node (f->major, 0) };
        vgpu_bpf_undo_t undo;
        vgpu_error_t err = { 0 };
        unsigned ids[4], flags;
        size_t n;

        assert_int_equal (vgpu_bpf_allow (f->cgroup_fd, ours, 1, &undo, &err), 0);
        assert_int_equal (undo.n, 0);
        assert_int_equal (vgpu_bpf_query (f->cgroup_fd, ids, 4, &n, &flags, &err), 0);
        assert_int_equal (n, 0);
        assert_int_equal (probe (f, "ours"), ENXIO);
        assert_int_equal (vgpu_bpf_undo (&undo, &err), 0);
}

static void
test_copied_program_reloads (void **state)
{
        fixture_t *f = *state;
        vgpu_node_t allow[] = { node (1, 3), node (f->major, 9) };
        _cleanup_free_ struct bpf_insn *insns = NULL, *copy = NULL;
        _cleanup_close_ int fd = -1, again = -1;
        vgpu_error_t err = { 0 };
        size_t len, n_copy;

        assert_int_equal (vgpu_bpf_build (allow, 2, NULL, 0, &insns, &len, &err), 0);
        assert_int_equal (len, 8 + 2 * 2 + 2);
        fd = vgpu_bpf_load (insns, len, &err);
        assert_true (fd >= 0);
        assert_int_equal (vgpu_bpf_prog_insns (fd, &copy, &n_copy, &err), 0);
        assert_int_equal (n_copy, len);
        assert_memory_equal (copy, insns, len * sizeof *insns);
        again = vgpu_bpf_load (copy, n_copy, &err);
        assert_true (again >= 0);
}

static void
test_verifier_refusal_is_reported (void **state)
{
        /* r0 = r3 (never written); exit */
        static const struct bpf_insn bad[] = {
                { .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_0, .src_reg = BPF_REG_3 },
                { .code = BPF_JMP | BPF_EXIT },
        };
        vgpu_error_t err = { 0 };
        int r = vgpu_bpf_load (bad, ARRAY_SIZE (bad), &err);

        (void) state;
        assert_int_equal (r, -EACCES);
        assert_non_null (strstr (err.msg, "refused by the verifier"));
        assert_non_null (strstr (err.msg, "R3"));
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown (test_built_program_decides, setup, teardown),
                cmocka_unit_test_setup_teardown (test_replace_multi, setup, teardown),
                cmocka_unit_test_setup_teardown (test_replace_single, setup, teardown),
                cmocka_unit_test_setup_teardown (test_release_keeps_grant, setup, teardown),
                cmocka_unit_test_setup_teardown (test_two_programs, setup, teardown),
                cmocka_unit_test_setup_teardown (test_no_program_nothing_to_do, setup, teardown),
                cmocka_unit_test_setup_teardown (test_copied_program_reloads, setup, teardown),
                cmocka_unit_test_setup_teardown (test_verifier_refusal_is_reported, setup, teardown),
        };

        return cmocka_run_group_tests (tests, NULL, NULL);
}
