/* sriov.h — SR-IOV virtual functions through vfio-pci: the second backend.
 *
 * Parents are PFs: the ones the SR-IOV config names, or, when it names
 * none, every Intel display-class PF (vendor 0x8086, class 0x03xxxx) with
 * sriov_totalvfs > 0.  Each offers type `vf`, whose available instances are
 * its enabled VFs that nobody holds: not under vfio-pci, not leaving it, no
 * driver_override set.  Claim (make): driver_override = vfio-pci, unbind from
 * the driver that has it, drivers_probe, wait for the VFIO group.  Give back:
 * unbind from vfio-pci (it blocks while the device is open: bounded),
 * driver_override cleared, the VF handed to the return driver or left
 * unbound.  A VF under vfio-pci that the ledger does not name is someone
 * else's and is never taken.  driver_override of a VF leaving vfio-pci is
 * never read: the kernel holds the device lock for as long as its holder
 * keeps it open, and the read would wait with it.
 *
 * The SR-IOV config, /etc/vgpu-toolkit/sriov.json (VGPU_SRIOV_CONFIG names
 * another file, for tests; the hook takes it from its own environment, never
 * the container's), every key optional:
 *
 *   { "pfs": [ { "address": "0000:00:02.0", "return_driver": "i915" } ] }
 *
 * return_driver: the driver a given-back VF goes to, or "none" to leave it
 * unbound; without it, the PF's own driver when the PF's
 * sriov_drivers_autoprobe is 1 (where a newly enabled VF goes), else none. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "error.h"
#include "pci.h"
#include "roots.h"

#define VGPU_VF_TYPE "vf"
#define VGPU_SRIOV_CONFIG "/etc/vgpu-toolkit/sriov.json"
#define VGPU_SRIOV_CONFIG_ENV "VGPU_SRIOV_CONFIG"
#define VGPU_SRIOV_MAX_PFS 64
#define VGPU_SRIOV_NONE "none"

extern const vgpu_backend_t vgpu_backend_vf;

typedef struct vgpu_sriov_pf_conf {
        char address[VGPU_PCI_ADDR_LEN + 1];
        char return_driver[VGPU_NAME_MAX]; /* a driver, "none", or "" for the default */
} vgpu_sriov_pf_conf_t;

typedef struct vgpu_sriov_conf {
        char path[4096];
        bool present; /* the file exists */
        vgpu_sriov_pf_conf_t pfs[VGPU_SRIOV_MAX_PFS];
        size_t n_pfs;
} vgpu_sriov_conf_t;

/* The config's text (pure; unit-tested): errors name the field and value. */
int vgpu_sriov_conf_parse (const char *text, size_t len, vgpu_sriov_conf_t *ret, vgpu_error_t *err);

/* The config from its file (VGPU_SRIOV_CONFIG or the default); a missing
 * file is an empty config, not an error. */
int vgpu_sriov_conf_load (vgpu_sriov_conf_t *ret, vgpu_error_t *err);

/* What a PF is, as vgpuctl sriov and doctor need it. */
typedef struct vgpu_sriov_pf {
        char address[VGPU_PCI_ADDR_LEN + 1];
        char driver[VGPU_NAME_MAX]; /* "" when unbound */
        unsigned vendor, device, class;
        unsigned totalvfs, numvfs; /* numvfs: its virtfnN links */
        bool autoprobe;
        bool configured; /* the config names it */
} vgpu_sriov_pf_t;

/* The PFs this host offers VFs of (the parents), sorted by address; a PF
 * the config names that is not in sysfs, or is no SR-IOV PF, is an error
 * when strict (doctor, vgpuctl sriov), skipped otherwise. */
int vgpu_sriov_pfs (const vgpu_roots_t *roots, bool strict, vgpu_sriov_pf_t **ret, size_t *ret_n, vgpu_error_t *err);

/* Write n to the PF's sriov_numvfs (0 disables), bounded by timeout_ms (a
 * disable waits on VFs a process holds).  The PF must be one of
 * vgpu_sriov_pfs; enabling a number while another is enabled is refused
 * (the kernel wants 0 first).  Nothing here looks at the ledger: vfs.h does. */
int vgpu_sriov_set_numvfs (const vgpu_roots_t *roots, const char *pf, unsigned n, unsigned timeout_ms,
                           vgpu_error_t *err);

/* The VFs of a PF under vfio-pci or leaving it (each resolved), for
 * vgpuctl sriov disable to tell its own from someone else's. */
int vgpu_sriov_held (const vgpu_roots_t *roots, const char *pf, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err);
