/* oci.h — what an OCI runtime hands a hook, and the one edit precreate makes.
 *
 * Owns the OCI state on a hook's stdin (runc, crun, podman), the bundle's
 * config.json (rootfs, container id from linux.cgroupsPath, process.env), and
 * the precreate edit that applies a plan to config.json.  Everything here
 * comes from the container's side and is validated before anyone uses it:
 * the container id only ever reaches a path after vgpu_container_id_valid(). */
#pragma once

#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "plan.h"

#define VGPU_CONTAINER_ID_MAX 128

typedef struct vgpu_oci_state {
        char id[VGPU_CONTAINER_ID_MAX + 1]; /* validated: [A-Za-z0-9][A-Za-z0-9_.-]{0,127} */
        char status[16];                    /* creating|created|running|stopped, "" when absent */
        pid_t pid;                          /* 0: absent (runc poststop) or given as 0 (crun poststop) */
        char bundle[PATH_MAX];              /* absolute, "" when absent */
        json_object *annotations;           /* owned reference or NULL */
} vgpu_oci_state_t;

/* Parse the state a runtime writes to a hook's stdin.  ret is filled on
 * success only; release it with vgpu_oci_state_done(). */
int vgpu_oci_state_parse (const char *text, size_t len, vgpu_oci_state_t *ret, vgpu_error_t *err);
void vgpu_oci_state_done (vgpu_oci_state_t *s);

bool vgpu_container_id_valid (const char *id);

/* Parse config.json text (precreate reads it from stdin); the top-level
 * sections used here are type-checked. */
int vgpu_oci_config_parse (const char *text, size_t len, json_object **ret, vgpu_error_t *err);
/* Read and parse <bundle>/config.json (at most VGPU_JSON_MAX_BYTES). */
int vgpu_oci_config_load (const char *bundle, json_object **ret, vgpu_error_t *err);

/* root.path, resolved against the absolute bundle when relative, normalised
 * ("//" and "." dropped); a path with a ".." component is refused. */
int vgpu_oci_config_rootfs (json_object *config, const char *bundle, char *ret, size_t size, vgpu_error_t *err);

/* The container id for precreate, whose input has none: the last part of
 * linux.cgroupsPath ("/libpod_parent/libpod-<id>", "machine.slice:libpod:<id>",
 * ".../crio-<id>", "kubepods-...:crio:<id>", "system.slice:docker:<id>", or a
 * plain last component), validated.  size must be > VGPU_CONTAINER_ID_MAX. */
int vgpu_oci_config_container_id (json_object *config, char *ret, size_t size, vgpu_error_t *err);

/* config's process.env, type-checked, every element a string without NUL;
 * *ret is a borrowed reference, NULL when absent or on error. */
int vgpu_oci_config_env (json_object *config, json_object **ret, vgpu_error_t *err);

/* precreate: apply a plan to config.json in place.  Per node, linux.devices
 * gets {path, type "c", major, minor, fileMode, uid 0, gid 0} (an entry with
 * the same path is replaced) and linux.resources.devices an allow rule "rwm"
 * at the end (an identical earlier rule is dropped: a deny after it would void
 * it); each plan env "NAME=value" replaces NAME= in process.env or is
 * appended.  Missing objects and arrays are created; everything else is
 * left as it was, key order included.  The config is checked before the first
 * edit, so a refused config is left untouched. */
int vgpu_oci_config_apply (json_object *config, const vgpu_plan_t *plan, vgpu_error_t *err);

/* Serialise for stdout (plain, "/" unescaped); owned by config. */
const char *vgpu_oci_config_to_string (json_object *config);
