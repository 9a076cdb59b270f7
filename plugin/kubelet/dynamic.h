/* dynamic.h — the devices of dynamic mode.
 *
 * Each GPU gets one type (the configured one, or what `auto` picks on it
 * when it is first seen, as the GPU's budget is shared between types) and
 * one device per instance of that type it holds (available plus active),
 * ids "<parent>-<n>".  A GPU keeps the most devices it ever offered; those
 * it cannot hold now, and all of a GPU or type that is gone, are
 * Unhealthy.  Allocate answers the CDI name kind=<type> (answer.c), so the
 * hook makes the mdev when the container is created and removes it with
 * the container. */
#pragma once

#include <stddef.h>

#include "cdinames.h"
#include "devices.h"
#include "mdev.h"
#include "options.h"

typedef struct vgpu_kgpu {
        char parent[VGPU_NAME_MAX];
        char type[VGPU_NAME_MAX]; /* "" until resolved */
        unsigned count;           /* devices offered: the most it held */
        char note[256];           /* why it is not offered, as last logged */
} vgpu_kgpu_t;

typedef struct vgpu_kdynamic {
        vgpu_kgpu_t *gpus;
        size_t n;
} vgpu_kdynamic_t;

/* The device list for a scanned host; cdi tells which kind=<type> names a
 * spec has.  Logs a GPU's type once when it is resolved, and once why a
 * GPU is not offered. */
int vgpu_kdynamic_scan (vgpu_kdynamic_t *d, const vgpu_kopts_t *o, const vgpu_host_t *host, const vgpu_kcdi_t *cdi,
                        const vgpu_klog_t *log, vgpu_kdevs_t *ret, vgpu_error_t *err);
void vgpu_kdynamic_done (vgpu_kdynamic_t *d);
