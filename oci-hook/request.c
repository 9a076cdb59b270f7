/* request.c — see request.h. */
#include "request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "oci.h"
#include "util.h"

/* The value of the last INTEL_VGPU= in process.env: runtimes and engines let
 * a later entry win. */
static int
env_request (json_object *config, const char **ret, vgpu_error_t *err)
{
        static const char prefix[] = VGPU_ENV_REQUEST "=";
        json_object *env;
        int r;

        *ret = NULL;
        if (!config)
                return 0;
        r = vgpu_oci_config_env (config, &env, err);
        for (size_t i = 0; r == 0 && env && i < json_object_array_length (env); i++) {
                const char *s = json_object_get_string (json_object_array_get_idx (env, i));

                if (strncmp (s, prefix, sizeof prefix - 1) == 0)
                        *ret = s + sizeof prefix - 1;
        }
        return r;
}

static int
annotation (json_object *annotations, const char *key, const char **ret, vgpu_error_t *err)
{
        char label[64];
        json_object *v;

        *ret = NULL;
        if (!annotations || !json_object_object_get_ex (annotations, key, &v))
                return 0;
        snprintf (label, sizeof label, "annotation %s", key);
        return vgpu_json_text (v, label, ret, err);
}

static int
take_name (const char *value, const char *label, const char *what, bool auto_ok, char out[VGPU_NAME_MAX],
           vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];

        if (!(auto_ok && strcmp (value, "auto") == 0) && !vgpu_name_valid (value))
                return vgpu_error_set (err, EINVAL, "%s \"%s\" is not %s", label, vgpu_quote (value, strlen (value), q),
                                       what);
        strcpy (out, value);
        return 0;
}

static int
request_type (json_object *annotations, json_object *config, const char *arg_type, vgpu_request_t *req,
              vgpu_error_t *err)
{
        static const char what[] = "a vGPU type id or \"auto\"";
        const char *value;
        int r;

        if (arg_type) {
                req->source = "argument";
                return take_name (arg_type, "hook argument type", what, true, req->type, err);
        }
        r = annotation (annotations, VGPU_ANNOTATION_TYPE, &value, err);
        if (r < 0)
                return r;
        if (value) {
                req->source = "annotation";
                return take_name (value, "annotation " VGPU_ANNOTATION_TYPE, what, true, req->type, err);
        }
        r = env_request (config, &value, err);
        if (r < 0 || !value || !*value)
                return r;
        req->source = "env";
        return take_name (value, "env " VGPU_ENV_REQUEST, what, true, req->type, err);
}

int
vgpu_request_parse (json_object *annotations, json_object *config, const char *arg_type, const char *arg_parent,
                    vgpu_request_t *ret, vgpu_error_t *err)
{
        static const char parent_what[] = "a PCI address or device name";
        vgpu_request_t req = { .wanted = false };
        char q[VGPU_QUOTE_BUF];
        const char *value;
        int r;

        if (!annotations && json_object_is_type (config, json_type_object))
                json_object_object_get_ex (config, "annotations", &annotations);
        if (annotations && !json_object_is_type (annotations, json_type_object))
                return vgpu_error_set (err, EINVAL, "annotations are not a JSON object");
        r = request_type (annotations, config, arg_type, &req, err);
        if (r < 0)
                return r;
        if (arg_parent)
                r = take_name (arg_parent, "hook argument parent", parent_what, false, req.parent, err);
        else if ((r = annotation (annotations, VGPU_ANNOTATION_PARENT, &value, err)) == 0 && value)
                r = take_name (value, "annotation " VGPU_ANNOTATION_PARENT, parent_what, false, req.parent, err);
        if (r < 0)
                return r;
        r = annotation (annotations, VGPU_ANNOTATION_MIN_RESOLUTION, &value, err);
        if (r < 0)
                return r;
        if (value && vgpu_parse_resolution (value, &req.min_w, &req.min_h) < 0)
                return vgpu_error_set (err, EINVAL,
                                       "annotation " VGPU_ANNOTATION_MIN_RESOLUTION
                                       " \"%s\" is not WIDTHxHEIGHT with each 1 to %u",
                                       vgpu_quote (value, strlen (value), q), VGPU_RESOLUTION_MAX);
        req.wanted = req.type[0] != '\0';
        *ret = req;
        return 0;
}
