/* alloc.h — allocation and release transactions over ledger + sysfs.
 *
 * One code path for every backend (backend.h, host.h): "mdev" below stands
 * for either kind of device, an mdev made or a VF claimed.  Allocation runs
 * under the ledger lock, so concurrent hooks never give one device to two
 * owners nor overshoot available instances.  The backend picks the device,
 * the record is written (state creating) before the kernel create or claim
 * and turned active after it, so a process killed between the two leaves a
 * record that gc reclaims.  Release marks the record releasing, drops the
 * lock for the bounded remove or unbind, and deletes the record once the
 * device is given back.
 *
 * Containers are owners by instance (ledger.h): a stage that knows the
 * container's pid binds the allocation to it; a new container with the id of
 * a dead one gets a fresh vGPU once the dead one's is reclaimed, and a second
 * live container with the same id is refused.  An allocation no stage ever
 * bound (a precreate whose runtime create failed) is reclaimed once it is
 * older than unbound_after_s; a live container's allocation is released only
 * when forced, and then its nodes and device access go first. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "device.h"
#include "error.h"
#include "host.h"
#include "ledger.h"
#include "mdev.h"
#include "policy.h"
#include "roots.h"

#define VGPU_CREATE_TIMEOUT_MS 5000
#define VGPU_RELEASE_TIMEOUT_MS 5000
#define VGPU_ALLOC_MAX 16
#define VGPU_UNBOUND_AFTER_S 120 /* a runtime's create takes seconds: past this it failed */

/* For release: a container or a vgpuctl owner with this id, the two kinds an
 * admin names with `vgpuctl release --owner`. */
#define VGPU_OWNER_BY_NAME VGPU_OWNER_KIND_N

typedef struct vgpu_owner_info {
        vgpu_owner_t owner;
        const char *request; /* what was asked ("auto" or a type id); NULL: the selector's type */
        const char *stage;
        pid_t pid;                /* container pid, 0 when not known (the allocation stays unbound) */
        unsigned unbound_after_s; /* 0: VGPU_UNBOUND_AFTER_S */
        const char *uuid;         /* the mdev's UUID (count 1: libvirt names it), NULL for a fresh one */
} vgpu_owner_info_t;

/* Give the owner count mdevs chosen by sel.  When the owner (for a
 * container: this instance) already holds allocations for the same request
 * they are returned instead (hooks may run twice; a later stage binds the
 * pid) and *ret_reused (may be NULL) is set, so a failing caller knows not to
 * release what an earlier stage made.  Errors: -EEXIST when another live
 * container has the id; -ENOSPC when no instance is left even after
 * reclaiming what dead and never-started containers left.  A UUID chosen by
 * the caller (who->uuid) is refused with -EEXIST while any mdev or ledger
 * record has it, and so is an owner that holds another mdev. */
int vgpu_allocate (const vgpu_roots_t *roots, const vgpu_selector_t *sel, const vgpu_owner_info_t *who, size_t count,
                   vgpu_mdev_t *ret, size_t *ret_n, bool *ret_reused, vgpu_error_t *err);

typedef enum vgpu_release_mode {
        VGPU_RELEASE_STOPPED,  /* poststop: only what no live process holds; a live one is left, silently */
        VGPU_RELEASE_ADMIN,    /* a live container's allocation is refused with -EBUSY */
        VGPU_RELEASE_FORCE,    /* a live container first loses the nodes and its device access to them */
        VGPU_RELEASE_ROLLBACK, /* what the caller itself just made and failed to hand over */
} vgpu_release_mode_t;

/* Release what owner holds (0 when nothing: idempotent).  -ETIMEDOUT when a
 * remove stayed blocked past timeout_ms: the record is left releasing for gc.
 * ret_n (may be NULL) counts mdevs removed. */
int vgpu_release_owner (const vgpu_roots_t *roots, const vgpu_owner_t *owner, vgpu_release_mode_t mode,
                        unsigned timeout_ms, size_t *ret_n, vgpu_error_t *err);

/* Release one device by its ledger id, or a VF by its PCI address; refuses
 * (-EPERM) one the ledger does not own. */
int vgpu_release_uuid (const vgpu_roots_t *roots, const char *uuid, vgpu_release_mode_t mode, unsigned timeout_ms,
                       vgpu_error_t *err);

typedef struct vgpu_gc_action {
        char uuid[VGPU_UUID_LEN + 1];
        char device[VGPU_NAME_MAX]; /* the device's kernel name (a VF's address), "" when unknown */
        char owner[VGPU_OWNER_DISPLAY_MAX];
        const char *reason; /* "container gone", "releasing", "allocation interrupted", ... */
        int result;         /* 0 or negative errno */
        bool mdev_left;     /* a ledger entry dealt with, its mdev untouched */
        char message[256];  /* error sentence when result < 0 */
} vgpu_gc_action_t;

/* Why gc would reclaim rec now ("container gone", "release pending", ...,
 * with the default unbound bound), or NULL when it is a live allocation. */
const char *vgpu_gc_reason (const vgpu_roots_t *roots, const vgpu_record_t *rec);

/* Reclaim allocations whose owner is gone or stuck, and container
 * allocations never bound within unbound_after_s (0: VGPU_UNBOUND_AFTER_S);
 * never touches an mdev that is not in the ledger, nor one a live container
 * holds.  Ledger entries that are no regular file are removed, their mdevs
 * left alone. */
int vgpu_gc (const vgpu_roots_t *roots, unsigned timeout_ms, unsigned unbound_after_s, vgpu_gc_action_t **ret,
             size_t *ret_n, vgpu_error_t *err);

/* Every ledger record, for `vgpuctl list`; an unreadable record (or an entry
 * that is no regular file) comes as state VGPU_RECORD_CORRUPT with only its
 * uuid, so it is never shown as owned by anyone nor as foreign. */
int vgpu_ledger_snapshot (const vgpu_roots_t *roots, vgpu_record_t **ret, size_t *ret_n, vgpu_error_t *err);
