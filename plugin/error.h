/* error.h — the one error idiom of vgpu-toolkit.
 *
 * Every fallible function takes a vgpu_error_t *err and returns 0 or a
 * negative errno.  On failure err holds the errno and one sentence that names
 * the object ("type i915-GVTg_V5_4 on 0000:00:02.0: ...").  Library code never
 * prints; only main() prints the sentence, once, as "<prog>: <sentence>". */
#pragma once

#include <stdarg.h>

#define VGPU_ERROR_MAX 1024

typedef struct vgpu_error {
        int code; /* positive errno, 0 when unset */
        char msg[VGPU_ERROR_MAX];
} vgpu_error_t;

/* Set err (errno `code`, message from fmt) and return -code.  A code <= 0 is
 * normalised so callers can pass errno or -r alike; 0 becomes EIO. */
int vgpu_error_set (vgpu_error_t *err, int code, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

/* Like vgpu_error_set, appending ": strerror(code)". */
int vgpu_error_sys (vgpu_error_t *err, int code, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

/* Put "context: " in front of the message already in err; returns -err->code. */
int vgpu_error_prefix (vgpu_error_t *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

void vgpu_error_clear (vgpu_error_t *err);

/* Print "prog: message" to stderr (the single place errors are printed). */
void vgpu_error_print (const char *prog, const vgpu_error_t *err);

/* The same line again where an admin looks when a runtime swallowed stderr
 * (podman shows only "exit status 1"): appended with a UTC time to log_path,
 * or to the kernel log (/dev/kmsg, which journald reads) when log_path is
 * NULL, naming the container when known.  Best effort, for main() only. */
void vgpu_error_log (const char *prog, const char *container, const vgpu_error_t *err, const char *log_path);
