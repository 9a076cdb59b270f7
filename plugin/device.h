/* device.h — single mdevs: create, look up, remove, list; the mdev backend.
 *
 * Create writes the lowercase UUID in one write, as the kernel wants, then
 * waits for the device and its IOMMU group; any later failure removes the
 * device again so a failed create leaves nothing.  A device resolves to its
 * parent, type, IOMMU group and VFIO node numbers.  Kernel errnos become one
 * sentence that names the type and parent.  With mdev.h's scan these are the
 * mdev backend (backend.h), vgpu_backend_mdev. */
#pragma once

#include <stddef.h>

#include "backend.h"
#include "error.h"
#include "mdev.h"
#include "roots.h"

extern const vgpu_backend_t vgpu_backend_mdev;

/* Create an mdev (uuid given, lowercase) and wait up to timeout_ms for the
 * device and its IOMMU group; on any failure after the write the device is
 * removed again.  ret is filled on success only. */
int vgpu_mdev_create (const vgpu_roots_t *roots, const char *parent, const char *type, const char *uuid,
                      unsigned timeout_ms, vgpu_mdev_t *ret, vgpu_error_t *err);

/* Resolve an existing device: parent, type, group, node numbers.
 * -ENOENT when it does not exist. */
int vgpu_mdev_lookup (const vgpu_roots_t *roots, const char *uuid, vgpu_mdev_t *ret, vgpu_error_t *err);

/* Remove a device, waiting at most timeout_ms: the kernel's remove blocks while
 * the device is open, so the write runs in a helper (task.h); -ETIMEDOUT when
 * the bound passed (the helper finishes the remove later; otherwise it has
 * exited and been reaped when this returns).  0 when it was already gone. */
int vgpu_mdev_remove (const vgpu_roots_t *roots, const char *uuid, unsigned timeout_ms, vgpu_error_t *err);

/* All active mdevs, sorted by parent then uuid. */
int vgpu_mdev_list (const vgpu_roots_t *roots, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err);
