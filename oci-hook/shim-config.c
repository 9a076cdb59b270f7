/* shim-config.c — see shim-config.h. */
#include "shim-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "json.h"
#include "util.h"

#define CONFIG_MAX_BYTES (64u << 10)

static const char *const runtime_dirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                            "/usr/bin",        "/sbin",          "/bin" };

static const vgpu_json_field_t config_fields[] = {
        { "runtime", json_type_string, false },
        { "accept_env", json_type_boolean, false },
        { "hook", json_type_string, false },
        { "roots", json_type_object, false },
};

/* what: "config file F" or "config file F \"roots\"", for messages. */
static int
check_keys (json_object *obj, const vgpu_json_field_t *fields, size_t n, const char *what, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        int r;

        r = vgpu_json_check (obj, fields, n, what, err);
        if (r < 0)
                return r;
        json_object_object_foreach (obj, key, value)
        {
                size_t i = 0;

                (void) value;
                while (i < n && strcmp (key, fields[i].name) != 0)
                        i++;
                if (i == n)
                        return vgpu_error_set (err, EINVAL, "%s has an unknown key \"%s\"", what,
                                               vgpu_quote (key, strlen (key), q));
        }
        return 0;
}

static bool
bare_name (const char *s)
{
        if (!*s || strcmp (s, ".") == 0 || strcmp (s, "..") == 0)
                return false;
        return strspn (s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen (s);
}

/* "runtime" (a program name or an absolute path) or "hook" (an absolute
 * path) into dst[PATH_MAX]. */
static int
take_path (json_object *obj, const char *key, const char *what, char *dst, vgpu_error_t *err)
{
        bool name_ok = strcmp (key, "runtime") == 0;
        char q[VGPU_QUOTE_BUF], label[PATH_MAX + 32];
        json_object *v;
        const char *s;

        if (!json_object_object_get_ex (obj, key, &v))
                return 0;
        snprintf (label, sizeof label, "%s field \"%s\"", what, key);
        if (vgpu_json_text (v, label, &s, err) < 0)
                return -EINVAL;
        if (strlen (s) >= PATH_MAX)
                return vgpu_error_set (err, ENAMETOOLONG, "%s field \"%s\" is longer than %d bytes", what, key,
                                       PATH_MAX - 1);
        if (s[0] != '/' && !(name_ok && bare_name (s)))
                return vgpu_error_set (err, EINVAL, "%s field \"%s\" \"%s\" is not %s", what, key,
                                       vgpu_quote (s, strlen (s), q),
                                       name_ok ? "a program name or an absolute path" : "an absolute path");
        strcpy (dst, s);
        return 0;
}

static int
take_roots (json_object *roots, const char *file, vgpu_roots_t *ret, vgpu_error_t *err)
{
        vgpu_json_field_t fields[VGPU_N_ROOTS];
        char what[PATH_MAX + 32];
        int r;

        snprintf (what, sizeof what, "config file %s \"roots\"", file);
        for (size_t i = 0; i < VGPU_N_ROOTS; i++)
                fields[i] = (vgpu_json_field_t) { vgpu_root_infos[i].which, json_type_string, false };
        r = check_keys (roots, fields, VGPU_N_ROOTS, what, err);
        for (size_t i = 0; r == 0 && i < VGPU_N_ROOTS; i++) {
                const char *which = vgpu_root_infos[i].which, *path;
                json_object *v;

                if (!json_object_object_get_ex (roots, which, &v))
                        continue;
                r = vgpu_json_text (v, what, &path, err);
                if (r == 0 && (r = vgpu_roots_set (ret, which, path, err)) < 0)
                        vgpu_error_prefix (err, "config file %s", file);
        }
        return r;
}

int
vgpu_shim_config_parse (vgpu_shim_config_t *c, const char *text, size_t len, const char *file, vgpu_error_t *err)
{
        _cleanup_json_ json_object *root = NULL;
        vgpu_shim_config_t next = *c;
        char what[PATH_MAX + 16];
        json_object *v;
        int r;

        snprintf (what, sizeof what, "config file %s", file);
        r = vgpu_json_parse (text, len, what, &root, err);
        if (r == 0)
                r = check_keys (root, config_fields, ARRAY_SIZE (config_fields), what, err);
        if (r == 0)
                r = take_path (root, "runtime", what, next.runtime, err);
        if (r == 0)
                r = take_path (root, "hook", what, next.hook, err);
        if (r == 0 && json_object_object_get_ex (root, "roots", &v))
                r = take_roots (v, file, &next.roots, err);
        if (r < 0)
                return r;
        if (json_object_object_get_ex (root, "accept_env", &v))
                next.accept_env = json_object_get_boolean (v);
        *c = next;
        return 0;
}

static int
roots_from_env (vgpu_roots_t *roots, vgpu_error_t *err)
{
        for (size_t i = 0; i < VGPU_N_ROOTS; i++) {
                const char *v = getenv (vgpu_root_infos[i].env);

                if (v && *v && vgpu_roots_set (roots, vgpu_root_infos[i].which, v, err) < 0)
                        return vgpu_error_prefix (err, "%s", vgpu_root_infos[i].env);
        }
        return 0;
}

int
vgpu_shim_config_load (vgpu_shim_config_t *ret, const char *path, vgpu_error_t *err)
{
        vgpu_shim_config_t c = { .accept_env = true };
        _cleanup_free_ char *text = NULL;
        const char *env = getenv (VGPU_SHIM_CONFIG_ENV);
        bool named = path || (env && *env);
        size_t len;
        int r;

        strcpy (c.runtime, VGPU_SHIM_DEFAULT_RUNTIME);
        vgpu_copy (c.hook, sizeof c.hook, VGPU_HOOK_PATH);
        for (size_t i = 0; i < VGPU_N_ROOTS; i++)
                vgpu_roots_set (&c.roots, vgpu_root_infos[i].which, vgpu_root_infos[i].def, NULL);
        if (!path)
                path = named ? env : VGPU_SHIM_CONFIG_FILE;
        if (path[0] != '/')
                return vgpu_error_set (err, EINVAL, "config file \"%s\" is not an absolute path", path);
        r = vgpu_read_file_at (AT_FDCWD, path, CONFIG_MAX_BYTES, &text, &len);
        if (r == -EFBIG)
                return vgpu_error_set (err, EFBIG, "config file %s is larger than %u bytes", path, CONFIG_MAX_BYTES);
        if (r < 0 && !(r == -ENOENT && !named))
                return vgpu_error_sys (err, r, "config file %s", path);
        if (r == 0 && (r = vgpu_shim_config_parse (&c, text, len, path, err)) < 0)
                return r;
        r = roots_from_env (&c.roots, err);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}

static int
executable_file (const char *path, struct stat *st)
{
        if (stat (path, st) < 0)
                return -errno;
        if (!S_ISREG (st->st_mode))
                return -EACCES;
        return access (path, X_OK) < 0 ? -errno : 0;
}

int
vgpu_shim_runtime_resolve (const char *runtime, char ret[PATH_MAX], vgpu_error_t *err)
{
        struct stat st, self;
        char path[PATH_MAX];
        int r = -ENOENT;

        if (runtime[0] == '/') {
                vgpu_copy (path, sizeof path, runtime);
                r = executable_file (path, &st);
                if (r < 0)
                        return vgpu_error_sys (err, r, "runtime %s", runtime);
        } else {
                for (size_t i = 0; r < 0 && i < ARRAY_SIZE (runtime_dirs); i++) {
                        snprintf (path, sizeof path, "%s/%s", runtime_dirs[i], runtime);
                        r = executable_file (path, &st);
                }
                if (r < 0)
                        return vgpu_error_set (err, ENOENT,
                                               "runtime \"%s\" is not an executable in /usr/local/sbin, "
                                               "/usr/local/bin, /usr/sbin, /usr/bin, /sbin or /bin",
                                               runtime);
        }
        if (stat ("/proc/self/exe", &self) == 0 && self.st_dev == st.st_dev && self.st_ino == st.st_ino)
                return vgpu_error_set (err, ELOOP, "runtime %s is vgpu-runtime itself, not an OCI runtime", path);
        strcpy (ret, path);
        return 0;
}
