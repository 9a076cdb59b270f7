/* dynamic.c — see dynamic.h. */
#include "dynamic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "policy.h"
#include "util.h"

static vgpu_kgpu_t *
gpu_of (vgpu_kdynamic_t *d, const char *parent)
{
        vgpu_kgpu_t *g;
        void *p;

        for (size_t i = 0; i < d->n; i++)
                if (strcmp (d->gpus[i].parent, parent) == 0)
                        return &d->gpus[i];
        p = realloc (d->gpus, (d->n + 1) * sizeof *d->gpus);
        if (!p)
                return NULL;
        d->gpus = p;
        g = &d->gpus[d->n++];
        memset (g, 0, sizeof *g);
        vgpu_copy (g->parent, sizeof g->parent, parent);
        return g;
}

/* Log why a GPU is not offered, once per reason. */
static void
note (vgpu_kgpu_t *g, const vgpu_klog_t *log, const char *why)
{
        if (strcmp (g->note, why) == 0)
                return;
        vgpu_copy (g->note, sizeof g->note, why);
        vgpu_klog (log, "GPU %s: not offered: %s", g->parent, why);
}

/* The type this GPU offers, chosen when it is first seen (or, for `auto`
 * on a full GPU, once it has room to say). */
static void
resolve (vgpu_kgpu_t *g, const vgpu_kopts_t *o, const vgpu_host_t *host, const vgpu_parent_t *p, const vgpu_klog_t *log)
{
        char why[sizeof g->note], id[VGPU_KUBELET_ID_MAX + 16];
        vgpu_error_t e = { 0 };
        vgpu_choice_t c;
        const char *type = o->type;

        if (strcmp (o->type, "auto") == 0) {
                if (vgpu_select (host, &(vgpu_selector_t) { .type = "auto", .parent = p->name }, &c, &e) < 0) {
                        note (g, log, e.msg);
                        return;
                }
                type = c.type->id;
        } else if (!vgpu_parent_type (p, o->type)) {
                snprintf (why, sizeof why, "it has no type %s", o->type);
                note (g, log, why);
                return;
        }
        if (!vgpu_kubelet_cdi_name_plain (type)) {
                snprintf (why, sizeof why, "type %s is not a CDI device name that vgpu-cdi writes unmapped", type);
                note (g, log, why);
                return;
        }
        if ((size_t) snprintf (id, sizeof id, "%s-%d", p->name, VGPU_KUBELET_POOL_MAX) > VGPU_KUBELET_ID_MAX) {
                note (g, log, "its name makes device ids longer than the kubelet's 63 characters");
                return;
        }
        vgpu_copy (g->type, sizeof g->type, type);
        g->note[0] = '\0';
        vgpu_klog (log, "GPU %s: offering type %s", p->name, type);
}

static int
push_devices (const vgpu_kgpu_t *g, const vgpu_parent_t *p, const vgpu_kcdi_t *cdi, vgpu_kdevs_t *ret)
{
        const vgpu_type_t *t = p ? vgpu_parent_type (p, g->type) : NULL;
        unsigned holds = t ? t->available + t->active : 0;

        for (unsigned i = 0; i < g->count; i++) {
                vgpu_kdev_t d = { .healthy = i < holds };

                if ((size_t) snprintf (d.id, sizeof d.id, "%s-%u", g->parent, i) >= sizeof d.id)
                        return -ENAMETOOLONG; /* resolve() saw to it that none is */
                vgpu_copy (d.parent, sizeof d.parent, g->parent);
                vgpu_copy (d.type, sizeof d.type, g->type);
                d.cdi = vgpu_kcdi_has (cdi, g->type);
                if (!p)
                        snprintf (d.why, sizeof d.why, "GPU %s is gone", g->parent);
                else if (!t)
                        snprintf (d.why, sizeof d.why, "type %s is gone from GPU %s", g->type, g->parent);
                else if (!d.healthy)
                        snprintf (d.why, sizeof d.why, "GPU %s holds %u of %s now (other types use its budget)",
                                  g->parent, holds, g->type);
                if (vgpu_kdevs_push (ret, &d) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int
vgpu_kdynamic_scan (vgpu_kdynamic_t *d, const vgpu_kopts_t *o, const vgpu_host_t *host, const vgpu_kcdi_t *cdi,
                    const vgpu_klog_t *log, vgpu_kdevs_t *ret, vgpu_error_t *err)
{
        vgpu_kdevs_t l = { 0 };

        for (size_t i = 0; i < host->n_parents; i++) {
                const vgpu_parent_t *p = &host->parents[i];
                vgpu_kgpu_t *g = gpu_of (d, p->name);
                const vgpu_type_t *t;

                if (!g)
                        return vgpu_error_set (err, ENOMEM, "out of memory");
                if (!g->type[0])
                        resolve (g, o, host, p, log);
                t = g->type[0] ? vgpu_parent_type (p, g->type) : NULL;
                if (t && t->available + t->active > g->count)
                        g->count = t->available + t->active < VGPU_KUBELET_POOL_MAX ? t->available + t->active
                                                                                    : VGPU_KUBELET_POOL_MAX;
        }
        for (size_t i = 0; i < d->n; i++)
                if (d->gpus[i].type[0] &&
                    push_devices (&d->gpus[i], vgpu_host_parent (host, d->gpus[i].parent), cdi, &l) < 0) {
                        vgpu_kdevs_free (&l);
                        return vgpu_error_set (err, ENOMEM, "out of memory making the device list");
                }
        *ret = l;
        return 0;
}

void
vgpu_kdynamic_done (vgpu_kdynamic_t *d)
{
        free (d->gpus);
        d->gpus = NULL;
        d->n = 0;
}
