/* vfs.c — see vfs.h. */
#include "vfs.h"

#include <stdio.h>
#include <string.h>

#include "host.h"
#include "ledger.h"
#include "pci.h"
#include "pf.h"
#include "sriov.h"
#include "util.h"

/* -EBUSY naming the first VF of pf the ledger holds, or one under vfio-pci
 * for someone else. */
static int
check_unheld (const vgpu_roots_t *roots, vgpu_ledger_t *l, const char *pf, vgpu_error_t *err)
{
        _cleanup_free_ vgpu_record_t *recs = NULL;
        _cleanup_free_ vgpu_mdev_t *held = NULL;
        char who[VGPU_OWNER_DISPLAY_MAX];
        size_t n = 0, n_held = 0;
        int r = vgpu_ledger_list (l, &recs, &n, NULL, NULL, NULL, NULL, err);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (recs[i].backend == VGPU_BACKEND_VF && strcmp (recs[i].parent, pf) == 0)
                        return vgpu_error_set (err, EBUSY,
                                               "PF %s: VF %s is held by %s (state %s): release it first (`vgpuctl "
                                               "release`, or end its container)",
                                               pf, recs[i].device, vgpu_owner_display (&recs[i].owner, who),
                                               vgpu_record_state_name (recs[i].state));
        r = vgpu_sriov_held (roots, pf, &held, &n_held, err);
        if (r < 0)
                return r;
        if (n_held)
                return vgpu_error_set (err, EBUSY,
                                       "PF %s: VF %s is under vfio-pci for someone else (not in the ledger): the "
                                       "kernel's disable would wait until they let it go",
                                       pf, held[0].name);
        return 0;
}

static int
set (const vgpu_roots_t *roots, const char *pf_in, unsigned n, unsigned timeout_ms, vgpu_error_t *err)
{
        _cleanup_ledger_ vgpu_ledger_t l = { -1, -1 };
        char pf[VGPU_PCI_ADDR_LEN + 1];
        int r;

        r = vgpu_pci_addr_normalise (pf_in, "PF", pf, err);
        if (r == 0)
                r = vgpu_ledger_open (roots, &l, err);
        if (r == 0 && n == 0)
                r = check_unheld (roots, &l, pf, err);
        if (r < 0)
                return r;
        return vgpu_sriov_set_numvfs (roots, pf, n, timeout_ms, err);
}

int
vgpu_vfs_enable (const vgpu_roots_t *roots, const char *pf, unsigned n, unsigned timeout_ms, vgpu_error_t *err)
{
        if (n == 0)
                return vgpu_error_set (err, EINVAL, "enable wants 1 or more VFs (disable sets 0)");
        return set (roots, pf, n, timeout_ms, err);
}

int
vgpu_vfs_disable (const vgpu_roots_t *roots, const char *pf, unsigned timeout_ms, vgpu_error_t *err)
{
        return set (roots, pf, 0, timeout_ms, err);
}
