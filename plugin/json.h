/* json.h — all JSON input goes through here.
 *
 * Text is parsed strictly (UTF-8 validated, depth-limited, one value, nothing
 * after it) and objects are checked against a field table before any field is
 * used: json_object_get_string() returns text for any type, so presence alone
 * proves nothing. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

static inline void
vgpu_json_putp (json_object **o)
{
        if (*o)
                json_object_put (*o);
}
#define _cleanup_json_ __attribute__ ((cleanup (vgpu_json_putp)))

#define VGPU_JSON_MAX_BYTES (4u << 20) /* 4 MiB: cap for stdin and config.json */
#define VGPU_JSON_MAX_DEPTH 64

typedef struct vgpu_json_field {
        const char *name;
        json_type type; /* json_type_int accepts only integers */
        bool required;
} vgpu_json_field_t;

/* Parse len bytes of text.  `what` names the input in errors ("OCI state");
 * errors carry the byte offset. */
int vgpu_json_parse (const char *text, size_t len, const char *what, json_object **ret, vgpu_error_t *err);

/* Read and parse a JSON file that must be a regular one (a config file, a
 * spec): -ENOENT when absent; `what` names it in errors. */
int vgpu_json_load_file (const char *path, const char *what, json_object **ret, vgpu_error_t *err);

/* Check that obj is an object and that each listed field present has its type
 * and each required one is present.  Unlisted fields are allowed. */
int vgpu_json_check (json_object *obj, const vgpu_json_field_t *fields, size_t n, const char *what, vgpu_error_t *err);

/* Typed getters for fields already checked (NULL / fallback when absent). */
const char *vgpu_json_str (json_object *obj, const char *key);
long long vgpu_json_int (json_object *obj, const char *key, long long fallback);

#define VGPU_QUOTE_MAX 64
#define VGPU_QUOTE_BUF (VGPU_QUOTE_MAX * 4 + 4) /* every byte as "\xNN", then "..." */

/* A value from outside (a container, a config file, a command line) made fit
 * for a one-line error message: at most VGPU_QUOTE_MAX of its len bytes,
 * quotes, backslashes and non-printables escaped, "..." when cut.  Returns
 * buf. */
const char *vgpu_quote (const char *s, size_t len, char buf[VGPU_QUOTE_BUF]);

/* The text of a JSON string; -EINVAL naming label when v is not a string or
 * holds an embedded NUL ("\u0000" would cut it short).  ret set on success. */
int vgpu_json_text (json_object *v, const char *label, const char **ret, vgpu_error_t *err);
