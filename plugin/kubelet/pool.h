/* pool.h — the devices of pool mode: pre-made mdevs, one device each, the
 * mdev's UUID its id.
 *
 * Members are the mdevs the plugin made (ledger owners from
 * vgpu_kpool_owner, one mdev each; the ledger is where a restarted plugin
 * finds them again, so it offers the same ids and makes nothing twice) and,
 * with adopt, the mdevs the admin made: those a vgpu-cdi pool spec in
 * cdi-dir names by UUID, and those with an mdevctl definition that the
 * ledger does not know.  When a GPU is first seen the plugin makes its
 * members up to pool-size (all: as many as it holds then); a member of its
 * own whose mdev went (with its GPU, or removed by hand) is made again
 * with the same UUID once the GPU is back.  A member whose mdev, group or
 * GPU is gone is Unhealthy. */
#pragma once

#include <stddef.h>

#include "cdinames.h"
#include "devices.h"
#include "ledger.h"
#include "mdev.h"
#include "options.h"

typedef struct vgpu_kpool {
        char (*seen)[VGPU_NAME_MAX]; /* GPUs already filled */
        size_t n_seen;
        char (*notes)[2 * VGPU_ERROR_MAX + VGPU_NAME_MAX]; /* key NUL text: what was last logged per member or GPU */
        size_t n_notes;
} vgpu_kpool_t;

/* The ledger owner of the plugin's member `index` for resource: a node
 * agent's owner (kind vgpuctl, as `vgpuctl allocate --owner` makes them)
 * named "vgpu-device-plugin.<resource with / as _>.<index>" — the one place
 * it is built.  -ENAMETOOLONG when it would not be a valid owner. */
int vgpu_kpool_owner (const char *resource, unsigned index, vgpu_owner_t *ret);

/* Make what is missing, make again what went, adopt; the device list. */
int vgpu_kpool_scan (vgpu_kpool_t *p, const vgpu_kopts_t *o, const vgpu_host_t *host, const vgpu_kcdi_t *cdi,
                     const vgpu_klog_t *log, vgpu_kdevs_t *ret, vgpu_error_t *err);
void vgpu_kpool_done (vgpu_kpool_t *p);
