/* options.c — see options.h. */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cdi-name.h"
#include "json.h"
#include "util.h"

#define CONFIG_MAX_BYTES (64 * 1024)

int
vgpu_kopts_init (vgpu_kopts_t *o, vgpu_error_t *err)
{
        memset (o, 0, sizeof *o);
        o->mode = VGPU_KMODE_DYNAMIC;
        o->pool_size = VGPU_KUBELET_POOL_FILL;
        o->scan_ms = VGPU_KUBELET_SCAN_MS;
        vgpu_copy (o->plugin_dir, sizeof o->plugin_dir, VGPU_KUBELET_DIR);
        vgpu_copy (o->type, sizeof o->type, "auto");
        vgpu_copy (o->resource, sizeof o->resource, VGPU_KUBELET_RESOURCE);
        vgpu_copy (o->cdi_kind, sizeof o->cdi_kind, VGPU_KUBELET_CDI_KIND);
        vgpu_copy (o->cdi_dir, sizeof o->cdi_dir, VGPU_KUBELET_CDI_DIR);
        vgpu_copy (o->mdevctl_dir, sizeof o->mdevctl_dir, VGPU_KUBELET_MDEVCTL_DIR);
        return vgpu_roots_init (&o->roots, err);
}

static int
set_dir (char *dst, const char *key, const char *value, vgpu_error_t *err)
{
        size_t len = strlen (value);

        if (value[0] != '/')
                return vgpu_error_set (err, EINVAL, "%s \"%.64s\" is not an absolute path", key, value);
        if (len >= PATH_MAX)
                return vgpu_error_set (err, ENAMETOOLONG, "%s is longer than %d bytes", key, PATH_MAX - 1);
        while (len > 1 && value[len - 1] == '/')
                len--;
        memcpy (dst, value, len);
        dst[len] = '\0';
        return 0;
}

static int
set_number (const char *key, const char *value, unsigned long long min, unsigned long long max, unsigned long long *ret,
            vgpu_error_t *err)
{
        if (vgpu_parse_uint (value, max, ret) < 0 || *ret < min)
                return vgpu_error_set (err, EINVAL, "%s \"%.64s\" is not a number from %llu to %llu", key, value, min,
                                       max);
        return 0;
}

static int
set_name (char *dst, size_t size, const char *key, const char *value, bool (*valid) (const char *), vgpu_error_t *err)
{
        if (strlen (value) >= size || !valid (value))
                return vgpu_error_set (err, EINVAL, "%s \"%.64s\" is not valid", key, value);
        vgpu_copy (dst, size, value);
        return 0;
}

static bool
type_valid (const char *t)
{
        return strcmp (t, "auto") == 0 || vgpu_name_valid (t);
}

static int
set_bool (bool *dst, const char *key, const char *value, vgpu_error_t *err)
{
        if (strcmp (value, "true") != 0 && strcmp (value, "false") != 0)
                return vgpu_error_set (err, EINVAL, "%s \"%.64s\" is not true or false", key, value);
        *dst = strcmp (value, "true") == 0;
        return 0;
}

static int
set_mode (vgpu_kopts_t *o, const char *value, vgpu_error_t *err)
{
        if (strcmp (value, "dynamic") == 0)
                o->mode = VGPU_KMODE_DYNAMIC;
        else if (strcmp (value, "pool") == 0)
                o->mode = VGPU_KMODE_POOL;
        else
                return vgpu_error_set (err, EINVAL, "mode \"%.64s\" is not dynamic or pool", value);
        return 0;
}

static int
set_pool_size (vgpu_kopts_t *o, const char *value, vgpu_error_t *err)
{
        unsigned long long n;
        int r = 0;

        if (strcmp (value, "all") == 0)
                o->pool_size = VGPU_KUBELET_POOL_FILL;
        else if ((r = set_number ("pool-size", value, 0, VGPU_KUBELET_POOL_MAX, &n, err)) == 0)
                o->pool_size = (int) n;
        o->pool_size_set = r == 0;
        return r;
}

