/* device.c — see device.h.  Remove runs the blocking write in a helper
 * (task.h) so callers get a bounded wait. */
#include "device.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "task.h"
#include "util.h"
#include "vfio.h"

#define POLL_STEP_MS 2

static int
lookup_at (int root, const char *uuid, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        _cleanup_close_ int devfd = -1;
        vgpu_mdev_t m = { .backend = VGPU_BACKEND_MDEV, .group = -1, .cdev = -1 };
        char path[128];
        int r;

        r = vgpu_uuid_normalise (uuid, m.uuid, err);
        if (r < 0)
                return r;
        vgpu_copy (m.name, sizeof m.name, m.uuid);
        snprintf (path, sizeof path, "bus/mdev/devices/%s", m.uuid);
        devfd = openat (root, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (devfd < 0)
                return vgpu_error_sys (err, errno, "mdev %s", m.uuid);
        r = vgpu_sysfs_link_name (root, path, 1, m.parent, sizeof m.parent);
        if (r < 0)
                return vgpu_error_sys (err, -r, "mdev %s: parent", m.uuid);
        r = vgpu_sysfs_link_name (devfd, "mdev_type", 0, m.type, sizeof m.type);
        if (r < 0)
                return vgpu_error_sys (err, -r, "mdev %s: mdev_type", m.uuid);
        snprintf (path, sizeof path, "mdev %s", m.uuid);
        r = vgpu_vfio_group (root, devfd, path, &m, err);
        if (r < 0)
                return r;
        vgpu_vfio_cdev (devfd, &m);
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

/* The write of "1" in a helper (task.h) while this process waits at most
 * timeout_ms: the kernel blocks the remove while the device is open. */
static int
remove_wait (int fd, const char *uuid, unsigned timeout_ms, vgpu_error_t *err)
{
        int code = 0, r = vgpu_task_write_bounded (fd, "1", 1, timeout_ms, &code);

        if (r == -ETIMEDOUT)
                return vgpu_error_set (err, ETIMEDOUT,
                                       "remove of mdev %s still blocked after %u ms: a process holds the device open",
                                       uuid, timeout_ms);
        if (r == -ECHILD)
                return vgpu_error_set (err, EIO, "mdev %s: the remove ended without a report", uuid);
        if (r < 0)
                return vgpu_error_sys (err, -r, "mdev %s: starting the remove", uuid);
        if (code != 0 && code != ENOENT)
                return vgpu_error_sys (err, code, "removing mdev %s", uuid);
        return 0;
}

/* While the kernel's remove blocks on an open device it has already dropped
 * the bus link and the `remove` file, but the device directory under its
 * parent (and its IOMMU group) stay until the last fd closes. */
static bool
pending_at (int root, const char *uuid)
{
        _cleanup_closedir_ DIR *d = vgpu_opendir_at (root, "class/mdev_bus", 0);
        struct dirent *de;
        char path[VGPU_NAME_MAX + VGPU_UUID_LEN + 8];

        if (!d)
                return false;
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
        char id[VGPU_UUID_LEN + 1], path[128], target[PATH_MAX], dir[PATH_MAX + 32];
        ssize_t n;
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
                return pending_at (root, id) ? pending_error (id, err) : 0;
        if (fd < 0)
                return vgpu_error_sys (err, errno, "mdev %s: remove", id);
        /* where the device directory is ("bus/mdev/devices/../../../devices/.../UUID"), to
         * look there afterwards rather than under every parent */
        snprintf (path, sizeof path, "bus/mdev/devices/%s", id);
        n = readlinkat (root, path, target, sizeof target - 1);
        if (n > 0) {
                target[n] = '\0';
                snprintf (dir, sizeof dir, "bus/mdev/devices/%s", target);
        }
        r = remove_wait (fd, id, timeout_ms, err);
        if (r < 0)
                return r;
        if (faccessat (root, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
            (n > 0 ? faccessat (root, dir, F_OK, AT_SYMLINK_NOFOLLOW) == 0 : pending_at (root, id)))
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

        if (root < 0)
                return root;
        d = vgpu_opendir_at (root, "bus/mdev/devices", 0);
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

/* ---- the mdev backend (backend.h) ---- */

static int
mdev_pick (const vgpu_roots_t *roots, const char *parent, const char *type, const char *uuid, vgpu_taken_fn taken,
           void *ctx, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        vgpu_mdev_t m = { .backend = VGPU_BACKEND_MDEV, .group = -1, .cdev = -1 };
        (void) roots;
        (void) taken;
        (void) ctx;
        (void) err;

        if (uuid)
                vgpu_copy (m.uuid, sizeof m.uuid, uuid);
        else
                vgpu_uuid_new (m.uuid);
        vgpu_copy (m.name, sizeof m.name, m.uuid);
        vgpu_copy (m.parent, sizeof m.parent, parent);
        vgpu_copy (m.type, sizeof m.type, type);
        *ret = m;
        return 0;
}

static int
mdev_make (const vgpu_roots_t *roots, const vgpu_mdev_t *picked, unsigned timeout_ms, vgpu_mdev_t *ret,
           vgpu_error_t *err)
{
        return vgpu_mdev_create (roots, picked->parent, picked->type, picked->uuid, timeout_ms, ret, err);
}

const vgpu_backend_t vgpu_backend_mdev = {
        .kind = VGPU_BACKEND_MDEV,
        .scan = vgpu_mdev_scan,
        .pick = mdev_pick,
        .make = mdev_make,
        .lookup = vgpu_mdev_lookup,
        .give_back = vgpu_mdev_remove,
        .list = vgpu_mdev_list,
};
