/* vfio.h — what sysfs says about a device's VFIO side, for both backends.
 *
 * The names sysfs links point at (a device's parent, type, driver, physfn),
 * validated before they become path components; a device's IOMMU group with
 * the numbers of its VFIO group node (class/vfio/<group>/dev); and its VFIO
 * cdev (vfio-dev/vfioN/dev) where the kernel has one. */
#pragma once

#include <stddef.h>

#include "backend.h"
#include "error.h"

/* The name a link of dirfd points at (up = 0), or of the directory holding
 * that (up = 1: a device links to .../<parent>/<uuid>), if it is a valid
 * name (mdev.h); -EINVAL otherwise, -ENOENT without the link. */
int vgpu_sysfs_link_name (int dirfd, const char *path, int up, char *buf, size_t size);

/* m->group and its node's numbers from the device directory devfd (under the
 * sysfs root fd root): -1 when the device has no IOMMU group or the group has
 * no VFIO node (yet, or any more).  Errors name the device as `what`. */
int vgpu_vfio_group (int root, int devfd, const char *what, vgpu_mdev_t *m, vgpu_error_t *err);

/* m->cdev and its numbers, -1 when the device has no VFIO cdev. */
void vgpu_vfio_cdev (int devfd, vgpu_mdev_t *m);
