/* roots.c — see roots.h. */
#include "roots.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

static int
set_path (char *dst, const char *which, const char *path, vgpu_error_t *err)
{
        size_t len = strlen (path);

        if (path[0] != '/')
                return vgpu_error_set (err, EINVAL, "%s root \"%s\" is not an absolute path", which, path);
        if (len >= PATH_MAX)
                return vgpu_error_set (err, ENAMETOOLONG, "%s root is longer than %d bytes", which, PATH_MAX - 1);
        while (len > 1 && path[len - 1] == '/')
                len--;
        memcpy (dst, path, len);
        dst[len] = '\0';
        return 0;
}

int
vgpu_roots_set (vgpu_roots_t *roots, const char *which, const char *path, vgpu_error_t *err)
{
        if (strcmp (which, "sysfs") == 0)
                return set_path (roots->sysfs, which, path, err);
        if (strcmp (which, "dev") == 0)
                return set_path (roots->dev, which, path, err);
        if (strcmp (which, "state") == 0)
                return set_path (roots->state, which, path, err);
        return vgpu_error_set (err, EINVAL, "unknown root \"%s\"", which);
}

int
vgpu_roots_open_sysfs (const vgpu_roots_t *roots, vgpu_error_t *err)
{
        int fd = open (roots->sysfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return vgpu_error_sys (err, errno, "sysfs root %s", roots->sysfs);
        return fd;
}

int
vgpu_roots_init (vgpu_roots_t *roots, vgpu_error_t *err)
{
        static const struct {
                const char *which, *env, *def;
        } table[] = {
                { "sysfs", "VGPU_SYSFS_ROOT", VGPU_DEFAULT_SYSFS },
                { "dev", "VGPU_DEV_ROOT", VGPU_DEFAULT_DEV },
                { "state", "VGPU_STATE_DIR", VGPU_DEFAULT_STATE },
        };

        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
                const char *v = getenv (table[i].env);
                int r;

                r = vgpu_roots_set (roots, table[i].which, v && *v ? v : table[i].def, err);
                if (r < 0)
                        return vgpu_error_prefix (err, "%s", table[i].env);
        }
        return 0;
}
