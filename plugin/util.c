/* util.c — see util.h. */
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>

int
vgpu_read_fd (int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        for (;;) {
                ssize_t n;

                if (cap - len < 4096) {
                        size_t ncap = cap ? cap * 2 : 8192;
                        char *nbuf;

                        if (ncap > max + 4096)
                                ncap = max + 4096;
                        nbuf = realloc (buf, ncap + 1);
                        if (!nbuf)
                                return -ENOMEM;
                        buf = nbuf;
                        cap = ncap;
                }
                n = read (fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return -EFBIG;
        }
        if (!buf && !(buf = malloc (1)))
                return -ENOMEM;
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR (buf);
        return 0;
}

int
vgpu_read_file_at (int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        return vgpu_read_fd (fd, max, ret, ret_len);
}

int
vgpu_read_regular_at (int dirfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        struct stat st;

        if (fd < 0)
                return errno == ELOOP ? -EINVAL : -errno;
        if (fstat (fd, &st) < 0)
                return -errno;
        if (!S_ISREG (st.st_mode))
                return S_ISDIR (st.st_mode) ? -EISDIR : -EINVAL;
        return vgpu_read_fd (fd, max, ret, ret_len);
}

int
vgpu_read_attr_at (int dirfd, const char *path, char *buf, size_t size)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = vgpu_read_file_at (dirfd, path, 65536, &text, &len);
        if (r < 0)
                return r;
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
                text[--len] = '\0';
        if (len >= size)
                return -ENAMETOOLONG;
        memcpy (buf, text, len + 1);
        return (int) len;
}

int
vgpu_write_attr_at (int dirfd, const char *path, const char *buf, size_t len)
{
        _cleanup_close_ int fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t n;

        if (fd < 0)
                return -errno;
        do
                n = write (fd, buf, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int
vgpu_append (void *arrayp, size_t *n, const void *elem, size_t size)
{
        void **array = arrayp;
        char *p = realloc (*array, (*n + 1) * size);

        if (!p)
                return -ENOMEM;
        memcpy (p + *n * size, elem, size);
        *array = p;
        (*n)++;
        return 0;
}

DIR *
vgpu_opendir_at (int dirfd, const char *path, int flags)
{
        int fd = openat (dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
        DIR *d;

        if (fd < 0)
                return NULL;
        d = fdopendir (fd);
        if (!d) {
                int e = errno;

                close (fd);
                errno = e;
        }
        return d;
}

int
vgpu_write_file_atomic (int dirfd, const char *name, const char *data, size_t len, mode_t mode)
{
        char tmp[NAME_MAX + 1];
        _cleanup_close_ int fd = -1;
        size_t off = 0;
        int r;

        if (snprintf (tmp, sizeof tmp, ".%s.tmp%ld", name, (long) getpid ()) >= (int) sizeof tmp)
                return -ENAMETOOLONG;
        fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        while (off < len) {
                ssize_t n = write (fd, data + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        goto undo;
                off += (size_t) n;
        }
        if (fchmod (fd, mode) < 0 || fsync (fd) < 0 || renameat (dirfd, tmp, dirfd, name) < 0)
                goto undo;
        fsync (dirfd);
        return 0;
undo:
        r = -errno;
        unlinkat (dirfd, tmp, 0);
        return r;
}

int
vgpu_parse_uint (const char *s, unsigned long long max, unsigned long long *ret)
{
        unsigned long long v = 0;

        if (!s || !*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (v > (ULLONG_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (unsigned) (*s - '0');
        }
        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int
vgpu_parse_devnum (const char *s, unsigned *ret_major, unsigned *ret_minor)
{
        char buf[64];
        char *colon;
        unsigned long long maj, min;

        if (strlen (s) >= sizeof buf)
                return -EINVAL;
        strcpy (buf, s);
        colon = strchr (buf, ':');
        if (!colon)
                return -EINVAL;
        *colon = '\0';
        if (vgpu_parse_uint (buf, 4095, &maj) < 0 || vgpu_parse_uint (colon + 1, 1048575, &min) < 0)
                return -EINVAL;
        *ret_major = (unsigned) maj;
        *ret_minor = (unsigned) min;
        return 0;
}

char *
vgpu_copy (char *dst, size_t size, const char *src)
{
        size_t len = strnlen (src, size - 1);

        memcpy (dst, src, len);
        dst[len] = '\0';
        return dst;
}

int
vgpu_parse_resolution (const char *s, unsigned *ret_w, unsigned *ret_h)
{
        unsigned long long w, h;
        const char *x;
        char buf[16];

        if (!s || !(x = strchr (s, 'x')) || (size_t) (x - s) >= sizeof buf)
                return -EINVAL;
        memcpy (buf, s, (size_t) (x - s));
        buf[x - s] = '\0';
        if (vgpu_parse_uint (buf, VGPU_RESOLUTION_MAX, &w) < 0 ||
            vgpu_parse_uint (x + 1, VGPU_RESOLUTION_MAX, &h) < 0 || w == 0 || h == 0)
                return -EINVAL;
        *ret_w = (unsigned) w;
        *ret_h = (unsigned) h;
        return 0;
}

long long
vgpu_now_ms (void)
{
        struct timespec ts;

        clock_gettime (CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
vgpu_crashpoint (const char *step)
{
#ifdef VGPU_CRASHPOINTS
        const char *at = getenv ("VGPU_CRASH_AT");

        if (at && strcmp (at, step) == 0)
                kill (getpid (), SIGKILL);
#else
        (void) step;
#endif
}

/* Fields 3 (state) and 22 (start time) of /proc/PID/stat. */
static int
proc_stat (pid_t pid, unsigned long long *ret_start, char *ret_state)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        const char *p;
        unsigned long long start;
        int r;

        if (pid <= 0)
                return -ESRCH;
        snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
        r = vgpu_read_file_at (AT_FDCWD, path, 4096, &text, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        p = strrchr (text, ')'); /* comm may hold spaces and parentheses */
        if (!p || p[1] != ' ' || !p[2])
                return -EINVAL;
        *ret_state = p[2];
        /* after ") " come fields 3..; starttime is field 22 */
        for (int field = 2; field < 22; field++) {
                p = strchr (p + 1, ' ');
                if (!p)
                        return -EINVAL;
        }
        if (sscanf (p + 1, "%llu", &start) != 1)
                return -EINVAL;
        *ret_start = start;
        return 0;
}

int
vgpu_proc_start (pid_t pid, unsigned long long *ret)
{
        char state;

        return proc_stat (pid, ret, &state);
}

bool
vgpu_proc_alive (pid_t pid, unsigned long long start)
{
        unsigned long long now;
        char state;

        return proc_stat (pid, &now, &state) == 0 && now == start && state != 'Z' && state != 'X';
}
