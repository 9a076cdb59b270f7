/* device.c — see device.h.  Remove runs the blocking write in a detached
 * grandchild so callers get a bounded wait. */
#include "device.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "json.h"
#include "util.h"

#define POLL_STEP_MS 2

/* Copy the last component of path (cut at its end) as a validated name. */
static int
base_name (const char *path, const char *end, char *buf, size_t size)
{
        const char *base = end;
        size_t len;

        while (base > path && base[-1] != '/')
                base--;
        len = (size_t) (end - base);
        if (len == 0 || len >= size)
                return -EINVAL;
        memcpy (buf, base, len);
        buf[len] = '\0';
        return vgpu_name_valid (buf) ? 0 : -EINVAL;
}

/* Name of the symlink's target (up = 0) or of the directory holding it
 * (up = 1: a device links to .../<parent>/<uuid>). */
static int
link_name (int dirfd, const char *path, int up, char *buf, size_t size)
{
        char target[PATH_MAX];
        char *end;
        ssize_t n = readlinkat (dirfd, path, target, sizeof target - 1);

        if (n < 0)
                return -errno;
        target[n] = '\0';
        end = target + n;
        while (up-- > 0) {
                while (end > target && end[-1] != '/')
                        end--;
                if (end == target)
                        return -EINVAL;
                end--;
        }
        return base_name (target, end, buf, size);
}

static void
find_cdev (int devfd, vgpu_mdev_t *m)
{
        int fd = openat (devfd, "vfio-dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        m->cdev = -1;
        if (fd < 0)
                return;
        d = fdopendir (fd);
        if (!d) {
                close (fd);
                return;
        }
        while ((de = readdir (d))) {
                char path[300], text[64];
                unsigned long long k;

                if (strncmp (de->d_name, "vfio", 4) != 0 || vgpu_parse_uint (de->d_name + 4, 1u << 20, &k) < 0)
                        continue;
                snprintf (path, sizeof path, "%s/dev", de->d_name);
                if (vgpu_read_attr_at (dirfd (d), path, text, sizeof text) < 0 ||
                    vgpu_parse_devnum (text, &m->cdev_major, &m->cdev_minor) < 0)
                        continue;
                m->cdev = (int) k;
                return;
        }
}

static int
lookup_group (int root, int devfd, vgpu_mdev_t *m, vgpu_error_t *err)
{
        char name[VGPU_NAME_MAX], path[300], text[64];
        unsigned long long g;
        int r;

        m->group = -1;
        r = link_name (devfd, "iommu_group", 0, name, sizeof name);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || vgpu_parse_uint (name, 1u << 20, &g) < 0)
                return vgpu_error_set (err, EINVAL, "mdev %s: iommu_group link is not a group number", m->uuid);
        snprintf (path, sizeof path, "class/vfio/%llu/dev", g);
        r = vgpu_read_attr_at (root, path, text, sizeof text);
        if (r == -ENOENT)
                return 0; /* group exists, VFIO node not yet registered */
        if (r < 0)
                return vgpu_error_sys (err, -r, "mdev %s: %s", m->uuid, path);
        if (vgpu_parse_devnum (text, &m->group_major, &m->group_minor) < 0)
                return vgpu_error_set (err, EINVAL, "mdev %s: %s holds \"%s\", not MAJOR:MINOR", m->uuid, path, text);
        m->group = (int) g;
        return 0;
}

static int
lookup_at (int root, const char *uuid, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        _cleanup_close_ int devfd = -1;
        vgpu_mdev_t m = { .group = -1, .cdev = -1 };
        char path[128];
        int r;

        r = vgpu_uuid_normalise (uuid, m.uuid, err);
        if (r < 0)
                return r;
        snprintf (path, sizeof path, "bus/mdev/devices/%s", m.uuid);
        devfd = openat (root, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (devfd < 0)
                return vgpu_error_sys (err, errno, "mdev %s", m.uuid);
        r = link_name (root, path, 1, m.parent, sizeof m.parent);
        if (r < 0)
                return vgpu_error_sys (err, -r, "mdev %s: parent", m.uuid);
        r = link_name (devfd, "mdev_type", 0, m.type, sizeof m.type);
        if (r < 0)
                return vgpu_error_sys (err, -r, "mdev %s: mdev_type", m.uuid);
        r = lookup_group (root, devfd, &m, err);
        if (r < 0)
                return r;
        find_cdev (devfd, &m);
        *ret = m;
        return 0;
}

int
vgpu_mdev_lookup (const vgpu_roots_t *roots, const char *uuid, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err);

        if (root < 0)
                return root;
        return lookup_at (root, uuid, ret, err);
}

