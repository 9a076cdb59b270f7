/* host.c — see host.h. */
#include "host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "sriov.h"
#include "util.h"

static const vgpu_backend_t *const backends[VGPU_BACKEND_N] = {
        [VGPU_BACKEND_MDEV] = &vgpu_backend_mdev,
        [VGPU_BACKEND_VF] = &vgpu_backend_vf,
};

const vgpu_backend_t *
vgpu_backend (vgpu_backend_kind_t kind)
{
        return (unsigned) kind < VGPU_BACKEND_N ? backends[kind] : backends[VGPU_BACKEND_MDEV];
}

static int
cmp_parent (const void *a, const void *b)
{
        return strcmp (((const vgpu_parent_t *) a)->name, ((const vgpu_parent_t *) b)->name);
}

int
vgpu_host_scan (const vgpu_roots_t *roots, vgpu_host_t *ret, vgpu_error_t *err)
{
        vgpu_host_t host = { 0 };

        for (size_t k = 0; k < VGPU_BACKEND_N; k++) {
                int r = backends[k]->scan (roots, &host, err);

                if (r < 0) {
                        vgpu_host_free (&host);
                        return r;
                }
        }
        if (host.n_parents)
                qsort (host.parents, host.n_parents, sizeof *host.parents, cmp_parent);
        *ret = host;
        return 0;
}

void
vgpu_host_free (vgpu_host_t *host)
{
        for (size_t i = 0; i < host->n_parents; i++)
                free (host->parents[i].types);
        free (host->parents);
        host->parents = NULL;
        host->n_parents = 0;
}

const vgpu_parent_t *
vgpu_host_parent (const vgpu_host_t *host, const char *name)
{
        for (size_t i = 0; i < host->n_parents; i++)
                if (strcmp (host->parents[i].name, name) == 0)
                        return &host->parents[i];
        return NULL;
}

const vgpu_type_t *
vgpu_parent_type (const vgpu_parent_t *parent, const char *id)
{
        for (size_t i = 0; i < parent->n_types; i++)
                if (strcmp (parent->types[i].id, id) == 0)
                        return &parent->types[i];
        return NULL;
}

int
vgpu_device_lookup (const vgpu_roots_t *roots, vgpu_backend_kind_t kind, const char *name, vgpu_mdev_t *ret,
                    vgpu_error_t *err)
{
        return vgpu_backend (kind)->lookup (roots, name, ret, err);
}

int
vgpu_device_find (const vgpu_roots_t *roots, const char *uuid, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        _cleanup_free_ vgpu_mdev_t *vfs = NULL;
        size_t n = 0;

        if (vgpu_mdev_lookup (roots, uuid, ret, NULL) == 0)
                return 0;
        if (vgpu_backend_vf.list (roots, &vfs, &n, NULL) == 0)
                for (size_t i = 0; i < n; i++)
                        if (strcmp (vfs[i].uuid, uuid) == 0) {
                                *ret = vfs[i];
                                return 0;
                        }
        return vgpu_error_set (err, ENOENT, "no mdev %s and no VF whose id it is", uuid);
}

int
vgpu_device_give_back (const vgpu_roots_t *roots, vgpu_backend_kind_t kind, const char *name, unsigned timeout_ms,
                       vgpu_error_t *err)
{
        return vgpu_backend (kind)->give_back (roots, name, timeout_ms, err);
}

static int
cmp_device (const void *a, const void *b)
{
        const vgpu_mdev_t *x = a, *y = b;
        int c = strcmp (x->parent, y->parent);

        return c ? c : strcmp (x->name, y->name);
}

int
vgpu_device_list (const vgpu_roots_t *roots, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_free_ vgpu_mdev_t *all = NULL;
        size_t n = 0;

        for (size_t k = 0; k < VGPU_BACKEND_N; k++) {
                _cleanup_free_ vgpu_mdev_t *some = NULL;
                size_t m = 0;
                void *p;
                int r = backends[k]->list (roots, &some, &m, err);

                if (r < 0)
                        return r;
                if (m == 0)
                        continue;
                p = realloc (all, (n + m) * sizeof *all);
                if (!p)
                        return vgpu_error_set (err, ENOMEM, "out of memory");
                all = p;
                memcpy (all + n, some, m * sizeof *all);
                n += m;
        }
        if (n)
                qsort (all, n, sizeof *all, cmp_device);
        *ret = TAKE_PTR (all);
        *ret_n = n;
        return 0;
}

const char *
vgpu_device_display (vgpu_backend_kind_t kind, const char *name, char buf[VGPU_DEVICE_DISPLAY_MAX])
{
        snprintf (buf, VGPU_DEVICE_DISPLAY_MAX, "%s %s", kind == VGPU_BACKEND_VF ? "VF" : "mdev", name);
        return buf;
}
