/* cdinames.h — the CDI names a runtime on this node can resolve.
 *
 * Read from the spec files (*.json) in cdi-dir that vgpu-cdi writes: the
 * devices of the plugin's kind, each with the mdev UUID its environment
 * names (VGPU_MDEV_UUID) when it names exactly one.  Dynamic mode answers
 * Allocate with a name only when a spec has it; pool mode adopts the mdevs
 * a pool spec names by UUID and answers their names.  The plugin reads
 * specs and never writes them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "mdev.h"

#define VGPU_KCDI_NAME_MAX 400

typedef struct vgpu_kcdi_name {
        char name[VGPU_KCDI_NAME_MAX]; /* the device name, without the kind */
        char uuid[VGPU_UUID_LEN + 1];  /* "" when its env names no single mdev or VF (a VF: its ledger id) */
} vgpu_kcdi_name_t;

typedef struct vgpu_kcdi {
        vgpu_kcdi_name_t *v;
        size_t n;
} vgpu_kcdi_t;

/* Every device of kind in dir's specs; an absent dir is an empty list, a
 * spec that is not JSON of the CDI shape is passed over (the runtime
 * refuses it too). */
int vgpu_kcdi_read (const char *dir, const char *kind, vgpu_kcdi_t *ret, vgpu_error_t *err);
bool vgpu_kcdi_has (const vgpu_kcdi_t *c, const char *name);
void vgpu_kcdi_free (vgpu_kcdi_t *c);
