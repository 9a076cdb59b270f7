/* hook-config.h — the hook's own configuration file.
 *
 * What an admin sets once for every hook run on a host, beside the hooks.d
 * files and CDI specs (the hook takes it from there, never from a
 * container): /etc/vgpu-toolkit/vgpu-hook.json, or the file --config names:
 *
 *   { "accept_env": false,        env INTEL_VGPU counts as a request
 *     "unbound_after": 120,       seconds before a never-bound allocation is a failed create's
 *     "release_timeout_ms": 5000, bound on a remove the kernel blocks
 *     "log": "/var/log/vgpu-hook.log" }   where failures go besides stderr (default: the kernel log)
 *
 * Every key is optional; an unknown key or a wrong type is an error naming
 * it.  A missing default file is no error; a missing --config file is. */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include "error.h"
#include "hook.h"

typedef struct vgpu_hook_config {
        bool accept_env, has_accept_env;
        unsigned unbound_after_s;    /* 0: not set */
        unsigned release_timeout_ms; /* 0: not set */
        char log[PATH_MAX];          /* "": not set */
} vgpu_hook_config_t;

/* Read path into ret (all unset when the file is absent and !required). */
int vgpu_hook_config_load (const char *path, bool required, vgpu_hook_config_t *ret, vgpu_error_t *err);
