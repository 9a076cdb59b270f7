/* cdi-pool.h — the pool of pre-made mdevs a spec names one by one.
 *
 * Pool mdevs belong to ledger owners cdi-pool.<index>, one mdev each, so the
 * index that names a device stays the mdev's for its life and the pool grows
 * or shrinks without touching the members it keeps; with --persist they get
 * mdevctl definitions. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cdi-spec.h"
#include "device.h"
#include "error.h"
#include "ledger.h"

typedef struct vgpu_cdi_pool_req {
        char type[VGPU_NAME_MAX]; /* a type id or "auto" */
        unsigned count;           /* 1..VGPU_CDI_POOL_MAX */
} vgpu_cdi_pool_req_t;

typedef struct vgpu_cdi_member {
        unsigned index; /* its device name; the ledger owner is cdi-pool.<index> */
        vgpu_mdev_t mdev;
} vgpu_cdi_member_t;

typedef struct vgpu_cdi_pool {
        vgpu_cdi_member_t *m; /* free() it */
        size_t n;
} vgpu_cdi_pool_t;

/* The scope of the pool a spec file names: its absolute path ("-": stdout). */
int vgpu_cdi_pool_scope (const char *path, char ret[VGPU_SCOPE_MAX + 1], vgpu_error_t *err);

/* "TYPE=COUNT" (as --pool takes it); -EINVAL / -ERANGE. */
int vgpu_cdi_pool_req_parse (const char *s, vgpu_cdi_pool_req_t *ret);

/* sync makes the pool exactly reqs (`auto` resolved now, counts
 * merged per type): it allocates what is missing first, and a failure there
 * rolls that back and changes nothing; then it releases the members not
 * wanted (a failure there goes to release_err, the pool is still right) and,
 * with o->persist, writes the members' mdevctl definitions.  adopt takes the
 * active mdevs with a VFIO group that the pool owns or that the ledger does
 * not know (made by mdevctl or by hand); container and claim mdevs stay
 * theirs, and adopted mdevs are never released by vgpu-cdi. */
int vgpu_cdi_pool_sync (const vgpu_cdi_opts_t *o, const char *scope, const vgpu_cdi_pool_req_t *reqs, size_t n_reqs,
                        vgpu_cdi_pool_t *pool, vgpu_error_t *release_err, vgpu_error_t *err);
int vgpu_cdi_pool_adopt (const vgpu_cdi_opts_t *o, const char *scope, vgpu_cdi_pool_t *pool, vgpu_error_t *err);

/* Release the pool mdevs (ledger owner cdi-pool.*) that old names and keep
 * (may be NULL) does not, with their mdevctl definitions: a spec replaced or
 * removed leaves no pool mdev that no spec names. */
int vgpu_cdi_pool_release_named (const vgpu_cdi_opts_t *o, const char *scope, const vgpu_cdi_spec_t *old,
                                 const vgpu_cdi_spec_t *keep, vgpu_error_t *err);

/* remove: the spec file, and the pool mdevs it names that the ledger holds
 * for the pool (with their mdevctl definitions). */
int vgpu_cdi_remove (const vgpu_cdi_opts_t *o, const char *path, vgpu_error_t *err);