static int
create_error (int typefd, const char *parent, const char *type, const char *uuid, int code, vgpu_error_t *err)
{
        char avail[32] = "0";

        switch (code) {
        case ENOSPC:
        case EUSERS:
                vgpu_read_attr_at (typefd, "available_instances", avail, sizeof avail);
                return vgpu_error_set (err, code, "no instance of %s left on %s (%s available)%s", type, parent, avail,
                                       strncmp (type, "i915-", 5) == 0
                                               ? "; a larger GPU aperture set in the BIOS/UEFI gives more instances"
                                               : "");
        case EEXIST:
                return vgpu_error_set (err, code,
                                       "mdev %s already exists (UUIDs are unique across all parents and types)", uuid);
        case EINVAL:
                return vgpu_error_set (err, code, "the kernel rejected UUID \"%s\" for type %s on %s as invalid", uuid,
                                       type, parent);
        case ENOENT: return vgpu_error_set (err, code, "unknown type %s on parent %s", type, parent);
        default: return vgpu_error_sys (err, code, "creating mdev %s of type %s on %s", uuid, type, parent);
        }
}

static int
open_type (int root, const char *parent, const char *type, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        char path[512];
        int fd;

        if (!vgpu_name_valid (parent))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a valid parent name",
                                       vgpu_quote (parent, strlen (parent), q));
        if (!vgpu_name_valid (type))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a valid mdev type name",
                                       vgpu_quote (type, strlen (type), q));
        snprintf (path, sizeof path, "class/mdev_bus/%s", parent);
        if (faccessat (root, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return vgpu_error_set (err, ENOENT, "unknown parent %s (no such device in class/mdev_bus)", parent);
        snprintf (path, sizeof path, "class/mdev_bus/%s/mdev_supported_types/%s", parent, type);
        fd = openat (root, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? vgpu_error_set (err, ENOENT, "unknown type %s on parent %s", type, parent)
                                       : vgpu_error_sys (err, errno, "type %s on %s", type, parent);
        return fd;
}

int
vgpu_mdev_create (const vgpu_roots_t *roots, const char *parent, const char *type, const char *uuid,
                  unsigned timeout_ms, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        _cleanup_close_ int root = -1, typefd = -1;
        char id[VGPU_UUID_LEN + 1];
        long long deadline;
        vgpu_mdev_t m;
        int r;

        r = vgpu_uuid_normalise (uuid, id, err);
        if (r < 0)
                return r;
        root = vgpu_roots_open_sysfs (roots, err);
        if (root < 0)
                return root;
        typefd = open_type (root, parent, type, err);
        if (typefd < 0)
                return typefd;
        r = vgpu_write_attr_at (typefd, "create", id, VGPU_UUID_LEN);
        if (r < 0)
                return create_error (typefd, parent, type, id, -r, err);

        deadline = vgpu_now_ms () + timeout_ms;
        for (;;) {
                r = lookup_at (root, id, &m, err);
                if (r == 0 && m.group >= 0)
                        break;
                if (vgpu_now_ms () >= deadline) {
                        if (r == 0)
                                r = vgpu_error_set (err, ENODEV,
                                                    "mdev %s of type %s on %s got no IOMMU group within %u ms", id,
                                                    type, parent, timeout_ms);
                        vgpu_mdev_remove (roots, id, timeout_ms, NULL);
                        return r;
                }
                usleep (POLL_STEP_MS * 1000);
        }
        *ret = m;
        return 0;
}

/* The grandchild of a remove: write "1" with nothing else inherited (the
 * ledger lock above all), report the errno, exit. */
static _Noreturn void
remove_writer (int fd, int report)
{
        int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
        int a = fcntl (fd, F_DUPFD, 10), b = fcntl (report, F_DUPFD, 10);
        int code = 0;

        if (devnull >= 0)
                for (int i = 0; i < 3; i++)
                        dup2 (devnull, i);
        if (a < 0 || b < 0 || dup2 (a, 3) < 0 || dup2 (b, 4) < 0)
                _exit (1);
        close_range (5, ~0U, 0);
        if (write (3, "1", 1) < 0)
                code = errno;
        if (write (4, &code, sizeof code) < 0)
                _exit (1);
        _exit (0);
}

static int
remove_wait (int fd, const char *uuid, unsigned timeout_ms, vgpu_error_t *err)
{
        _cleanup_close_ int rd = -1, wr = -1;
        struct pollfd pfd;
        int p[2], code = 0, status;
        pid_t pid;

        if (pipe2 (p, O_CLOEXEC) < 0)
                return vgpu_error_sys (err, errno, "mdev %s: pipe", uuid);
        rd = p[0];
        wr = p[1];
        pid = fork ();
        if (pid < 0)
                return vgpu_error_sys (err, errno, "mdev %s: fork", uuid);
        if (pid == 0) {
                pid_t gc = fork ();
                if (gc == 0)
                        remove_writer (fd, wr);
                _exit (gc < 0 ? 1 : 0);
        }
        if (waitpid (pid, &status, 0) < 0 || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
                return vgpu_error_set (err, ECHILD, "mdev %s: could not start the remove", uuid);
        close (TAKE_FD (wr));
        pfd = (struct pollfd) { .fd = rd, .events = POLLIN };
        while ((status = poll (&pfd, 1, (int) timeout_ms)) < 0 && errno == EINTR)
                ;
        if (status == 0)
                return vgpu_error_set (err, ETIMEDOUT,
                                       "remove of mdev %s still blocked after %u ms: a process holds the device open",
                                       uuid, timeout_ms);
        if (read (rd, &code, sizeof code) != (ssize_t) sizeof code)
                return vgpu_error_set (err, EIO, "mdev %s: the remove ended without a report", uuid);
        if (code != 0 && code != ENOENT)
                return vgpu_error_sys (err, code, "removing mdev %s", uuid);
        return 0;
}

/* While the kernel's remove blocks on an open device it has already dropped
 * the bus link and the `remove` file, but the device directory under its
 * parent (and its IOMMU group) stay until the last fd closes. */
static bool
device_pending (int root, const char *uuid)
{
        int fd = openat (root, "class/mdev_bus", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char path[VGPU_NAME_MAX + VGPU_UUID_LEN + 8];

        if (fd < 0)
                return false;
        if (!(d = fdopendir (fd))) {
                close (fd);
                return false;
        }
        while ((de = readdir (d))) {
                if (!vgpu_name_valid (de->d_name))
                        continue;
                if (snprintf (path, sizeof path, "%s/%s", de->d_name, uuid) >= (int) sizeof path)
                        continue;
                if (faccessat (dirfd (d), path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        return true;
        }
        return false;
}

static int
pending_error (const char *uuid, vgpu_error_t *err)
{
        return vgpu_error_set (
                err, EBUSY, "the kernel's remove of mdev %s is still pending: a process holds the device open", uuid);
}

int
vgpu_mdev_remove (const vgpu_roots_t *roots, const char *uuid, unsigned timeout_ms, vgpu_error_t *err)
{
        _cleanup_close_ int root = -1, fd = -1;
        char id[VGPU_UUID_LEN + 1], path[128];
        int r;

        r = vgpu_uuid_normalise (uuid, id, err);
        if (r < 0)
                return r;
        root = vgpu_roots_open_sysfs (roots, err);
        if (root < 0)
                return root;
        snprintf (path, sizeof path, "bus/mdev/devices/%s/remove", id);
        fd = openat (root, path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return device_pending (root, id) ? pending_error (id, err) : 0;
        if (fd < 0)
                return vgpu_error_sys (err, errno, "mdev %s: remove", id);
        r = remove_wait (fd, id, timeout_ms, err);
        if (r < 0)
                return r;
        snprintf (path, sizeof path, "bus/mdev/devices/%s", id);
        if (faccessat (root, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || device_pending (root, id))
                return pending_error (id, err);
        return 0;
}

static int
cmp_mdev (const void *a, const void *b)
{
        const vgpu_mdev_t *x = a, *y = b;
        int c = strcmp (x->parent, y->parent);

        return c ? c : strcmp (x->uuid, y->uuid);
}

int
vgpu_mdev_list (const vgpu_roots_t *roots, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err);
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ vgpu_mdev_t *list = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int fd;

        if (root < 0)
                return root;
        fd = openat (root, "bus/mdev/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && !(d = fdopendir (fd)))
                close (fd);
        while (d && (de = readdir (d))) {
                vgpu_mdev_t m;

                if (!vgpu_uuid_valid (de->d_name) || lookup_at (root, de->d_name, &m, NULL) < 0)
                        continue; /* gone meanwhile, or not an mdev we can read */
                if (n == cap) {
                        void *p = realloc (list, (cap = cap ? cap * 2 : 16) * sizeof *list);
                        if (!p)
                                return vgpu_error_set (err, ENOMEM, "out of memory");
                        list = p;
                }
                list[n++] = m;
        }
        if (n)
                qsort (list, n, sizeof *list, cmp_mdev);
        *ret = TAKE_PTR (list);
        *ret_n = n;
        return 0;
}
