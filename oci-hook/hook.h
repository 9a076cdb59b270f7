/* hook.h — the OCI hook's stages, as library calls.
 *
 * precreate: config.json in, config.json out with the allocation applied
 * (the runtime then makes the nodes and cgroup rules itself); the allocation
 * stays unbound until a later stage of the same hook (createRuntime or
 * prestart, which the packaged hooks.d files also run) binds it to the
 * container's pid.
 * prestart/createRuntime: allocate (or find and bind the allocation precreate
 * made), mknod the nodes in the container's /dev, allow them in its device
 * cgroup; any failure undoes what this run made, since crun runs no poststop
 * after a failed createRuntime hook.
 * poststop: release what the stopped container held, bounded; idempotent.
 *
 * A request from the env INTEL_VGPU counts only where the admin said so
 * (accept_env): an image's env is no request otherwise, or it would bypass a
 * scheduler's accounting. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "oci.h"
#include "roots.h"
#include "stage.h"

typedef struct vgpu_hook_opts {
        const vgpu_roots_t *roots; /* the caller's, outliving the run */
        vgpu_stage_t stage;
        const char *type;   /* --type: CDI specs name the type */
        const char *parent; /* --parent */
        unsigned release_timeout_ms;
        bool accept_env;          /* env INTEL_VGPU is a request (--accept-env, "accept_env") */
        unsigned unbound_after_s; /* reclaim never-bound allocations older than this when out of instances */
        bool no_cgroup;           /* test switch: skip the device cgroup step */
        const char *cgroup_root;  /* NULL: the host's /sys/fs/cgroup */
} vgpu_hook_opts_t;

/* Run a stage on input (stdin's bytes); precreate writes the config to out.
 * The container's id, once the input named it, goes to ret_container (may be
 * NULL; "" until then), for the log line a failure writes. */
int vgpu_hook_run (const vgpu_hook_opts_t *o, const char *input, size_t len, FILE *out,
                   char ret_container[VGPU_CONTAINER_ID_MAX + 1], vgpu_error_t *err);