int
vgpu_kopts_set (vgpu_kopts_t *o, const char *key, const char *value, vgpu_error_t *err)
{
        unsigned long long n;
        int r;

        if (strcmp (key, "plugin-dir") == 0)
                return set_dir (o->plugin_dir, key, value, err);
        if (strcmp (key, "cdi-dir") == 0)
                return set_dir (o->cdi_dir, key, value, err);
        if (strcmp (key, "mdevctl-dir") == 0)
                return set_dir (o->mdevctl_dir, key, value, err);
        if (strcmp (key, "mode") == 0)
                return set_mode (o, value, err);
        if (strcmp (key, "type") == 0)
                return set_name (o->type, sizeof o->type, key, value, type_valid, err);
        if (strcmp (key, "resource") == 0)
                return set_name (o->resource, sizeof o->resource, key, value, vgpu_kubelet_resource_valid, err);
        if (strcmp (key, "cdi-kind") == 0)
                return set_name (o->cdi_kind, sizeof o->cdi_kind, key, value, vgpu_kubelet_cdi_kind_valid, err);
        if (strcmp (key, "pool-size") == 0)
                return set_pool_size (o, value, err);
        if (strcmp (key, "adopt") == 0)
                return set_bool (&o->adopt, key, value, err);
        if (strcmp (key, "scan-interval-ms") == 0) {
                r = set_number (key, value, 100, 60000, &n, err);
                if (r == 0)
                        o->scan_ms = (unsigned) n;
                return r;
        }
        return vgpu_error_set (err, EINVAL, "unknown setting \"%.64s\"", key);
}

/* A JSON value as the text a flag would carry. */
static int
value_text (json_object *v, char *buf, size_t size)
{
        if (json_object_is_type (v, json_type_string))
                snprintf (buf, size, "%s", json_object_get_string (v));
        else if (json_object_is_type (v, json_type_int) && json_object_get_int64 (v) >= 0)
                snprintf (buf, size, "%lld", (long long) json_object_get_int64 (v));
        else if (json_object_is_type (v, json_type_boolean))
                snprintf (buf, size, "%s", json_object_get_boolean (v) ? "true" : "false");
        else
                return -EINVAL;
        return strlen (buf) < size - 1 ? 0 : -ENAMETOOLONG;
}

int
vgpu_kopts_load (vgpu_kopts_t *o, const char *path, vgpu_error_t *err)
{
        _cleanup_json_ json_object *obj = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        r = vgpu_read_file_at (AT_FDCWD, path, CONFIG_MAX_BYTES, &text, &len);
        if (r < 0)
                return vgpu_error_sys (err, -r, "config %s", path);
        r = vgpu_json_parse (text, len, "config", &obj, err);
        if (r == 0 && !json_object_is_type (obj, json_type_object))
                r = vgpu_error_set (err, EINVAL, "config is not a JSON object");
        if (r < 0)
                return vgpu_error_prefix (err, "%s", path);
        json_object_object_foreach (obj, key, v)
        {
                char value[PATH_MAX + 1];

                if (value_text (v, value, sizeof value) < 0)
                        return vgpu_error_set (
                                err, EINVAL, "config %s: \"%.64s\" must be a string, a number or a boolean", path, key);
                r = vgpu_kopts_set (o, key, value, err);
                if (r < 0)
                        return vgpu_error_prefix (err, "config %s", path);
        }
        return 0;
}

