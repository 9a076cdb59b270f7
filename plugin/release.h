/* release.h — giving vGPUs back: release, forced release, gc.
 *
 * Release marks the record releasing, drops the ledger lock for the bounded
 * remove (or unbind), and deletes the record once the device is gone.  An
 * allocation no stage ever bound (a precreate whose runtime create failed)
 * is reclaimed once it is older than unbound_after_s; a live container's
 * allocation is released only when forced, and then its nodes and device
 * access go first. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ledger.h"
#include "roots.h"

#define VGPU_RELEASE_TIMEOUT_MS 5000
#define VGPU_UNBOUND_AFTER_S 120 /* a runtime's create takes seconds: past this it failed */

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

/* Mark rec releasing, give its device back without the lock (the kernel may
 * block), and drop the record; on a timeout (-ETIMEDOUT, -EBUSY) the record
 * stays releasing for gc.  The lock is held on entry and on return. */
int vgpu_release_record (const vgpu_roots_t *roots, vgpu_ledger_t *l, vgpu_record_t *rec, unsigned timeout_ms,
                         vgpu_error_t *err);

/* Why gc (or an allocation that found no instance left) should reclaim rec
 * at time now, or NULL to keep it. */
const char *vgpu_stale_reason (const vgpu_roots_t *roots, const vgpu_record_t *rec, unsigned unbound_after_s,
                               long long now);

/* Under the lock: release what dead and never-started containers left; how
 * many. */
size_t vgpu_reclaim_stale (const vgpu_roots_t *roots, vgpu_ledger_t *l, unsigned unbound_after_s);
