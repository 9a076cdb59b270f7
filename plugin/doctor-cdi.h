/* doctor-cdi.h — the `vgpu-cdi check` that `vgpuctl doctor` runs.
 *
 * Why vgpu-cdi runs as a child: plugin/ may not include cdi/ (DESIGN.md,
 * include rule), and the installed vgpu-cdi, the one that writes the spec,
 * is the right judge of it.  vgpuctl starts `vgpu-cdi check` (path fixed at
 * build time, VGPU_CDI_PATH) before it confines itself, because execve kills
 * in every sandbox profile; the child confines itself (profile cdi-read) once
 * it has read its arguments, as when an admin runs it, and vgpuctl only
 * keeps its exit status and output (bounded in size and time) for the
 * checks, which run confined (vgpuctl-read). */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "roots.h"

#define VGPU_DOCTOR_CDI_TIMEOUT_MS 10000
#define VGPU_DOCTOR_CDI_OUTPUT_MAX 4096

/* What `vgpu-cdi check` said. */
typedef struct vgpu_doctor_cdi {
        bool spec_absent; /* no spec file: nothing was run */
        bool timed_out;
        int exit_code;                           /* 127: could not be run */
        char output[VGPU_DOCTOR_CDI_OUTPUT_MAX]; /* stdout and stderr, cut at the end */
} vgpu_doctor_cdi_t;

/* Run `vgpu_cdi check --output spec` with roots, unconfined (see above):
 * call before entering the sandbox. */
int vgpu_doctor_cdi_run (const char *vgpu_cdi, const char *spec, const vgpu_roots_t *roots, vgpu_doctor_cdi_t *ret,
                         vgpu_error_t *err);