int
vgpu_kopts_check (vgpu_kopts_t *o, vgpu_error_t *err)
{
        char name[VGPU_KUBELET_SUN_PATH];
        int r;

        r = vgpu_kubelet_socket_name (o->resource, name, sizeof name);
        if (r < 0 || strlen (o->plugin_dir) + 1 + strlen (name) >= VGPU_KUBELET_SUN_PATH)
                return vgpu_error_set (
                        err, ENAMETOOLONG,
                        "plugin-dir %s: the socket path would be longer than a unix socket takes (%d bytes)",
                        o->plugin_dir, VGPU_KUBELET_SUN_PATH - 1);
        if (o->mode == VGPU_KMODE_DYNAMIC) {
                if (o->adopt || o->pool_size_set)
                        return vgpu_error_set (err, EINVAL, "%s is for mode pool, not dynamic",
                                               o->adopt ? "adopt" : "pool-size");
                if (strcmp (o->type, "auto") != 0 && !vgpu_kubelet_cdi_name_plain (o->type))
                        return vgpu_error_set (err, EINVAL,
                                               "type \"%.64s\" is not a CDI device name as vgpu-cdi writes it "
                                               "unmapped: dynamic mode cannot name it",
                                               o->type);
                return 0;
        }
        if (!o->pool_size_set)
                o->pool_size = o->adopt ? 0 : VGPU_KUBELET_POOL_FILL;
        return 0;
}

static bool
dns_label_char (char c, bool inner)
{
        return islower ((unsigned char) c) || isdigit ((unsigned char) c) || (inner && c == '-');
}

/* RFC 1123 subdomain: lowercase labels of [a-z0-9-], alphanumeric at both
 * ends, joined by '.', at most 253 bytes. */
static bool
dns_subdomain_valid (const char *s, size_t len)
{
        size_t label = 0;

        if (len == 0 || len > 253)
                return false;
        for (size_t i = 0; i < len; i++) {
                bool first = label == 0, last = i + 1 == len || s[i + 1] == '.';

                if (s[i] == '.') {
                        if (first)
                                return false;
                        label = 0;
                        continue;
                }
                if (!dns_label_char (s[i], !first && !last) || ++label > 63)
                        return false;
        }
        return s[len - 1] != '.';
}

/* [A-Za-z0-9] first and last, and `between` in the middle. */
static bool
name_valid (const char *s, size_t len, size_t max, const char *between)
{
        if (len == 0 || len > max || !isalnum ((unsigned char) s[0]) || !isalnum ((unsigned char) s[len - 1]))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isalnum ((unsigned char) s[i]) && !strchr (between, s[i]))
                        return false;
        return true;
}

bool
vgpu_kubelet_resource_valid (const char *name)
{
        const char *slash = strchr (name, '/');
        size_t dlen;

        if (!slash || strchr (slash + 1, '/'))
                return false;
        dlen = (size_t) (slash - name);
        if (!dns_subdomain_valid (name, dlen))
                return false;
        /* the kubernetes.io domain holds the native resources */
        if ((dlen == 13 && strncmp (name, "kubernetes.io", 13) == 0) ||
            (dlen > 14 && strncmp (slash - 14, ".kubernetes.io", 14) == 0))
                return false;
        return name_valid (slash + 1, strlen (slash + 1), 63, "-_.");
}

bool
vgpu_kubelet_cdi_kind_valid (const char *kind)
{
        return vgpu_cdi_kind_check (kind, NULL) == 0;
}

bool
vgpu_kubelet_cdi_name_plain (const char *name)
{
        return strlen (name) < VGPU_NAME_MAX && vgpu_cdi_name_valid (name) && !strchr (name, ':');
}

int
vgpu_kubelet_socket_name (const char *resource, char *ret, size_t size)
{
        size_t n = (size_t) snprintf (ret, size, "vgpu-toolkit-%s.sock", resource);

        if (n >= size)
                return -ENAMETOOLONG;
        for (char *p = ret + strlen ("vgpu-toolkit-"); p < ret + n - strlen (".sock"); p++)
                if (*p == '/' || *p == '.')
                        *p = '-';
        return 0;
}

const char *
vgpu_kmode_name (vgpu_kmode_t mode)
{
        return mode == VGPU_KMODE_POOL ? "pool" : "dynamic";
}

void
vgpu_klog (const vgpu_klog_t *log, const char *fmt, ...)
{
        char line[VGPU_ERROR_MAX + 256];
        va_list ap;

        if (!log || !log->line)
                return;
        va_start (ap, fmt);
        vsnprintf (line, sizeof line, fmt, ap);
        va_end (ap);
        for (char *p = line; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        log->line (log->data, line);
}
