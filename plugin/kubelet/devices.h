/* devices.h — the devices the plugin offers the kubelet, as data.
 *
 * One entry per device id with its health and the GPU it sits on.  The
 * modes fill a list from the host (dynamic.c, pool.c); the daemon compares
 * lists to know when ListAndWatch has news and logs what changed; answer.c
 * turns the ids the kubelet asks for into Allocate's and
 * GetPreferredAllocation's answers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "mdev.h"
#include "options.h"

typedef struct vgpu_kdev {
        char id[VGPU_KUBELET_ID_MAX + 1];
        char parent[VGPU_NAME_MAX];   /* its GPU; "" while not known (an adopted mdev that is gone) */
        char type[VGPU_NAME_MAX];     /* dynamic: the type Allocate names; pool: the mdev's, "" while gone */
        char uuid[VGPU_UUID_LEN + 1]; /* pool: the device's ledger id (an mdev's UUID); "" in dynamic mode */
        vgpu_backend_kind_t backend;  /* pool: an mdev or a VF */
        char name[VGPU_NAME_MAX];     /* pool: its kernel name, an mdev's UUID or a VF's PCI address */
        bool healthy;
        bool cdi;      /* a CDI spec in cdi-dir names it (dynamic: kind=type; pool: kind=uuid) */
        char why[512]; /* why it is unhealthy */
} vgpu_kdev_t;

typedef struct vgpu_kdevs {
        vgpu_kdev_t *v;
        size_t n;
} vgpu_kdevs_t;

int vgpu_kdevs_push (vgpu_kdevs_t *l, const vgpu_kdev_t *d); /* -ENOMEM */
void vgpu_kdevs_free (vgpu_kdevs_t *l);
void vgpu_kdevs_sort (vgpu_kdevs_t *l); /* by id */
const vgpu_kdev_t *vgpu_kdevs_find (const vgpu_kdevs_t *l, const char *id);

/* Same ids with the same health, in the same order: nothing to send. */
bool vgpu_kdevs_same (const vgpu_kdevs_t *a, const vgpu_kdevs_t *b);

/* One log line per device that came, went or changed health from old to
 * now ("device X: Unhealthy: GPU 0000:00:02.0 is gone"); one line for the
 * first list. */
void vgpu_kdevs_log_changes (const vgpu_kdevs_t *old, const vgpu_kdevs_t *now, const vgpu_klog_t *log);
