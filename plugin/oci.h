/* oci.h — what the OCI runtime hands a hook, and the one edit precreate makes.
 *
 * Owns: the OCI state on a hook's stdin (runc, crun, podman), the bundle's
 * config.json (rootfs, container id from linux.cgroupsPath), the vGPU request
 * a container makes (hook arguments > annotations > env INTEL_VGPU), and the
 * precreate edit that applies a plan to config.json.  Everything here comes
 * from the container's side and is validated before anyone uses it: the
 * container id only ever reaches a path after vgpu_container_id_valid().
 * request.c holds the request parsing; oci.c everything else. */
#pragma once

#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "mdev.h"
#include "plan.h"

#define VGPU_CONTAINER_ID_MAX 128

#define VGPU_ANNOTATION_TYPE "intel.com/vgpu"
#define VGPU_ANNOTATION_PARENT "intel.com/vgpu.parent"
#define VGPU_ANNOTATION_MIN_RESOLUTION "intel.com/vgpu.min-resolution"
#define VGPU_ENV_REQUEST "INTEL_VGPU"
#define VGPU_RESOLUTION_MAX 16384

#define VGPU_QUOTE_MAX 64
#define VGPU_QUOTE_BUF (VGPU_QUOTE_MAX * 4 + 4) /* every byte as "\xNN", then "..." */

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

/* A value from the container made fit for a one-line error message: at most
 * VGPU_QUOTE_MAX of its len bytes, quotes, backslashes and non-printables
 * escaped, "..." when cut.  Returns buf. */
const char *vgpu_quote (const char *s, size_t len, char buf[VGPU_QUOTE_BUF]);

/* The text of a JSON string; -EINVAL naming label when v is not a string or
 * holds an embedded NUL ("\u0000" would cut it short).  ret set on success. */
int vgpu_json_text (json_object *v, const char *label, const char **ret, vgpu_error_t *err);

/* config's process.env, type-checked, every element a string without NUL;
 * *ret is a borrowed reference, NULL when absent or on error. */
int vgpu_oci_config_env (json_object *config, json_object **ret, vgpu_error_t *err);

typedef struct vgpu_request {
        bool wanted;
        char type[VGPU_NAME_MAX];   /* a type id or "auto" */
        char parent[VGPU_NAME_MAX]; /* "" = any */
        unsigned min_w, min_h;      /* 0 = policy default */
        const char *source;         /* where the type came from: "argument", "annotation", "env"; NULL if none */
} vgpu_request_t;

/* What the container asks for.  Each field takes its highest source: type
 * from the hook argument, else annotation intel.com/vgpu, else the last
 * INTEL_VGPU= in config process.env (an empty value asks for nothing); parent
 * from the argument, else intel.com/vgpu.parent; minimum resolution from
 * intel.com/vgpu.min-resolution.  annotations, config, arg_type and
 * arg_parent may each be NULL; NULL annotations means config's.  Values that
 * are used are validated, and a bad one is an error naming the annotation
 * (or env, or argument) and the value; no type anywhere gives
 * ret->wanted = false and 0.  ret is filled on success only. */
int vgpu_request_parse (json_object *annotations, json_object *config, const char *arg_type, const char *arg_parent,
                        vgpu_request_t *ret, vgpu_error_t *err);

/* "WIDTHxHEIGHT", decimal, each 1..VGPU_RESOLUTION_MAX; -EINVAL otherwise. */
int vgpu_parse_resolution (const char *s, unsigned *ret_w, unsigned *ret_h);

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
