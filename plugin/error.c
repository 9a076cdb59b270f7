/* error.c — see error.h. */
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
normalise (int code)
{
        if (code < 0)
                code = -code;
        return code == 0 ? EIO : code;
}

int
vgpu_error_set (vgpu_error_t *err, int code, const char *fmt, ...)
{
        va_list ap;

        code = normalise (code);
        if (err) {
                va_start (ap, fmt);
                vsnprintf (err->msg, sizeof err->msg, fmt, ap);
                va_end (ap);
                err->code = code;
        }
        return -code;
}

int
vgpu_error_sys (vgpu_error_t *err, int code, const char *fmt, ...)
{
        va_list ap;
        size_t len;

        code = normalise (code);
        if (err) {
                va_start (ap, fmt);
                vsnprintf (err->msg, sizeof err->msg, fmt, ap);
                va_end (ap);
                len = strlen (err->msg);
                snprintf (err->msg + len, sizeof err->msg - len, ": %s", strerror (code));
                err->code = code;
        }
        return -code;
}

int
vgpu_error_prefix (vgpu_error_t *err, const char *fmt, ...)
{
        char head[VGPU_ERROR_MAX], old[VGPU_ERROR_MAX];
        va_list ap;

        if (!err)
                return -EIO;
        va_start (ap, fmt);
        vsnprintf (head, sizeof head, fmt, ap);
        va_end (ap);
        memcpy (old, err->msg, sizeof old);
        if (snprintf (err->msg, sizeof err->msg, "%s: %s", head, old) >= (int) sizeof err->msg)
                err->msg[sizeof err->msg - 1] = '\0'; /* a cut sentence beats none */
        return -normalise (err->code);
}

void
vgpu_error_clear (vgpu_error_t *err)
{
        if (err) {
                err->code = 0;
                err->msg[0] = '\0';
        }
}

void
vgpu_error_print (const char *prog, const vgpu_error_t *err)
{
        fprintf (stderr, "%s: %s\n", prog, err && err->msg[0] ? err->msg : "unknown error");
}

void
vgpu_error_log (const char *prog, const char *container, const vgpu_error_t *err, const char *log_path)
{
        char line[VGPU_ERROR_MAX + 256], when[32] = "";
        const char *msg = err && err->msg[0] ? err->msg : "unknown error";
        time_t now = time (NULL);
        struct tm tm;
        int fd, len;

        if (log_path && gmtime_r (&now, &tm))
                strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ ", &tm);
        /* <3>: level err; the kernel files it under LOG_USER */
        len = snprintf (line, sizeof line, "%s%s[%d]: %s%s%s%s\n", log_path ? when : "<3>", prog, (int) getpid (),
                        container && container[0] ? "container " : "", container ? container : "",
                        container && container[0] ? ": " : "", msg);
        if (len < 0)
                return;
        if (len >= (int) sizeof line)
                line[(len = (int) sizeof line - 1) - 1] = '\n';
        fd = log_path ? open (log_path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600)
                      : open ("/dev/kmsg", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return;
        if (write (fd, line, (size_t) len) < 0) {
                /* nowhere left to say it: stderr already has it */
        }
        close (fd);
}
