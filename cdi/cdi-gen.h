/* cdi-gen.h — what a spec holds, from the host: generate, list, check.
 *
 * Dynamic devices, one per type and `auto`, whose hook makes the mdev with the
 * container; or the pool's devices (cdi-pool.h).  list prints a spec's names;
 * check says whether it still matches the host. */
#pragma once

#include <stdio.h>

#include "cdi-pool.h"
#include "cdi-spec.h"
#include "error.h"
#include "mdev.h"

typedef enum vgpu_cdi_mode {
        VGPU_CDI_DYNAMIC,    /* one device per type and `auto`, the hook allocates */
        VGPU_CDI_POOL,       /* the pool is made exactly reqs */
        VGPU_CDI_POOL_ADOPT, /* the pool is the active mdevs no container or claim owns */
} vgpu_cdi_mode_t;

/* 0 when the host offers the type (vgpu_type_offered after a scan); ENOENT
 * otherwise. */
int vgpu_cdi_type_known (const vgpu_roots_t *roots, const char *type, const char *parent, vgpu_error_t *err);

/* Dynamic devices for a scanned host (pure): one per type id, sorted, and
 * `auto` when some type meets the default minimum resolution. */
int vgpu_cdi_dynamic (const vgpu_host_t *host, vgpu_cdi_spec_t *spec, vgpu_error_t *err);

/* generate: build the spec for the mode (making and releasing pool mdevs)
 * and write it to path, or to out when path is "-"; pool mdevs the spec it
 * replaces named and it does not are released.  The pool is one per host. */
int vgpu_cdi_generate (const vgpu_cdi_opts_t *o, vgpu_cdi_mode_t mode, const vgpu_cdi_pool_req_t *reqs, size_t n_reqs,
                       const char *path, FILE *out, vgpu_error_t *err);

/* list: the fully qualified names in the spec at path, one a line. */
int vgpu_cdi_list (const char *path, FILE *out, vgpu_error_t *err);

/* check: whether the spec at path still matches the host: every type a
 * dynamic device names exists and every type has a device, the hook is
 * executable, every mdev a fixed device names is alive with the same group
 * node.  Prints one line per finding; -ESTALE when there is any. */
int vgpu_cdi_check (const vgpu_cdi_opts_t *o, const char *path, FILE *out, vgpu_error_t *err);
