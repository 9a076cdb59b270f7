/* roots.h — the three roots every host path hangs off.
 *
 * sysfs (/sys), dev (/dev) and state (/run/vgpu-toolkit); each overridable by
 * a flag (--sysfs-root, --dev-root, --state-dir) and by VGPU_SYSFS_ROOT /
 * VGPU_DEV_ROOT / VGPU_STATE_DIR.  Hooks take them from their own
 * configuration (argv, hook env), never from the container.  The table below
 * is the one place their flags, variables and defaults are spelt: the
 * command-line frame and the hooks written into CDI specs read it. */
#pragma once

#include <limits.h>
#include <stddef.h>

#include "error.h"

typedef struct vgpu_roots {
        char sysfs[PATH_MAX];
        char dev[PATH_MAX];
        char state[PATH_MAX];
} vgpu_roots_t;

#define VGPU_DEFAULT_SYSFS "/sys"
#define VGPU_DEFAULT_DEV "/dev"
#define VGPU_DEFAULT_STATE "/run/vgpu-toolkit"

typedef struct vgpu_root_info {
        const char *which; /* "sysfs", as vgpu_roots_set takes it */
        const char *flag;  /* "--sysfs-root" */
        const char *env;   /* "VGPU_SYSFS_ROOT" */
        const char *def;   /* VGPU_DEFAULT_SYSFS */
        const char *what;  /* for help: "sysfs root" */
        size_t offset;     /* of its path in vgpu_roots_t */
} vgpu_root_info_t;

#define VGPU_N_ROOTS 3
extern const vgpu_root_info_t vgpu_root_infos[VGPU_N_ROOTS];

/* The path of root i (an index into vgpu_root_infos). */
const char *vgpu_roots_get (const vgpu_roots_t *roots, size_t i);

/* Defaults, then the environment. */
int vgpu_roots_init (vgpu_roots_t *roots, vgpu_error_t *err);

/* O_PATH fd of the sysfs root, or a negative errno with the sentence in err. */
int vgpu_roots_open_sysfs (const vgpu_roots_t *roots, vgpu_error_t *err);

/* The flags of the roots that differ from the defaults, as argv words
 * ("--sysfs-root", "/tmp/sys", ...) into argv[0 .. 2 * VGPU_N_ROOTS): what a
 * hook written into a CDI spec or a config.json is handed.  Returns how many
 * words; they point into roots and vgpu_root_infos. */
size_t vgpu_roots_args (const vgpu_roots_t *roots, const char *argv[2 * VGPU_N_ROOTS]);

/* Set one root from a flag value ("sysfs", "dev" or "state"); must be an
 * absolute path. */
int vgpu_roots_set (vgpu_roots_t *roots, const char *which, const char *path, vgpu_error_t *err);
