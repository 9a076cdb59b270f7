/* plan.h — what a container gets, computed as data before anything is applied.
 *
 * From the allocated devices, mdevs and VFs alike: the device nodes
 * (/dev/vfio/vfio, /dev/vfio/<group>, the VFIO cdev and /dev/iommu where the
 * kernel has one) with their numbers as read from sysfs, and the environment:
 * VGPU_MDEV_UUID, VGPU_MDEV_TYPE, VGPU_MDEV_PARENT and KubeVirt's
 * MDEV_PCI_RESOURCE_INTEL_COM_VGPU for mdevs; VGPU_VF_ADDRESS, VGPU_VF_PF and
 * KubeVirt's PCI_RESOURCE_INTEL_COM_VGPU for VFs; VGPU_IOMMU_GROUP for all.  Stages apply a plan: precreate edits
 * config.json, createRuntime mknods + allows in the cgroup, CDI writes specs. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "device.h"
#include "roots.h"

/* The VFIO container node, misc 10:196, the same on every kernel. */
#define VGPU_VFIO_CONTAINER_PATH "/dev/vfio/vfio"
#define VGPU_VFIO_CONTAINER_MAJOR 10
#define VGPU_VFIO_CONTAINER_MINOR 196

#define VGPU_PLAN_MAX_NODES 32
#define VGPU_PLAN_MAX_ENV 10

typedef struct vgpu_node {
        char path[64]; /* absolute container path: /dev/vfio/12 */
        unsigned major, minor;
        mode_t mode; /* permission bits, e.g. 0666 */
} vgpu_node_t;

typedef struct vgpu_plan {
        vgpu_node_t nodes[VGPU_PLAN_MAX_NODES];
        size_t n_nodes;
        char env[VGPU_PLAN_MAX_ENV][1024]; /* "NAME=value" */
        size_t n_env;
} vgpu_plan_t;

/* Build the plan for n mdevs (n >= 1; several for CDI claims with a count:
 * env values become comma-separated lists).  On failure ret is an empty
 * plan. */
int vgpu_plan_build (const vgpu_roots_t *roots, const vgpu_mdev_t *mdevs, size_t n, vgpu_plan_t *ret,
                     vgpu_error_t *err);

/* A plan of the VFIO container node alone: all a CDI device can name before
 * its mdev exists (the hook adds the group node when it makes the mdev). */
void vgpu_plan_vfio_container (vgpu_plan_t *ret);
