/* mdev.h — mdev parents and types as the kernel shows them under the sysfs root.
 *
 * Discovery of parents (class/mdev_bus) and the types each offers, with their
 * available instances, and the names that may become sysfs path components:
 * parent and type names, UUIDs.  Single devices are device.h's. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "gvt.h"
#include "roots.h"

#define VGPU_UUID_LEN 36
#define VGPU_NAME_MAX 128 /* parent and type directory names */

typedef struct vgpu_type {
        char id[VGPU_NAME_MAX];   /* directory name: i915-GVTg_V5_4 */
        char name[VGPU_NAME_MAX]; /* `name` attribute, "" when absent */
        char description[512];    /* newlines joined with ", " as mdevctl does */
        bool has_description;
        char device_api[32];
        unsigned available;
        unsigned active; /* entries in devices/ */
        vgpu_gvt_desc_t gvt;
} vgpu_type_t;

typedef struct vgpu_parent {
        char name[VGPU_NAME_MAX]; /* 0000:00:02.0, mtty, ... */
        vgpu_type_t *types;
        size_t n_types;
        unsigned active; /* mdevs of all its types */
} vgpu_parent_t;

typedef struct vgpu_host {
        vgpu_parent_t *parents;
        size_t n_parents;
} vgpu_host_t;

/* Parents sorted by name, types sorted by id. */
int vgpu_host_scan (const vgpu_roots_t *roots, vgpu_host_t *ret, vgpu_error_t *err);
void vgpu_host_free (vgpu_host_t *host);
const vgpu_parent_t *vgpu_host_parent (const vgpu_host_t *host, const char *name);
const vgpu_type_t *vgpu_parent_type (const vgpu_parent_t *parent, const char *id);

/* UUIDs: a fresh lowercase one from libuuid; validation (36 chars, any case). */
void vgpu_uuid_new (char out[VGPU_UUID_LEN + 1]);
bool vgpu_uuid_valid (const char *s);
void vgpu_uuid_lower (char uuid[VGPU_UUID_LEN + 1]);
/* Validate a UUID from outside and copy it lowercased into out (-EINVAL with
 * the value in err otherwise). */
int vgpu_uuid_normalise (const char *in, char out[VGPU_UUID_LEN + 1], vgpu_error_t *err);

/* PCI address or plain kernel device name as the kernel spells parents. */
bool vgpu_name_valid (const char *s);
