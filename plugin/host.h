/* host.h — the backends together: every parent of the host, every device.
 *
 * The one table of backends (backend.h: mdevs, VFs) and what callers above
 * the seam use instead of a backend's own calls: one scan of all parents,
 * one list of all devices, a device by its ledger record's backend and name
 * or by its ledger id alone. */
#pragma once

#include <stddef.h>

#include "backend.h"
#include "error.h"
#include "roots.h"

const vgpu_backend_t *vgpu_backend (vgpu_backend_kind_t kind);

/* Every backend's parents, sorted by name, types sorted by id. */
int vgpu_host_scan (const vgpu_roots_t *roots, vgpu_host_t *ret, vgpu_error_t *err);
void vgpu_host_free (vgpu_host_t *host);
const vgpu_parent_t *vgpu_host_parent (const vgpu_host_t *host, const char *name);
const vgpu_type_t *vgpu_parent_type (const vgpu_parent_t *parent, const char *id);

/* A device of backend `kind` by its name (backend.h's lookup). */
int vgpu_device_lookup (const vgpu_roots_t *roots, vgpu_backend_kind_t kind, const char *name, vgpu_mdev_t *ret,
                        vgpu_error_t *err);

/* A device by its ledger id alone (a record that cannot be read names only
 * that): an mdev with that UUID, or the VF whose id it is; -ENOENT. */
int vgpu_device_find (const vgpu_roots_t *roots, const char *uuid, vgpu_mdev_t *ret, vgpu_error_t *err);

/* Give back (backend.h) a device of backend `kind` by its name. */
int vgpu_device_give_back (const vgpu_roots_t *roots, vgpu_backend_kind_t kind, const char *name, unsigned timeout_ms,
                           vgpu_error_t *err);

/* Every backend's devices with a VFIO group, sorted by parent then name. */
int vgpu_device_list (const vgpu_roots_t *roots, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err);

/* How messages name a device: "mdev <uuid>" or "VF <address>". */
#define VGPU_DEVICE_DISPLAY_MAX (VGPU_NAME_MAX + 8)
const char *vgpu_device_display (vgpu_backend_kind_t kind, const char *name, char buf[VGPU_DEVICE_DISPLAY_MAX]);
