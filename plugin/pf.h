/* pf.h — SR-IOV PFs: the config that names them, which ones the host
 * offers VFs of, and enabling or disabling their VFs.
 *
 * The PFs are the ones the SR-IOV config names, or, when it names none,
 * every Intel display-class PF (vendor 0x8086, class 0x03xxxx) with
 * sriov_totalvfs > 0.  The config, /etc/vgpu-toolkit/sriov.json
 * (VGPU_SRIOV_CONFIG names another file, for tests; the hook takes it from
 * its own environment, never the container's), every key optional:
 *
 *   { "pfs": [ { "address": "0000:00:02.0", "return_driver": "i915" } ] }
 *
 * return_driver: the driver a given-back VF goes to (sriov.h), or "none" to
 * leave it unbound; without it, the PF's own driver when the PF's
 * sriov_drivers_autoprobe is 1 (where a newly enabled VF goes), else none.
 * How many VFs a PF has is read from its virtfnN links: the kernel reads
 * sriov_numvfs under the device lock, which a disable holds for as long as
 * a VF's holder keeps it open. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "backend.h"
#include "error.h"
#include "pci.h"
#include "roots.h"

#define VGPU_SRIOV_CONFIG "/etc/vgpu-toolkit/sriov.json"
#define VGPU_SRIOV_CONFIG_ENV "VGPU_SRIOV_CONFIG"
#define VGPU_SRIOV_MAX_PFS 64
#define VGPU_SRIOV_NONE "none"

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

/* What a PF is, as the VF backend, vgpuctl sriov and doctor need it. */
typedef struct vgpu_sriov_pf {
        char address[VGPU_PCI_ADDR_LEN + 1];
        char driver[VGPU_NAME_MAX]; /* "" when unbound */
        unsigned vendor, device, class;
        unsigned totalvfs, numvfs; /* numvfs: its virtfnN links */
        bool autoprobe;
        bool configured; /* the config names it */
} vgpu_sriov_pf_t;

/* The PF at a (valid) address under the sysfs root fd root: -ENOENT when
 * absent, -ENOTTY when it has no SR-IOV, -EINVAL when its ids do not read. */
int vgpu_sriov_pf_read (int root, const char *addr, vgpu_sriov_pf_t *ret);

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
