/* device.h — single mdevs: create, look up, remove, list.
 *
 * Create writes the lowercase UUID in one write, as the kernel wants, then
 * waits for the device and its IOMMU group; any later failure removes the
 * device again so a failed create leaves nothing.  A device resolves to its
 * parent, type, IOMMU group and VFIO node numbers.  Kernel errnos become one
 * sentence that names the type and parent. */
#pragma once

#include <stddef.h>

#include "error.h"
#include "mdev.h"
#include "roots.h"

typedef struct vgpu_mdev {
        char uuid[VGPU_UUID_LEN + 1];
        char parent[VGPU_NAME_MAX];
        char type[VGPU_NAME_MAX];
        int group; /* IOMMU group, -1 when the device has none */
        unsigned group_major, group_minor;
        int cdev; /* N of vfio-dev/vfioN with a dev file, -1 if none */
        unsigned cdev_major, cdev_minor;
} vgpu_mdev_t;

/* Create an mdev (uuid given, lowercase) and wait up to timeout_ms for the
 * device and its IOMMU group; on any failure after the write the device is
 * removed again.  ret is filled on success only. */
int vgpu_mdev_create (const vgpu_roots_t *roots, const char *parent, const char *type, const char *uuid,
                      unsigned timeout_ms, vgpu_mdev_t *ret, vgpu_error_t *err);

/* Resolve an existing device: parent, type, group, node numbers.
 * -ENOENT when it does not exist. */
int vgpu_mdev_lookup (const vgpu_roots_t *roots, const char *uuid, vgpu_mdev_t *ret, vgpu_error_t *err);

/* Remove a device, waiting at most timeout_ms: the kernel's remove blocks while
 * the device is open, so the write runs in a detached child; -ETIMEDOUT when
 * the bound passed (the child finishes the remove later).  0 when it was
 * already gone. */
int vgpu_mdev_remove (const vgpu_roots_t *roots, const char *uuid, unsigned timeout_ms, vgpu_error_t *err);

/* All active mdevs, sorted by parent then uuid. */
int vgpu_mdev_list (const vgpu_roots_t *roots, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err);
