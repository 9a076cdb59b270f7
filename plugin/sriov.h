/* sriov.h — SR-IOV virtual functions through vfio-pci: the second backend.
 *
 * Parents are the PFs pf.h offers, each with type `vf`, whose available
 * instances are its enabled VFs that nobody holds: not under vfio-pci, not
 * leaving it, no driver_override set.  Claim (make): driver_override =
 * vfio-pci, unbind from the driver that has it, drivers_probe, wait for the
 * VFIO group.  Give back: unbind from vfio-pci (it blocks while the device
 * is open: bounded), driver_override cleared, the VF handed to its PF's
 * return driver (pf.h) or left unbound.  A VF under vfio-pci that the
 * ledger does not name is someone else's and is never taken.
 * driver_override of a VF leaving vfio-pci is never read: the kernel holds
 * the device lock for as long as its holder keeps it open, and the read
 * would wait with it. */
#pragma once

#include <stddef.h>

#include "backend.h"
#include "error.h"
#include "roots.h"

#define VGPU_VF_TYPE "vf"

extern const vgpu_backend_t vgpu_backend_vf;

/* The VFs of a PF under vfio-pci or leaving it (each resolved), for
 * vgpuctl sriov disable to tell its own from someone else's. */
int vgpu_sriov_held (const vgpu_roots_t *roots, const char *pf, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err);
