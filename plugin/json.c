/* json.c — see json.h. */
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "util.h"

int
vgpu_json_parse (const char *text, size_t len, const char *what, json_object **ret, vgpu_error_t *err)
{
        json_tokener *tok;
        json_object *obj;
        enum json_tokener_error jerr;
        size_t off;

        if (len > VGPU_JSON_MAX_BYTES)
                return vgpu_error_set (err, EFBIG, "%s is larger than %u bytes", what, VGPU_JSON_MAX_BYTES);
        if (memchr (text, '\0', len))
                return vgpu_error_set (err, EINVAL, "%s contains a NUL byte at offset %zu", what,
                                       (size_t) ((const char *) memchr (text, '\0', len) - text));
        tok = json_tokener_new_ex (VGPU_JSON_MAX_DEPTH);
        if (!tok)
                return vgpu_error_set (err, ENOMEM, "%s: out of memory", what);
        json_tokener_set_flags (tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        obj = json_tokener_parse_ex (tok, text, (int) len);
        jerr = json_tokener_get_error (tok);
        off = json_tokener_get_parse_end (tok);
        json_tokener_free (tok);
        if (jerr == json_tokener_continue) {
                json_object_put (obj);
                return vgpu_error_set (err, EINVAL, "%s is not valid JSON: unexpected end at byte %zu", what, len);
        }
        if (!obj || jerr != json_tokener_success) {
                json_object_put (obj);
                return vgpu_error_set (err, EINVAL, "%s is not valid JSON at byte %zu: %s", what, off,
                                       json_tokener_error_desc (jerr));
        }
        while (off < len && strchr (" \t\r\n", text[off]))
                off++;
        if (off != len) {
                json_object_put (obj);
                return vgpu_error_set (err, EINVAL, "%s has trailing data at byte %zu", what, off);
        }
        *ret = obj;
        return 0;
}

static const char *
type_name (json_type t)
{
        switch (t) {
        case json_type_string: return "a string";
        case json_type_int: return "an integer";
        case json_type_object: return "an object";
        case json_type_array: return "an array";
        case json_type_boolean: return "a boolean";
        case json_type_double: return "a number";
        default: return "null";
        }
}

int
vgpu_json_check (json_object *obj, const vgpu_json_field_t *fields, size_t n, const char *what, vgpu_error_t *err)
{
        if (!json_object_is_type (obj, json_type_object))
                return vgpu_error_set (err, EINVAL, "%s is not a JSON object", what);
        for (size_t i = 0; i < n; i++) {
                json_object *v;

                if (!json_object_object_get_ex (obj, fields[i].name, &v)) {
                        if (fields[i].required)
                                return vgpu_error_set (err, EINVAL, "%s lacks field \"%s\"", what, fields[i].name);
                        continue;
                }
                if (!json_object_is_type (v, fields[i].type))
                        return vgpu_error_set (err, EINVAL, "%s field \"%s\" must be %s", what, fields[i].name,
                                               type_name (fields[i].type));
        }
        return 0;
}

const char *
vgpu_json_str (json_object *obj, const char *key)
{
        json_object *v;

        if (!json_object_object_get_ex (obj, key, &v) || !json_object_is_type (v, json_type_string))
                return NULL;
        return json_object_get_string (v);
}

long long
vgpu_json_int (json_object *obj, const char *key, long long fallback)
{
        json_object *v;

        if (!json_object_object_get_ex (obj, key, &v) || !json_object_is_type (v, json_type_int))
                return fallback;
        return (long long) json_object_get_int64 (v);
}

/* A value from the container made fit for a one-line message: at most
 * VGPU_QUOTE_MAX bytes, with quotes, backslashes and non-printables escaped. */
const char *
vgpu_quote (const char *s, size_t len, char buf[VGPU_QUOTE_BUF])
{
        size_t o = 0;

        for (size_t i = 0; i < len && i < VGPU_QUOTE_MAX; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c == '"' || c == '\\')
                        o += (size_t) snprintf (buf + o, VGPU_QUOTE_BUF - o, "\\%c", c);
                else if (c < 0x20 || c >= 0x7f)
                        o += (size_t) snprintf (buf + o, VGPU_QUOTE_BUF - o, "\\x%02x", c);
                else
                        buf[o++] = (char) c;
        }
        buf[o] = '\0';
        if (len > VGPU_QUOTE_MAX)
                strcpy (buf + o, "...");
        return buf;
}

/* The text of a string value; json-c keeps "\u0000" inside strings, and no
 * caller wants a NUL cut short. */
int
vgpu_json_text (json_object *v, const char *label, const char **ret, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        const char *s;
        size_t len;

        if (!json_object_is_type (v, json_type_string))
                return vgpu_error_set (err, EINVAL, "%s must be a string", label);
        s = json_object_get_string (v);
        len = (size_t) json_object_get_string_len (v);
        if (strlen (s) != len)
                return vgpu_error_set (err, EINVAL, "%s \"%s\" contains a NUL byte", label, vgpu_quote (s, len, q));
        *ret = s;
        return 0;
}

int
vgpu_json_load_file (const char *path, const char *what, json_object **ret, vgpu_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = vgpu_read_regular_at (AT_FDCWD, path, VGPU_JSON_MAX_BYTES, &text, &len);

        if (r == -ENOENT)
                return vgpu_error_set (err, ENOENT, "no %s %s", what, path);
        if (r == -EINVAL || r == -EISDIR)
                return vgpu_error_set (err, EINVAL, "%s %s is not a regular file", what, path);
        if (r == -EFBIG)
                return vgpu_error_set (err, EFBIG, "%s %s is larger than %u bytes", what, path, VGPU_JSON_MAX_BYTES);
        if (r < 0)
                return vgpu_error_sys (err, -r, "%s %s", what, path);
        r = vgpu_json_parse (text, len, what, ret, err);
        return r < 0 ? vgpu_error_prefix (err, "%s", path) : 0;
}
