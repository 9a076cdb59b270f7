/* cdi-claim.h — claims: a node agent's request, made and given back by id.
 *
 * A claim (owner cdi-claim.<id>) gets its mdevs through the ledger and a
 * transient spec of its own with one device "claim-<id>" that carries every
 * node and the env. */
#pragma once

#include <stdio.h>

#include "cdi-spec.h"
#include "error.h"
#include "policy.h"

/* Claims.  prepare allocates count mdevs through the ledger (or finds the
 * claim's allocation), writes its transient spec with one device
 * "claim-<id>" carrying every node and the env, and prints the fully
 * qualified name; unprepare removes the spec, then releases.  Both are
 * idempotent. */
int vgpu_cdi_prepare (const vgpu_cdi_opts_t *o, const char *claim, const vgpu_selector_t *sel, unsigned count,
                      FILE *out, vgpu_error_t *err);
int vgpu_cdi_unprepare (const vgpu_cdi_opts_t *o, const char *claim, vgpu_error_t *err);
int vgpu_cdi_claim_path (const vgpu_cdi_opts_t *o, const char *claim, char *ret, size_t size, vgpu_error_t *err);
