/* vfs.h — enabling and disabling a PF's VFs (`vgpuctl sriov`), under the
 * ledger's rules.
 *
 * How many VFs a PF has is the admin's call, never an allocation's.  A
 * disable is refused while the ledger holds any VF of the PF (in whatever
 * state: a container has it, or its give-back is pending), and while a VF is
 * under vfio-pci for someone else, who would block the kernel's disable for
 * as long as they keep it open.  Both run under the ledger lock, so no
 * allocation claims a VF of the PF meanwhile. */
#pragma once

#include "error.h"
#include "roots.h"

#define VGPU_SRIOV_TIMEOUT_MS 10000 /* a disable takes about 1 s (a fixed sleep in the kernel) */

int vgpu_vfs_enable (const vgpu_roots_t *roots, const char *pf, unsigned n, unsigned timeout_ms, vgpu_error_t *err);
int vgpu_vfs_disable (const vgpu_roots_t *roots, const char *pf, unsigned timeout_ms, vgpu_error_t *err);
