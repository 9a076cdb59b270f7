/* hook-config.c — see hook-config.h. */
#include "hook-config.h"

#include <errno.h>
#include <string.h>

#include "json.h"
#include "util.h"

static int
number (json_object *o, const char *key, unsigned long long max, const char *path, unsigned *ret, vgpu_error_t *err)
{
        long long v = vgpu_json_int (o, key, -1);

        if (!json_object_object_get_ex (o, key, NULL))
                return 0;
        if (v < 1 || (unsigned long long) v > max)
                return vgpu_error_set (err, ERANGE, "%s: \"%s\" %lld is not between 1 and %llu", path, key, v, max);
        *ret = (unsigned) v;
        return 0;
}

/* A key the hook does not know is a typo an admin wants to hear about. */
static int
known_keys (json_object *o, const vgpu_json_field_t *fields, size_t n, const char *path, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];

        json_object_object_foreach (o, key, val)
        {
                size_t i;

                (void) val;
                for (i = 0; i < n && strcmp (key, fields[i].name) != 0; i++)
                        ;
                if (i == n)
                        return vgpu_error_set (err, EINVAL, "%s: unknown key \"%s\"", path,
                                               vgpu_quote (key, strlen (key), q));
        }
        return 0;
}

int
vgpu_hook_config_load (const char *path, bool required, vgpu_hook_config_t *ret, vgpu_error_t *err)
{
        static const vgpu_json_field_t fields[] = {
                { "accept_env", json_type_boolean, false },
                { "unbound_after", json_type_int, false },
                { "release_timeout_ms", json_type_int, false },
                { "log", json_type_string, false },
        };
        _cleanup_json_ json_object *o = NULL;
        vgpu_hook_config_t c = { 0 };
        json_object *v;
        int r;

        r = vgpu_json_load_file (path, "hook config", &o, err);
        if (r == -ENOENT && !required) {
                *ret = c;
                return 0;
        }
        if (r == 0)
                r = vgpu_json_check (o, fields, ARRAY_SIZE (fields), path, err);
        if (r == 0)
                r = known_keys (o, fields, ARRAY_SIZE (fields), path, err);
        if (r == 0 && json_object_object_get_ex (o, "accept_env", &v)) {
                c.accept_env = json_object_get_boolean (v);
                c.has_accept_env = true;
        }
        if (r == 0)
                r = number (o, "unbound_after", 86400, path, &c.unbound_after_s, err);
        if (r == 0)
                r = number (o, "release_timeout_ms", 3600000, path, &c.release_timeout_ms, err);
        if (r == 0 && vgpu_json_str (o, "log")) {
                const char *log = vgpu_json_str (o, "log");

                if (log[0] != '/' || strlen (log) >= sizeof c.log)
                        return vgpu_error_set (err, EINVAL, "%s: \"log\" is not an absolute path", path);
                strcpy (c.log, log);
        }
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}
