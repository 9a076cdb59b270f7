/* roots.c — see roots.h. */
#include "roots.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

const vgpu_root_info_t vgpu_root_infos[VGPU_N_ROOTS] = {
        { "sysfs", "--sysfs-root", "VGPU_SYSFS_ROOT", VGPU_DEFAULT_SYSFS, "sysfs root",
          offsetof (vgpu_roots_t, sysfs) },
        { "dev", "--dev-root", "VGPU_DEV_ROOT", VGPU_DEFAULT_DEV, "dev root", offsetof (vgpu_roots_t, dev) },
        { "state", "--state-dir", "VGPU_STATE_DIR", VGPU_DEFAULT_STATE, "ledger directory",
          offsetof (vgpu_roots_t, state) },
};

const char *
vgpu_roots_get (const vgpu_roots_t *roots, size_t i)
{
        return (const char *) roots + vgpu_root_infos[i].offset;
}

size_t
vgpu_roots_args (const vgpu_roots_t *roots, const char *argv[2 * VGPU_N_ROOTS])
{
        size_t n = 0;

        for (size_t i = 0; i < VGPU_N_ROOTS; i++) {
                const char *v = vgpu_roots_get (roots, i);

                if (strcmp (v, vgpu_root_infos[i].def) != 0) {
                        argv[n++] = vgpu_root_infos[i].flag;
                        argv[n++] = v;
                }
        }
        return n;
}

int
vgpu_roots_set (vgpu_roots_t *roots, const char *which, const char *path, vgpu_error_t *err)
{
        size_t len = strlen (path);

        for (size_t i = 0; i < VGPU_N_ROOTS; i++) {
                char *dst = (char *) roots + vgpu_root_infos[i].offset;

                if (strcmp (which, vgpu_root_infos[i].which) != 0)
                        continue;
                if (path[0] != '/')
                        return vgpu_error_set (err, EINVAL, "%s root \"%s\" is not an absolute path", which, path);
                if (len >= PATH_MAX)
                        return vgpu_error_set (err, ENAMETOOLONG, "%s root is longer than %d bytes", which,
                                               PATH_MAX - 1);
                while (len > 1 && path[len - 1] == '/')
                        len--;
                memcpy (dst, path, len);
                dst[len] = '\0';
                return 0;
        }
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
        for (size_t i = 0; i < VGPU_N_ROOTS; i++) {
                const vgpu_root_info_t *info = &vgpu_root_infos[i];
                const char *v = getenv (info->env);
                int r;

                r = vgpu_roots_set (roots, info->which, v && *v ? v : info->def, err);
                if (r < 0)
                        return vgpu_error_prefix (err, "%s", info->env);
        }
        return 0;
}
