/* mdev.h — the kernel's mediated-device ABI, under the sysfs and dev roots.
 *
 * Discovery of parents (class/mdev_bus) and their types, create and remove of
 * mdevs, and resolution of a device's IOMMU group and VFIO nodes.  Kernel
 * errnos become one sentence that names the type and parent. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "roots.h"

#define VGPU_UUID_LEN 36
#define VGPU_NAME_MAX 128 /* parent and type directory names */

/* Fields of a GVT-g description ("low_gm_size: 128MB, high_gm_size: 512MB,
 * fence: 4, resolution: 1920x1200, weight: 4", newline- or comma-separated). */
typedef struct vgpu_gvt_desc {
        bool valid;
        unsigned low_gm_mb, high_gm_mb, fence, res_w, res_h, weight;
} vgpu_gvt_desc_t;

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

typedef struct vgpu_mdev {
        char uuid[VGPU_UUID_LEN + 1];
        char parent[VGPU_NAME_MAX];
        char type[VGPU_NAME_MAX];
        int group; /* IOMMU group, -1 when the device has none */
        unsigned group_major, group_minor;
        int cdev; /* N of vfio-dev/vfioN with a dev file, -1 if none */
        unsigned cdev_major, cdev_minor;
} vgpu_mdev_t;

/* Parents sorted by name, types sorted by id. */
int vgpu_host_scan (const vgpu_roots_t *roots, vgpu_host_t *ret, vgpu_error_t *err);
void vgpu_host_free (vgpu_host_t *host);
const vgpu_parent_t *vgpu_host_parent (const vgpu_host_t *host, const char *name);
const vgpu_type_t *vgpu_parent_type (const vgpu_parent_t *parent, const char *id);

/* Parse a GVT-g description; -EINVAL when it has another shape. */
int vgpu_gvt_parse (const char *text, vgpu_gvt_desc_t *ret);

/* UUIDs: a fresh lowercase one from libuuid; validation (36 chars, any case). */
void vgpu_uuid_new (char out[VGPU_UUID_LEN + 1]);
bool vgpu_uuid_valid (const char *s);
void vgpu_uuid_lower (char uuid[VGPU_UUID_LEN + 1]);
/* Validate a UUID from outside and copy it lowercased into out (-EINVAL with
 * the value in err otherwise). */
int vgpu_uuid_normalise (const char *in, char out[VGPU_UUID_LEN + 1], vgpu_error_t *err);

/* PCI address or plain kernel device name as the kernel spells parents. */
bool vgpu_name_valid (const char *s);

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
