/* test-task.c — the helper process of task.h.
 *
 * vgpu_task_write_bounded: the write lands and its errno comes back; the
 * caller's own affinity is back afterwards (it pins itself for the child's
 * start only); nothing is left behind when it ended in time; when
 * it blocks past the bound the call returns -ETIMEDOUT at once, the child
 * holds no other fd of the caller's (a pipe's read end sees EOF once the
 * caller closes its write end) and finishes the write on its own, while a
 * write after it still lands (on a stack of its own). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "task.h"
#include "util.h"

static void
write_lands_and_leaves_nothing (void **state)
{
        int p[2], code = -1;
        char buf[8] = { 0 };
        cpu_set_t before, after;

        (void) state;
        assert_int_equal (sched_getaffinity (0, sizeof before, &before), 0);
        assert_int_equal (pipe2 (p, O_CLOEXEC), 0);
        assert_int_equal (vgpu_task_write_bounded (p[1], "1", 1, 5000, &code), 0);
        assert_int_equal (sched_getaffinity (0, sizeof after, &after), 0);
        assert_true (CPU_EQUAL (&before, &after)); /* pinned for the start only */
        assert_int_equal (code, 0);
        assert_int_equal (read (p[0], buf, sizeof buf), 1);
        assert_string_equal (buf, "1");
        assert_int_equal (vgpu_task_write_bounded (p[0], "1", 1, 5000, &code), 0); /* the read end */
        assert_int_equal (code, EBADF);
        assert_int_equal (waitpid (-1, NULL, WNOHANG), -1);
        assert_int_equal (errno, ECHILD);
        close (p[0]);
        close (p[1]);
}

static void
write_blocked_past_the_bound (void **state)
{
        int full[2], other[2], code = -1, status;
        static char chunk[65536];
        long long t0;
        char c;
        pid_t child;

        (void) state;
        assert_int_equal (pipe2 (full, O_CLOEXEC | O_NONBLOCK), 0);
        while (write (full[1], chunk, sizeof chunk) > 0) /* fill it: the next write blocks */
                ;
        assert_int_equal (fcntl (full[1], F_SETFL, 0), 0);
        assert_int_equal (pipe2 (other, O_CLOEXEC), 0);
        t0 = vgpu_now_ms ();
        assert_int_equal (vgpu_task_write_bounded (full[1], "1", 1, 100, &code), -ETIMEDOUT);
        assert_true (vgpu_now_ms () - t0 < 5000);
        close (other[1]);
        assert_int_equal (read (other[0], &c, 1), 0); /* EOF: the child kept no copy of it */
        /* the blocked writer keeps its stack: the next write gets another */
        assert_int_equal (pipe2 (other, O_CLOEXEC), 0);
        assert_int_equal (vgpu_task_write_bounded (other[1], "2", 1, 5000, &code), 0);
        assert_int_equal (code, 0);
        assert_int_equal (read (other[0], &c, 1), 1);
        assert_int_equal (c, '2');
        close (other[1]);
        while (read (full[0], chunk, sizeof chunk) == (ssize_t) sizeof chunk) /* drain: the write goes through */
                ;
        child = waitpid (-1, &status, 0);
        assert_true (child > 0 && WIFEXITED (status) && WEXITSTATUS (status) == 0);
        close (full[0]);
        close (full[1]);
        close (other[0]);
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (write_lands_and_leaves_nothing),
                cmocka_unit_test (write_blocked_past_the_bound),
        };

        return cmocka_run_group_tests (tests, NULL, NULL);
}
