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

/* Check that obj is an object and that each listed field present has its type
 * and each required one is present.  Unlisted fields are allowed. */
int vgpu_json_check (json_object *obj, const vgpu_json_field_t *fields, size_t n, const char *what, vgpu_error_t *err);

/* Typed getters for fields already checked (NULL / fallback when absent). */
const char *vgpu_json_str (json_object *obj, const char *key);
long long vgpu_json_int (json_object *obj, const char *key, long long fallback);
