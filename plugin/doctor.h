/* doctor.h — `vgpuctl doctor`: can this host give containers vGPUs, and if
 * not, what to do.
 *
 * One finding per check, ok / warn / fail, each with the fix.  The checks:
 *
 *   kernel          vfio, vfio_iommu_type1 and the mdev core are loaded
 *                   (sysfs module/ and bus/mdev)
 *   iommu           an IOMMU unit in class/iommu (the seed's intel_iommu=on)
 *   mdev parents    class/mdev_bus has parents; without any, the cause:
 *                   no i915, i915 without enable_gvt=1, kvmgt not loaded, or
 *                   a GPU GVT-g does not cover (generations 5 to 10 only)
 *   /dev/vfio/vfio  the VFIO container node is char 10:196
 *   type T on P     available instances (none left: release, or a larger
 *                   aperture in the BIOS/UEFI, the seed's advice)
 *   cgroup          the hierarchy that controls devices here
 *   hooks.d FILE    each hooks.d file that runs vgpu-hook: the hook is
 *                   executable, and a precreate file is not where CRI-O reads
 *   CDI spec        the spec is current (`vgpu-cdi check`)
 *   wiring          a hooks.d file or a CDI spec lets containers ask at all
 *   ledger          records whose mdev is gone, releases pending,
 *                   interrupted allocations (warn: `vgpuctl gc`), corrupt
 *                   records (fail)
 *
 * The simulator (tests/sim, also the README demo's GPU) is a sysfs root with
 * a `.sim` directory.  It has no modules and no IOMMU, so there kernel and
 * iommu are ok and say "simulated"; every other check reads it as a host. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "doctor-cdi.h"
#include "error.h"
#include "roots.h"

#define VGPU_DOCTOR_MAX_HOOKS_DIRS 8

typedef enum vgpu_doctor_status {
        VGPU_DOCTOR_OK,
        VGPU_DOCTOR_WARN,
        VGPU_DOCTOR_FAIL,
} vgpu_doctor_status_t;

typedef struct vgpu_finding {
        char check[320]; /* "mdev parents", "type i915-GVTg_V5_4 on 0000:00:02.0", ... */
        vgpu_doctor_status_t status;
        char what[512]; /* what was found */
        char fix[512];  /* what to do, "" when nothing */
} vgpu_finding_t;

typedef struct vgpu_doctor_opts {
        vgpu_roots_t roots;
        const char *hooks_dirs[VGPU_DOCTOR_MAX_HOOKS_DIRS]; /* none given: podman's, CRI-O's and ours */
        size_t n_hooks_dirs;
        const char *vgpu_cdi; /* VGPU_CDI_PATH */
        const char *cdi_spec; /* VGPU_CDI_SPEC */
} vgpu_doctor_opts_t;

/* Every check; *ret (free() it) holds the findings in the order above. */
int vgpu_doctor_run (const vgpu_doctor_opts_t *o, const vgpu_doctor_cdi_t *cdi, vgpu_finding_t **ret, size_t *ret_n,
                     vgpu_error_t *err);

/* "ok    CHECK: WHAT; fix: FIX" a line, or a JSON array of {check, status,
 * message, fix}.  Both return the number of failed checks (or -ENOMEM). */
int vgpu_doctor_print (FILE *out, const vgpu_finding_t *f, size_t n);
int vgpu_doctor_print_json (FILE *out, const vgpu_finding_t *f, size_t n);
