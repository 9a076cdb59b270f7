/* answer.h — what the plugin answers for the ids the kubelet asks for.
 *
 * Allocate, dynamic mode: the CDI name of the type's dynamic device
 * (kind=<type>), one per container, as the hook makes one mdev for it when
 * the container is created; refused while no spec in cdi-dir has the name,
 * or the container would fail later, in the runtime.  Pool mode: the mdevs'
 * VFIO nodes as device specs (host path under the dev root, checked to be
 * the char device sysfs names; cgroup "rw"), the environment plan.h builds
 * (with KubeVirt's MDEV_PCI_RESOURCE_<RESOURCE> for the resource served),
 * and the CDI name of each mdev a spec names, for runtimes with CDI.
 * GetPreferredAllocation: the ids that must be in, then one at a time from
 * the GPU given the fewest so far (ties: most left, then id order). */
#pragma once

#include <limits.h>
#include <stddef.h>

#include "alloc.h"
#include "cdinames.h"
#include "devices.h"
#include "options.h"
#include "plan.h"

typedef struct vgpu_kspec {
        char container_path[64];
        char host_path[PATH_MAX + 64];
} vgpu_kspec_t;

typedef struct vgpu_kanswer {
        vgpu_kspec_t devices[VGPU_PLAN_MAX_NODES];
        size_t n_devices;
        char env[VGPU_PLAN_MAX_ENV][1024]; /* NAME=value */
        size_t n_env;
        char cdi[VGPU_ALLOC_MAX][VGPU_KUBELET_RESOURCE_MAX + 1 + VGPU_KCDI_NAME_MAX]; /* kind=name */
        size_t n_cdi;
} vgpu_kanswer_t;

/* The answer for one container's ids.  -EINVAL (an id not offered, twice,
 * or more than dynamic mode gives), -ENODEV (Unhealthy, its mdev went
 * since the last scan, its node is not what sysfs says), -ENOENT (no CDI
 * spec has the dynamic name, or a node is missing). */
int vgpu_kanswer_allocate (const vgpu_kopts_t *o, const vgpu_kdevs_t *devs, const char *const *ids, size_t n,
                           vgpu_kanswer_t *ret, vgpu_error_t *err);

/* size ids out of avail, must first, into ret (size entries, pointing at
 * the caller's strings); *ret_n may be less when avail is short. */
int vgpu_kanswer_prefer (const vgpu_kdevs_t *devs, const char *const *avail, size_t n_avail, const char *const *must,
                         size_t n_must, size_t size, const char **ret, size_t *ret_n, vgpu_error_t *err);
