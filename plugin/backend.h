/* backend.h — the seam between the kinds of vGPU device and everything above.
 *
 * A vGPU is a VFIO device a container gets as /dev/vfio/<group>: a GVT-g
 * mediated device (made by writing a UUID to a type's `create`, removed by
 * its `remove`), or an SR-IOV virtual function (claimed from the PF's VFs by
 * binding it to vfio-pci, given back by unbinding it).  What differs between
 * the two — find parents and their types, pick and make or claim one device,
 * find its group, give it back and tell when it is still busy (held open),
 * list the devices — is a backend below (device.c with mdev.c: mdevs;
 * sriov.c: VFs), reached through host.h.  Ledger, allocation, plan,
 * injection, hooks, CDI and the CLIs work with the data here, one code path
 * for both.
 *
 * A device has two names: `uuid`, the ledger's key (an mdev's UUID; for a VF
 * the UUID derived from its PCI address, pci.h, so one VF always has the one
 * id), and `name`, what the kernel calls it (the mdev's UUID, the
 * VF's PCI address: GROUP_GET_DEVICE_FD takes it, libvirt and KubeVirt name
 * it so). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "error.h"
#include "gvt.h"
#include "roots.h"

#define VGPU_UUID_LEN 36
#define VGPU_NAME_MAX 128 /* parent and type directory names */

typedef enum vgpu_backend_kind {
        VGPU_BACKEND_MDEV, /* GVT-g (and any vfio-mdev driver): records before backends had kinds */
        VGPU_BACKEND_VF,   /* SR-IOV VFs through vfio-pci */
        VGPU_BACKEND_N,
} vgpu_backend_kind_t;

/* "mdev", "vf": ledger records and JSON output spell the kinds so. */
static inline const char *
vgpu_backend_kind_name (vgpu_backend_kind_t kind)
{
        return kind == VGPU_BACKEND_VF ? "vf" : kind == VGPU_BACKEND_MDEV ? "mdev" : "unknown";
}

static inline int
vgpu_backend_kind_parse (const char *name, vgpu_backend_kind_t *ret)
{
        for (int k = 0; k < VGPU_BACKEND_N; k++)
                if (strcmp (name, vgpu_backend_kind_name ((vgpu_backend_kind_t) k)) == 0) {
                        *ret = (vgpu_backend_kind_t) k;
                        return 0;
                }
        return -EINVAL;
}

typedef struct vgpu_type {
        char id[VGPU_NAME_MAX];   /* directory name: i915-GVTg_V5_4; "vf" for VFs */
        char name[VGPU_NAME_MAX]; /* `name` attribute, "" when absent */
        char description[512];    /* newlines joined with ", " as mdevctl does */
        bool has_description;
        char device_api[32];
        unsigned available;
        unsigned active; /* entries in devices/; VFs under vfio-pci */
        vgpu_gvt_desc_t gvt;
        vgpu_backend_kind_t backend;
} vgpu_type_t;

typedef struct vgpu_parent {
        char name[VGPU_NAME_MAX]; /* 0000:00:02.0, mtty, ... */
        vgpu_type_t *types;
        size_t n_types;
        unsigned active; /* devices of all its types */
        vgpu_backend_kind_t backend;
} vgpu_parent_t;

typedef struct vgpu_host {
        vgpu_parent_t *parents;
        size_t n_parents;
} vgpu_host_t;

/* One vGPU device, an mdev or a VF (the type's name is from before VFs; it
 * stayed so the callers of the seam did not change). */
typedef struct vgpu_mdev {
        vgpu_backend_kind_t backend;
        char uuid[VGPU_UUID_LEN + 1]; /* the ledger's key */
        char name[VGPU_NAME_MAX];     /* the kernel's: the mdev's UUID, the VF's PCI address */
        char parent[VGPU_NAME_MAX];
        char type[VGPU_NAME_MAX];
        int group; /* IOMMU group with a VFIO node, -1 when the device has none */
        unsigned group_major, group_minor;
        int cdev; /* N of vfio-dev/vfioN with a dev file, -1 if none */
        unsigned cdev_major, cdev_minor;
} vgpu_mdev_t;

/* Says whether an id (a ledger key) is held already: a record has it. */
typedef bool (*vgpu_taken_fn) (const char *uuid, void *ctx);

typedef struct vgpu_backend {
        vgpu_backend_kind_t kind;
        /* Append this backend's parents, each with its types sorted by id. */
        int (*scan) (const vgpu_roots_t *roots, vgpu_host_t *host, vgpu_error_t *err);
        /* Choose the device the next make gets on parent (type), without
         * changing anything: ret's backend, uuid, name, parent and type.  An
         * mdev gets `uuid` (or a fresh one when NULL); a VF is a free one of
         * the PF whose id taken() does not know (-ENOSPC when none is). */
        int (*pick) (const vgpu_roots_t *roots, const char *parent, const char *type, const char *uuid,
                     vgpu_taken_fn taken, void *ctx, vgpu_mdev_t *ret, vgpu_error_t *err);
        /* Make (mdev) or claim (VF) the device pick chose, waiting up to
         * timeout_ms for its VFIO group; undone again on any failure.  ret
         * is filled on success only. */
        int (*make) (const vgpu_roots_t *roots, const vgpu_mdev_t *picked, unsigned timeout_ms, vgpu_mdev_t *ret,
                     vgpu_error_t *err);
        /* Resolve a device by its name; -ENOENT when it is not there (for a
         * VF: not under vfio-pci, nor leaving it). */
        int (*lookup) (const vgpu_roots_t *roots, const char *name, vgpu_mdev_t *ret, vgpu_error_t *err);
        /* Give a device back (remove the mdev; unbind the VF and hand it back
         * where its PF's config says), waiting at most timeout_ms: the kernel
         * blocks while a process holds the device open.  Busy: -ETIMEDOUT past
         * the bound, -EBUSY while an earlier give-back is still held up (its
         * group node still stands); 0 when it is gone already. */
        int (*give_back) (const vgpu_roots_t *roots, const char *name, unsigned timeout_ms, vgpu_error_t *err);
        /* Its devices with a VFIO group (every mdev; VFs under vfio-pci). */
        int (*list) (const vgpu_roots_t *roots, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err);
} vgpu_backend_t;
