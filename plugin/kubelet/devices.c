/* devices.c — see devices.h. */
#include "devices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int
vgpu_kdevs_push (vgpu_kdevs_t *l, const vgpu_kdev_t *d)
{
        return vgpu_append (&l->v, &l->n, d, sizeof *d);
}

void
vgpu_kdevs_free (vgpu_kdevs_t *l)
{
        free (l->v);
        l->v = NULL;
        l->n = 0;
}

static int
cmp_id (const void *a, const void *b)
{
        return strcmp (((const vgpu_kdev_t *) a)->id, ((const vgpu_kdev_t *) b)->id);
}

void
vgpu_kdevs_sort (vgpu_kdevs_t *l)
{
        if (l->n > 1)
                qsort (l->v, l->n, sizeof *l->v, cmp_id);
}

const vgpu_kdev_t *
vgpu_kdevs_find (const vgpu_kdevs_t *l, const char *id)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp (l->v[i].id, id) == 0)
                        return &l->v[i];
        return NULL;
}

bool
vgpu_kdevs_same (const vgpu_kdevs_t *a, const vgpu_kdevs_t *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (strcmp (a->v[i].id, b->v[i].id) != 0 || a->v[i].healthy != b->v[i].healthy)
                        return false;
        return true;
}

void
vgpu_kdevs_log_changes (const vgpu_kdevs_t *old, const vgpu_kdevs_t *now, const vgpu_klog_t *log)
{
        if (old->n == 0 && now->n > 0) {
                size_t healthy = 0;

                for (size_t i = 0; i < now->n; i++)
                        healthy += now->v[i].healthy;
                vgpu_klog (log, "offering %zu devices, %zu Healthy", now->n, healthy);
                return;
        }
        for (size_t i = 0; i < now->n; i++) {
                const vgpu_kdev_t *d = &now->v[i], *was = vgpu_kdevs_find (old, d->id);

                if (was && was->healthy == d->healthy)
                        continue;
                if (d->healthy)
                        vgpu_klog (log, "device %s: %s", d->id, was ? "Healthy again" : "offered, Healthy");
                else
                        vgpu_klog (log, "device %s: %sUnhealthy: %s", d->id, was ? "" : "offered, ", d->why);
        }
        for (size_t i = 0; i < old->n; i++)
                if (!vgpu_kdevs_find (now, old->v[i].id))
                        vgpu_klog (log, "device %s: no longer offered", old->v[i].id);
}
