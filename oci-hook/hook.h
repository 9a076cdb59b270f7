/* hook.h — the OCI hook's stages, as library calls.
 *
 * precreate: config.json in, config.json out with the allocation applied
 * (the runtime then makes the nodes and cgroup rules itself).
 * prestart/createRuntime: allocate (or find the allocation precreate made),
 * mknod the nodes in the container's /dev, allow them in its device cgroup;
 * any failure undoes all of it, since crun runs no poststop after a failed
 * createRuntime hook.
 * poststop: release by container id, bounded; idempotent. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "roots.h"
#include "stage.h"

typedef struct vgpu_hook_opts {
        vgpu_roots_t roots;
        vgpu_stage_t stage;
        const char *type;   /* --type: CDI specs name the type */
        const char *parent; /* --parent */
        unsigned release_timeout_ms;
        bool no_cgroup;          /* test switch: skip the device cgroup step */
        const char *cgroup_root; /* NULL: the host's /sys/fs/cgroup */
} vgpu_hook_opts_t;

/* Run a stage on input (stdin's bytes); precreate writes the config to out. */
int vgpu_hook_run (const vgpu_hook_opts_t *o, const char *input, size_t len, FILE *out, vgpu_error_t *err);
