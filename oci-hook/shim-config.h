/* shim-config.h — vgpu-runtime's own configuration.
 *
 * An engine starts the shim with the engine's arguments only, and dockerd's
 * environment never reaches it (containerd starts it), so what the shim
 * needs beyond its defaults comes from a file of root's:
 *
 *   /etc/vgpu-toolkit/vgpu-runtime.json   (or $VGPU_RUNTIME_CONFIG, or --runtime-config)
 *   { "runtime": "runc" | "crun" | "/absolute/path",
 *     "accept_env": true,
 *     "hook": "/usr/bin/vgpu-hook",
 *     "roots": { "sysfs": "/sys", "dev": "/dev", "state": "/run/vgpu-toolkit" } }
 *
 * Every key is optional; an unknown key is an error (a misspelt
 * "accept-env" must not silently leave env requests on).  The roots go
 * defaults, then the file, then VGPU_SYSFS_ROOT / VGPU_DEV_ROOT /
 * VGPU_STATE_DIR, then the shim's flags. */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include "error.h"
#include "roots.h"

#define VGPU_SHIM_CONFIG_FILE "/etc/vgpu-toolkit/vgpu-runtime.json"
#define VGPU_SHIM_CONFIG_ENV "VGPU_RUNTIME_CONFIG"
#define VGPU_SHIM_DEFAULT_RUNTIME "runc"

typedef struct vgpu_shim_config {
        char runtime[PATH_MAX]; /* a bare name ("runc", "crun") or an absolute path */
        char hook[PATH_MAX];    /* vgpu-hook, run by the hooks the shim adds to config.json */
        bool accept_env;        /* INTEL_VGPU in the container's env is a request */
        vgpu_roots_t roots;
} vgpu_shim_config_t;

/* The defaults, then path (NULL: $VGPU_RUNTIME_CONFIG, else the file above,
 * which may be absent; a path that was named must exist), then the roots'
 * environment variables. */
int vgpu_shim_config_load (vgpu_shim_config_t *ret, const char *path, vgpu_error_t *err);

/* Parse the file's text into c (on top of what c holds); file names it in
 * errors. */
int vgpu_shim_config_parse (vgpu_shim_config_t *c, const char *text, size_t len, const char *file, vgpu_error_t *err);

/* The runtime to run: an absolute path as is; a bare name searched in
 * /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin (a
 * fixed list: the engine's PATH is not the admin's choice).  It must be an
 * executable regular file and not this program itself (a loop). */
int vgpu_shim_runtime_resolve (const char *runtime, char ret[PATH_MAX], vgpu_error_t *err);
