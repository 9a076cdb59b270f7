/* policy.h — which parent and type a request gets.
 *
 * An exact type id, or `auto`: among types that meet the minimum resolution
 * (default 1920x1200; a VF meets any) take the one with most available
 * instances, least-loaded parent first (the seed procedure's reasoning).
 * vgpu_select is pure code over a scanned vgpu_host_t, so it is unit-tested
 * without sysfs; vgpu_choose scans only what a request needs and then
 * selects. */
#pragma once

#include "error.h"
#include "backend.h"

#define VGPU_DEFAULT_MIN_W 1920
#define VGPU_DEFAULT_MIN_H 1200

typedef struct vgpu_selector {
        const char *type;      /* type id or "auto" */
        const char *parent;    /* NULL or "" = any parent */
        unsigned min_w, min_h; /* 0 = default (auto only) */
} vgpu_selector_t;

typedef struct vgpu_choice {
        const vgpu_parent_t *parent;
        const vgpu_type_t *type;
} vgpu_choice_t;

/* Pick a parent and type with an instance left.  Errors: ENOENT (no parent
 * at all, pointing at `vgpuctl doctor`; unknown type or parent), ENOSPC ("no
 * instance of TYPE left on PARENT (0 available)"). */
int vgpu_select (const vgpu_host_t *host, const vgpu_selector_t *sel, vgpu_choice_t *ret, vgpu_error_t *err);

/* 0 when the host offers the type (on parent, if given) or `auto` has a type
 * to pick, even with no instance left right now; the ENOENT of vgpu_select
 * otherwise.  A spec or a pool may name such a type: an instance may free
 * up before a container asks. */
int vgpu_type_offered (const vgpu_host_t *host, const char *type, const char *parent, vgpu_error_t *err);

/* Scan what sel needs, then vgpu_select, with the result a scan of the
 * whole host would give: a named mdev type reads that type's
 * available_instances on the parents sel allows and nothing of any other type
 * (nor any VF); `auto` reads each mdev type's description (once a process)
 * and available_instances, and the VFs; the parents' loads (their mdevs) are
 * read only when more than one parent could give it.  A type not offered
 * where asked reads which parents offer it, for the message.  *host holds what was
 * read and the choice points into it; the caller frees it with
 * vgpu_host_free, on failure too.  Errors as vgpu_select's. */
int vgpu_choose (const vgpu_roots_t *roots, const vgpu_selector_t *sel, vgpu_host_t *host, vgpu_choice_t *ret,
                 vgpu_error_t *err);
