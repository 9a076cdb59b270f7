/* cdi-spec.h — a Container Device Interface spec for the vGPUs, as data.
 *
 * Owns the spec (kind, devices, each with its nodes, env and the type its
 * hook allocates), its JSON in the spellings of the CDI reference library
 * (whose parser is strict), the lowest cdiVersion the fields need, reading a
 * spec back, the CDI name rules with the mapping of type ids to device names,
 * atomic write and removal of spec files (mdevctl's definitions are
 * plugin/mdevctl.h's).  What goes into a spec is cdi-gen.c's, cdi-pool.c's and cdi-claim.c's. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cdi-name.h"
#include "error.h"
#include "mdev.h"
#include "mdevctl.h"
#include "plan.h"
#include "roots.h"

#define VGPU_CDI_SPEC_DIR "/var/run/cdi"
#define VGPU_CDI_MDEVCTL_DIR VGPU_MDEVCTL_DIR
#define VGPU_CDI_CLAIM_MAX 118   /* "cdi-claim." + id is a ledger owner */
#define VGPU_CDI_POOL_MAX 64     /* mdevs per type in one pool request */
#define VGPU_CDI_HOOK_TIMEOUT 30 /* seconds; create and release are bounded below it */

typedef struct vgpu_cdi_device {
        char name[VGPU_CDI_NAME_MAX];
        char type[VGPU_NAME_MAX]; /* dynamic: the type its hook allocates ("auto" too); "" for fixed nodes */
        vgpu_plan_t plan;         /* nodes and env; a dynamic device has /dev/vfio/vfio only */
} vgpu_cdi_device_t;

typedef struct vgpu_cdi_spec {
        char kind[VGPU_CDI_KIND_MAX + 1];
        char hook_path[PATH_MAX]; /* vgpu-hook for dynamic devices */
        vgpu_roots_t roots;       /* handed to the hook where they differ from the defaults */
        vgpu_cdi_device_t *devices;
        size_t n_devices;
} vgpu_cdi_spec_t;

/* Where specs, their hook and their mdevs live: the context every spec
 * operation takes. */
typedef struct vgpu_cdi_opts {
        vgpu_roots_t roots;
        const char *kind;        /* VGPU_CDI_KIND */
        const char *hook_path;   /* absolute */
        const char *spec_dir;    /* VGPU_CDI_SPEC_DIR: claims' transient specs */
        const char *mdevctl_dir; /* VGPU_CDI_MDEVCTL_DIR */
        bool persist;            /* pool: write mdevctl definitions */
} vgpu_cdi_opts_t;

/* --- names --- */

/* Device name for a type id.  An id that is a valid name without ':' is used
 * as is; otherwise every byte outside [A-Za-z0-9_.-], every ':', and a first
 * or last byte that is not a letter or digit becomes ':' and two lowercase hex
 * digits, and a name whose first byte was not a letter or digit gets the
 * prefix "x:".  Distinct ids give distinct names.  -ENAMETOOLONG, -EINVAL
 * (empty). */
int vgpu_cdi_map_name (const char *id, char *ret, size_t size);

/* Claim ids: a ledger owner ([A-Za-z0-9][A-Za-z0-9_.-]*) of at most
 * VGPU_CDI_CLAIM_MAX bytes that ends in a letter or digit. */
bool vgpu_cdi_claim_valid (const char *id);

/* Spec file name as the reference library makes it: "<vendor>-<class>.json",
 * or "<vendor>-<class>_<claim>.json" for a claim's transient spec. */
int vgpu_cdi_file_name (const char *kind, const char *claim, char *ret, size_t size, vgpu_error_t *err);

/* A pool spec's default file: "<vendor>-<class>-pool.json", beside the
 * dynamic spec, so generating one never replaces the other. */
int vgpu_cdi_pool_file_name (const char *kind, char *ret, size_t size, vgpu_error_t *err);

/* --- the spec as data, JSON and files --- */

int vgpu_cdi_spec_init (vgpu_cdi_spec_t *spec, const char *kind, vgpu_error_t *err);
void vgpu_cdi_spec_done (vgpu_cdi_spec_t *spec);

/* Append a device; its name must be valid and new in the spec.  type is NULL
 * for fixed nodes. */
int vgpu_cdi_spec_add (vgpu_cdi_spec_t *spec, const char *name, const char *type, const vgpu_plan_t *plan,
                       vgpu_error_t *err);

/* The lowest cdiVersion the spec's fields need: "0.3.0", or "0.5.0" when a
 * device name starts with a digit (pool indexes, UUIDs). */
const char *vgpu_cdi_version (const vgpu_cdi_spec_t *spec);

/* JSON text (pretty, newline-terminated); free() it. */
int vgpu_cdi_render (const vgpu_cdi_spec_t *spec, char **ret, vgpu_error_t *err);

/* Read a spec back (the fields vgpu-cdi writes; others are ignored). */
int vgpu_cdi_parse (const char *text, size_t len, vgpu_cdi_spec_t *ret, vgpu_error_t *err);
int vgpu_cdi_load (const char *path, vgpu_cdi_spec_t *ret, vgpu_error_t *err); /* -ENOENT when absent */

/* Write the spec to path atomically (temp file in the same directory, fsync,
 * rename) with mode 0644, creating the directory itself if missing; a spec
 * without devices is never written: the file is removed instead.  Only
 * *.json names are accepted (CDI reads nothing else). */
int vgpu_cdi_save (const char *path, const vgpu_cdi_spec_t *spec, vgpu_error_t *err);
int vgpu_cdi_remove_file (const char *path, vgpu_error_t *err); /* 0 when absent */

/* Before anything is made: path names a *.json whose directory exists or can
 * be made (its parent exists). */
int vgpu_cdi_path_check (const char *path, vgpu_error_t *err);

/* The value of env NAME in a device's edits, or NULL. */
const char *vgpu_cdi_device_env (const vgpu_cdi_device_t *d, const char *name);

/* A spec with kind, hook and roots from o, no devices yet. */
int vgpu_cdi_spec_for (const vgpu_cdi_opts_t *o, vgpu_cdi_spec_t *spec, vgpu_error_t *err);
