/* stage.h — the stages at which an allocation is made or given back.
 *
 * The OCI hook stages (the OCI runtime spec's own words), and the two ways an
 * allocation is made outside a container's life: by vgpu-cdi for pools and
 * claims, and by vgpuctl for a node agent.  The names are written into
 * ledger records and into the hooks of CDI specs and config.json, so each is
 * spelt here once. */
#pragma once

typedef enum vgpu_stage {
        VGPU_STAGE_AUTO, /* hooks.d without a stage argument: the input tells */
        VGPU_STAGE_PRECREATE,
        VGPU_STAGE_PRESTART,
        VGPU_STAGE_CREATE_RUNTIME,
        VGPU_STAGE_POSTSTOP,
        VGPU_STAGE_CDI,     /* vgpu-cdi: pools and claims */
        VGPU_STAGE_VGPUCTL, /* vgpuctl allocate */
        VGPU_STAGE_N,
} vgpu_stage_t;

/* "precreate", "createRuntime", ...; "" for VGPU_STAGE_AUTO. */
const char *vgpu_stage_name (vgpu_stage_t stage);

/* An OCI hook stage by name (precreate, prestart, createRuntime, poststop);
 * -EINVAL for anything else. */
int vgpu_stage_parse (const char *name, vgpu_stage_t *ret);
