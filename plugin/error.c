/* error.c — see error.h. */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
