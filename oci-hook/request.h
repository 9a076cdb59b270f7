/* request.h — the vGPU request a container makes.
 *
 * Owns where a request comes from (the hook's argument, the annotations
 * intel.com/vgpu, .parent and .min-resolution, the env INTEL_VGPU) and their
 * validation: type ids and parents become sysfs path components, so each
 * value taken is checked to be one here, before any caller sees it. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "error.h"
#include "mdev.h"

#define VGPU_ANNOTATION_TYPE "intel.com/vgpu"
#define VGPU_ANNOTATION_PARENT "intel.com/vgpu.parent"
#define VGPU_ANNOTATION_MIN_RESOLUTION "intel.com/vgpu.min-resolution"
#define VGPU_ENV_REQUEST "INTEL_VGPU"

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
