/* vfio.c — see vfio.h. */
#include "vfio.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "mdev.h"
#include "util.h"

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

int
vgpu_sysfs_link_name (int dirfd, const char *path, int up, char *buf, size_t size)
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

void
vgpu_vfio_cdev (int devfd, vgpu_mdev_t *m)
{
        _cleanup_closedir_ DIR *d = vgpu_opendir_at (devfd, "vfio-dev", 0);
        struct dirent *de;

        m->cdev = -1;
        if (!d)
                return;
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

int
vgpu_vfio_group (int root, int devfd, const char *what, vgpu_mdev_t *m, vgpu_error_t *err)
{
        char name[VGPU_NAME_MAX], path[300], text[64];
        unsigned long long g;
        int r;

        m->group = -1;
        r = vgpu_sysfs_link_name (devfd, "iommu_group", 0, name, sizeof name);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || vgpu_parse_uint (name, 1u << 20, &g) < 0)
                return vgpu_error_set (err, EINVAL, "%s: iommu_group link is not a group number", what);
        snprintf (path, sizeof path, "class/vfio/%llu/dev", g);
        r = vgpu_read_attr_at (root, path, text, sizeof text);
        if (r == -ENOENT)
                return 0; /* group exists, VFIO node not (yet) registered */
        if (r < 0)
                return vgpu_error_sys (err, -r, "%s: %s", what, path);
        if (vgpu_parse_devnum (text, &m->group_major, &m->group_minor) < 0)
                return vgpu_error_set (err, EINVAL, "%s: %s holds \"%s\", not MAJOR:MINOR", what, path, text);
        m->group = (int) g;
        return 0;
}
