/* util.h — the one cleanup idiom and small file helpers.
 *
 * Cleanup: declare with _cleanup_free_, _cleanup_close_, _cleanup_fclose_,
 * _cleanup_closedir_ or _cleanup_json_ and hand ownership on with
 * TAKE_PTR()/TAKE_FD().  The file helpers return 0/positive or a negative
 * errno and never print; callers wrap the errno in a vgpu_error_t with the
 * object's name. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__ ((cleanup (f)))

static inline void
vgpu_freep (void *p)
{
        free (*(void **) p);
}

static inline void
vgpu_closep (int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close (*fd);
                errno = saved;
        }
}

static inline void
vgpu_fclosep (FILE **f)
{
        if (*f)
                fclose (*f);
}

static inline void
vgpu_closedirp (DIR **d)
{
        if (*d)
                closedir (*d);
}

#define _cleanup_free_ _cleanup_ (vgpu_freep)
#define _cleanup_close_ _cleanup_ (vgpu_closep)
#define _cleanup_fclose_ _cleanup_ (vgpu_fclosep)
#define _cleanup_closedir_ _cleanup_ (vgpu_closedirp)

#define TAKE_PTR(p)                                                                                                    \
        ({                                                                                                             \
                __typeof__ (p) _tp_ = (p);                                                                             \
                (p) = NULL;                                                                                            \
                _tp_;                                                                                                  \
        })
#define TAKE_FD(fd)                                                                                                    \
        ({                                                                                                             \
                int _tf_ = (fd);                                                                                       \
                (fd) = -1;                                                                                             \
                _tf_;                                                                                                  \
        })

#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

/* Read all of fd, at most max bytes (-EFBIG beyond), NUL-terminated. */
int vgpu_read_fd (int fd, size_t max, char **ret, size_t *ret_len);

/* Read a file relative to dirfd (O_CLOEXEC), at most max bytes. */
int vgpu_read_file_at (int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);

/* The same for a file that must be a regular one, as anything written by an
 * admin or a tool is (ledger records, config.json, CDI specs, config files):
 * no link followed, no blocking open of a FIFO or device; -EINVAL for a link,
 * FIFO, socket or device, -EISDIR for a directory. */
int vgpu_read_regular_at (int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);

/* Read a one-line sysfs attribute into buf, trailing newline removed. */
int vgpu_read_attr_at (int dirfd, const char *path, char *buf, size_t size);

/* Write buf to an existing file in ONE write(2) (sysfs wants exactly that). */
int vgpu_write_attr_at (int dirfd, const char *path, const char *buf, size_t len);

/* Append size bytes at elem to the malloc'd array *arrayp (the address of
 * the array's pointer) of *n elements; -ENOMEM leaves both as they were. */
int vgpu_append (void *arrayp, size_t *n, const void *elem, size_t size);

/* Directory path below dirfd as a stream (extra open flags: O_NOFOLLOW),
 * its fd closed again when fdopendir fails; NULL with errno set. */
DIR *vgpu_opendir_at (int dirfd, const char *path, int flags);

/* Replace dirfd/name atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory. */
int vgpu_write_file_atomic (int dirfd, const char *name, const char *data, size_t len, mode_t mode);

/* Strict unsigned parse: decimal digits only, whole string, <= max. */
int vgpu_parse_uint (const char *s, unsigned long long max, unsigned long long *ret);

/* Parse "MAJ:MIN" (as in sysfs `dev` files). */
int vgpu_parse_devnum (const char *s, unsigned *ret_major, unsigned *ret_minor);

/* "WIDTHxHEIGHT", decimal, each 1..VGPU_RESOLUTION_MAX: the one parser of a
 * display resolution, for requests, flags and GVT-g type descriptions alike
 * (it sits here, below gvt.c and policy.c, which both need it). */
#define VGPU_RESOLUTION_MAX 16384
int vgpu_parse_resolution (const char *s, unsigned *ret_w, unsigned *ret_h);

/* Copy src into dst[size], cut if longer; returns dst. */
char *vgpu_copy (char *dst, size_t size, const char *src);

/* Monotonic milliseconds. */
long long vgpu_now_ms (void);

/* Crash-consistency tests: in the library built with -DVGPU_CRASHPOINTS
 * (plugin/meson.build's libvgpu-crash, never installed), SIGKILL the process
 * at the named step when VGPU_CRASH_AT names it; a no-op otherwise. */
void vgpu_crashpoint (const char *step);

/* Start time of a process (field 22 of /proc/PID/stat); -ESRCH when gone. */
int vgpu_proc_start (pid_t pid, unsigned long long *ret);
/* True while pid runs and still has start time `start` (a zombie has ended). */
bool vgpu_proc_alive (pid_t pid, unsigned long long start);
