/* alloc.h — allocation transactions over ledger + sysfs.
 *
 * Allocation serialises on the ledger lock where two allocations could
 * collide — the owner's records and the record writes — and not across the
 * pick nor the kernel's create: the record is written (state creating)
 * before the create and turned active after it, so a process killed between
 * the two leaves a record that gc reclaims, and the kernel's ENOSPC judges a
 * race for the last instance.
 *
 * Containers are owners by instance (record.h): a stage that knows the
 * container's pid binds the allocation to it; a new container with the id of
 * a dead one gets a fresh vGPU once the dead one's is reclaimed, and a second
 * live container with the same id is refused.  Giving back is release.h's. */
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
#include "release.h"
#include "roots.h"

#define VGPU_CREATE_TIMEOUT_MS 5000
#define VGPU_ALLOC_MAX 16

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
