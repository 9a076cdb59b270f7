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

/* Append the mdev parents, each with its types sorted by id. */
int vgpu_mdev_scan (const vgpu_roots_t *roots, vgpu_host_t *host, vgpu_error_t *err);

/* UUIDs: a fresh lowercase one from libuuid; validation (36 chars, any case). */
void vgpu_uuid_new (char out[VGPU_UUID_LEN + 1]);
bool vgpu_uuid_valid (const char *s);
void vgpu_uuid_lower (char uuid[VGPU_UUID_LEN + 1]);
/* Validate a UUID from outside and copy it lowercased into out (-EINVAL with
 * the value in err otherwise). */
int vgpu_uuid_normalise (const char *in, char out[VGPU_UUID_LEN + 1], vgpu_error_t *err);

/* PCI address or plain kernel device name as the kernel spells parents. */
bool vgpu_name_valid (const char *s);
