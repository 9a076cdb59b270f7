/* shim-edit.h — what vgpu-runtime does to a bundle before the real runtime
 * creates the container, and the undo when that create fails.
 *
 * prepare: the hook's precreate stage (hook.h) runs on the bundle's
 * config.json, with the shim's roots and its accept_env (env INTEL_VGPU is a
 * request unless the shim's config turns that off, and then precreate
 * refuses it with its own line).  A container that asks for nothing gets
 * its config back as it was and keeps the file untouched, byte for byte.
 * Otherwise precreate allocated and edited the config (devices, cgroup allow
 * rules, env), and the hooks that finish the job are added:
 *   createRuntime  vgpu-hook [ROOTS] [--accept-env] createRuntime: binds the
 *                  container's pid to the allocation (and checks its nodes
 *                  and cgroup rules)
 *   poststop       vgpu-hook [ROOTS] [--accept-env] poststop: releases it
 * ROOTS are the shim's roots that differ from the defaults.  config.json is
 * then replaced atomically; a failure on the way releases what was made.
 *
 * release: the poststop stage on a state made up for the container
 * ({id, bundle, status "stopped"}), run after the real runtime's create
 * failed: runc runs no poststop for a container it never made, crun none
 * after a failed createRuntime hook.  Idempotent. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "error.h"
#include "shim-config.h"

#define VGPU_SHIM_HOOK_TIMEOUT 30 /* seconds; create and release are bounded below it */

typedef struct vgpu_shim_job {
        const vgpu_shim_config_t *config;
        const char *id;     /* the container id from the runtime's command line */
        const char *bundle; /* absolute */
} vgpu_shim_job_t;

/* *ret_edited says whether config.json was changed (and so something was
 * allocated that release must give back). */
int vgpu_shim_prepare (const vgpu_shim_job_t *job, bool *ret_edited, vgpu_error_t *err);

int vgpu_shim_release (const vgpu_shim_job_t *job, vgpu_error_t *err);

/* The two hooks above, appended to config's hooks.createRuntime and
 * hooks.poststop (created when absent; a hooks that is not an object, or a
 * stage that is not an array, is refused before any edit). */
int vgpu_shim_add_hooks (json_object *config, const vgpu_shim_config_t *c, vgpu_error_t *err);
