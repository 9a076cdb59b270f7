/* doctor-cdi.c — see doctor-cdi.h. */
#include "doctor-cdi.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static _Noreturn void
cdi_child (const char *vgpu_cdi, const char *spec, const vgpu_roots_t *roots, int out, int err)
{
        const char *argv[] = { "vgpu-cdi",   "--sysfs-root", roots->sysfs, "--dev-root", roots->dev, "--state-dir",
                               roots->state, "check",        "--output",   spec,         NULL };
        int devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);

        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (devnull < 0 || dup2 (devnull, 0) < 0 || dup2 (out, 1) < 0 || dup2 (err, 2) < 0)
                _exit (127);
        execv (vgpu_cdi, (char *const *) argv);
        dprintf (2, "cannot run %s: %s", vgpu_cdi, strerror (errno));
        _exit (127);
}

typedef struct sink {
        int fd;
        char buf[VGPU_DOCTOR_CDI_OUTPUT_MAX / 2];
        size_t len;
} sink_t;

/* One read into s; false once it is closed.  What does not fit is read and
 * dropped, so the child never blocks on a full pipe. */
static bool
sink_read (sink_t *s)
{
        char buf[1024];
        ssize_t k = read (s->fd, buf, sizeof buf);
        size_t room = sizeof s->buf - 1 - s->len;

        if (k < 0 && errno == EINTR)
                return true;
        if (k <= 0)
                return false;
        memcpy (s->buf + s->len, buf, (size_t) k < room ? (size_t) k : room);
        s->len += (size_t) k < room ? (size_t) k : room;
        return true;
}

/* stdout, then stderr (each is flushed in its own time), until both close
 * or the deadline passes. */
static void
cdi_collect (int out, int err, vgpu_doctor_cdi_t *ret)
{
        long long deadline = vgpu_now_ms () + VGPU_DOCTOR_CDI_TIMEOUT_MS;
        sink_t s[2] = { { .fd = out }, { .fd = err } };

        while (s[0].fd >= 0 || s[1].fd >= 0) {
                struct pollfd p[2] = { { .fd = s[0].fd, .events = POLLIN }, { .fd = s[1].fd, .events = POLLIN } };
                long long left = deadline - vgpu_now_ms ();

                if (left <= 0 || poll (p, 2, (int) left) == 0) {
                        ret->timed_out = true;
                        break;
                }
                for (int i = 0; i < 2; i++)
                        if (p[i].revents && !sink_read (&s[i]))
                                s[i].fd = -1;
        }
        snprintf (ret->output, sizeof ret->output, "%.*s%.*s", (int) s[0].len, s[0].buf, (int) s[1].len, s[1].buf);
}

int
vgpu_doctor_cdi_run (const char *vgpu_cdi, const char *spec, const vgpu_roots_t *roots, vgpu_doctor_cdi_t *ret,
                     vgpu_error_t *err)
{
        _cleanup_close_ int out_rd = -1, out_wr = -1, err_rd = -1, err_wr = -1;
        vgpu_doctor_cdi_t c = { 0 };
        int p[2], q[2], status = 0;
        pid_t pid;

        if (access (spec, F_OK) < 0 && errno == ENOENT) {
                c.spec_absent = true;
                *ret = c;
                return 0;
        }
        if (pipe2 (p, O_CLOEXEC) < 0 || pipe2 (q, O_CLOEXEC) < 0)
                return vgpu_error_sys (err, errno, "pipes for vgpu-cdi");
        out_rd = p[0];
        out_wr = p[1];
        err_rd = q[0];
        err_wr = q[1];
        pid = fork ();
        if (pid < 0)
                return vgpu_error_sys (err, errno, "starting %s", vgpu_cdi);
        if (pid == 0)
                cdi_child (vgpu_cdi, spec, roots, out_wr, err_wr);
        close (TAKE_FD (out_wr));
        close (TAKE_FD (err_wr));
        cdi_collect (out_rd, err_rd, &c);
        if (c.timed_out)
                kill (pid, SIGKILL);
        while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
                ;
        c.exit_code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
        *ret = c;
        return 0;
}
