/* alloc.h — allocation and release transactions over ledger + sysfs.
 *
 * Allocation runs under the ledger lock, so concurrent hooks never give one
 * mdev to two owners nor overshoot available instances.  The record is
 * written (state creating) before the kernel create and turned active after
 * it, so a process killed between the two leaves a record that gc reclaims.
 * Release marks the record releasing, drops the lock for the bounded remove,
 * and deletes the record once the device is gone. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "ledger.h"
#include "device.h"
#include "mdev.h"
#include "policy.h"
#include "roots.h"

#define VGPU_CREATE_TIMEOUT_MS 5000
#define VGPU_RELEASE_TIMEOUT_MS 5000
#define VGPU_ALLOC_MAX 16

typedef struct vgpu_owner_info {
        const char *owner; /* container id, claim id, vgpuctl --owner */
        const char *stage;
        pid_t pid; /* container pid, 0 when not known */
} vgpu_owner_info_t;

/* Give `owner` count mdevs chosen by sel.  When the owner already holds
 * allocations they are returned instead (hooks may run twice) and
 * *ret_reused (may be NULL) is set, so a failing caller knows not to
 * release what an earlier stage made. */
int vgpu_allocate (const vgpu_roots_t *roots, const vgpu_selector_t *sel, const vgpu_owner_info_t *who, size_t count,
                   vgpu_mdev_t *ret, size_t *ret_n, bool *ret_reused, vgpu_error_t *err);

/* Release everything owner holds (0 when nothing: idempotent).  -ETIMEDOUT
 * when a remove stayed blocked past timeout_ms: the record is left releasing
 * for gc.  ret_n (may be NULL) counts mdevs removed. */
int vgpu_release_owner (const vgpu_roots_t *roots, const char *owner, unsigned timeout_ms, size_t *ret_n,
                        vgpu_error_t *err);

/* Release one mdev by uuid; refuses (-EPERM) one the ledger does not own. */
int vgpu_release_uuid (const vgpu_roots_t *roots, const char *uuid, unsigned timeout_ms, vgpu_error_t *err);

typedef struct vgpu_gc_action {
        char uuid[VGPU_UUID_LEN + 1];
        char owner[VGPU_OWNER_MAX + 1];
        const char *reason; /* "container gone", "releasing", "allocation interrupted", ... */
        int result;         /* 0 or negative errno */
        char message[256];  /* error sentence when result < 0 */
} vgpu_gc_action_t;

/* Reclaim allocations whose owner is gone or stuck; never touches an mdev
 * that is not in the ledger. */
int vgpu_gc (const vgpu_roots_t *roots, unsigned timeout_ms, vgpu_gc_action_t **ret, size_t *ret_n, vgpu_error_t *err);

/* Every ledger record, for `vgpuctl list`; an unreadable record comes as
 * state VGPU_RECORD_CORRUPT with only its uuid, so it is never shown as
 * owned by anyone nor as foreign. */
int vgpu_ledger_snapshot (const vgpu_roots_t *roots, vgpu_record_t **ret, size_t *ret_n, vgpu_error_t *err);
