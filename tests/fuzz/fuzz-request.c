/* fuzz-request.c — the vGPU request from raw values, past the JSON parser.
 *
 * Input: one flag byte, then up to six fields split by 0xff: the annotations
 * intel.com/vgpu, .parent and .min-resolution, the INTEL_VGPU env value, and
 * the hook arguments type and parent.  Flags pick which fields are present
 * and make annotation values non-strings.  Values reach the parser as json-c
 * strings of any bytes (NULs included), as a runtime's annotations could; the
 * first field is also tried as a linux.cgroupsPath.  Whatever is accepted must
 * be safe to use as one sysfs path component. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "fuzz-check.h"
#include "oci.h"
#include "request.h"
#include "util.h"

#define N_FIELDS 6

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_name (const char *s, bool auto_ok)
{
        static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-+";
        size_t n = strlen (s);

        if (auto_ok && strcmp (s, "auto") == 0)
                return;
        if (n == 0 || n >= VGPU_NAME_MAX || s[0] == '.' || strspn (s, allowed) != n)
                abort ();
}

static void
check_request (const vgpu_request_t *req)
{
        if (!req->wanted) {
                if (req->type[0] != '\0')
                        abort ();
                return;
        }
        check_name (req->type, true);
        if (req->parent[0] != '\0')
                check_name (req->parent, false);
        if ((req->min_w == 0) != (req->min_h == 0) || req->min_w > VGPU_RESOLUTION_MAX ||
            req->min_h > VGPU_RESOLUTION_MAX)
                abort ();
}

static void
try_cgroups_path (const char *value, size_t len)
{
        _cleanup_json_ json_object *config = json_object_new_object ();
        json_object *linux_ = json_object_new_object ();
        char id[VGPU_CONTAINER_ID_MAX + 1];
        vgpu_error_t err = { 0 };

        json_object_object_add (config, "linux", linux_);
        json_object_object_add (linux_, "cgroupsPath", json_object_new_string_len (value, (int) len));
        if (vgpu_oci_config_container_id (config, id, sizeof id, &err) < 0)
                check_message (&err);
        else if (!vgpu_container_id_valid (id))
                abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        static const char *const keys[] = { VGPU_ANNOTATION_TYPE, VGPU_ANNOTATION_PARENT,
                                            VGPU_ANNOTATION_MIN_RESOLUTION };
        const char *field[N_FIELDS] = { NULL };
        size_t len[N_FIELDS] = { 0 }, n = 0;
        _cleanup_json_ json_object *annotations = json_object_new_object ();
        _cleanup_json_ json_object *config = json_object_new_object ();
        json_object *process, *env;
        char *copy, *args[2] = { NULL, NULL };
        vgpu_request_t req;
        vgpu_error_t err = { 0 };
        unsigned flags, w, h;

        if (size < 1)
                return 0;
        flags = data[0];
        copy = malloc (size);
        memcpy (copy, data + 1, size - 1);
        copy[size - 1] = '\0';
        for (size_t i = 0, start = 0; i <= size - 1 && n < N_FIELDS; i++)
                if (i == size - 1 || (unsigned char) copy[i] == 0xff) {
                        field[n] = copy + start;
                        len[n++] = i - start;
                        copy[i] = '\0';
                        start = i + 1;
                }
        for (size_t i = 0; i < 3; i++) {
                json_object *v;

                if (!field[i] || !(flags & (1u << i)))
                        continue;
                v = (flags & (8u << i)) ? json_object_new_int ((int) len[i])
                                        : json_object_new_string_len (field[i], (int) len[i]);
                json_object_object_add (annotations, keys[i], v);
        }
        json_object_object_add (config, "process", process = json_object_new_object ());
        json_object_object_add (process, "env", env = json_object_new_array ());
        json_object_array_add (env, json_object_new_string ("PATH=/bin"));
        if (field[3]) {
                char entry[512];

                snprintf (entry, sizeof entry, "INTEL_VGPU=%s", field[3]);
                json_object_array_add (env, json_object_new_string (entry));
        }
        for (size_t i = 0; i < 2; i++)
                if (field[4 + i] && (flags & (0x40u << i)))
                        args[i] = (char *) field[4 + i];
        if (vgpu_request_parse ((flags & 7) ? annotations : NULL, config, args[0], args[1], &req, &err) < 0)
                check_message (&err);
        else
                check_request (&req);
        if (field[2] && vgpu_parse_resolution (field[2], &w, &h) == 0 &&
            (w == 0 || h == 0 || w > VGPU_RESOLUTION_MAX || h > VGPU_RESOLUTION_MAX))
                abort ();
        if (field[0])
                try_cgroups_path (field[0], len[0]);
        free (copy);
        return 0;
}
