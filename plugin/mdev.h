/* mdev.h — mdev parents and types as the kernel shows them under the sysfs root.
 *
 * Discovery of parents (class/mdev_bus) and the types each offers, with their
 * available instances (the mdev backend's scan, backend.h), and the names
 * that may become sysfs path components: parent and type names, UUIDs.
 * Single devices are device.h's. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "error.h"
#include "roots.h"

/* What a scan reads of each type besides its id. */
#define VGPU_SCAN_TEXT 0x1      /* name, description (its GVT-g fields), device_api */
#define VGPU_SCAN_AVAILABLE 0x2 /* available_instances */
#define VGPU_SCAN_ACTIVE 0x4    /* devices/ of the type; the parent's mdevs */
#define VGPU_SCAN_ALL (VGPU_SCAN_TEXT | VGPU_SCAN_AVAILABLE | VGPU_SCAN_ACTIVE)

/* Append the mdev parents, each with its types sorted by id, everything read. */
int vgpu_mdev_scan (const vgpu_roots_t *roots, vgpu_host_t *host, vgpu_error_t *err);

/* Append the mdev parents reading only what is asked: every parent comes,
 * but only the one named parent (NULL: every one) with its types; of those
 * only the type named type (NULL: every one; a parent that does not offer it
 * comes with no type); of each type only `what` (fields not read are 0; the
 * parent's active count only with VGPU_SCAN_ACTIVE).  A parent's types and
 * their text attributes are read once a process while the parent stays (the
 * kernel keeps them while it exists); the parents and counts are read by
 * every scan. */
int vgpu_mdev_scan_some (const vgpu_roots_t *roots, const char *parent, const char *type, unsigned what,
                         vgpu_host_t *host, vgpu_error_t *err);

/* Fill in the active count of each mdev parent of host (what VGPU_SCAN_ACTIVE
 * reads of a parent: its mdevs, a remove under way included), nothing else. */
int vgpu_mdev_read_active (const vgpu_roots_t *roots, vgpu_host_t *host, vgpu_error_t *err);

/* UUIDs: a fresh lowercase one from libuuid; validation (36 chars, any case). */
void vgpu_uuid_new (char out[VGPU_UUID_LEN + 1]);
bool vgpu_uuid_valid (const char *s);
void vgpu_uuid_lower (char uuid[VGPU_UUID_LEN + 1]);
/* Validate a UUID from outside and copy it lowercased into out (-EINVAL with
 * the value in err otherwise). */
int vgpu_uuid_normalise (const char *in, char out[VGPU_UUID_LEN + 1], vgpu_error_t *err);

/* PCI address or plain kernel device name as the kernel spells parents. */
bool vgpu_name_valid (const char *s);
