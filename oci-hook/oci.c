/* oci.c — see oci.h. */
#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* The kernel's PID_MAX_LIMIT on 64-bit. */
#define PID_LIMIT 4194304

static const vgpu_json_field_t state_fields[] = {
        { "ociVersion", json_type_string, false }, { "id", json_type_string, true },
        { "status", json_type_string, false },     { "pid", json_type_int, false },
        { "bundle", json_type_string, false },     { "annotations", json_type_object, false },
};
static const vgpu_json_field_t config_fields[] = {
        { "root", json_type_object, false },
        { "linux", json_type_object, false },
        { "process", json_type_object, false },
        { "annotations", json_type_object, false },
};
static const vgpu_json_field_t root_fields[] = { { "path", json_type_string, true } };
static const vgpu_json_field_t process_fields[] = { { "env", json_type_array, false } };
static const vgpu_json_field_t linux_fields[] = {
        { "cgroupsPath", json_type_string, false },
        { "devices", json_type_array, false },
        { "resources", json_type_object, false },
};
static const vgpu_json_field_t resources_fields[] = { { "devices", json_type_array, false } };
static const vgpu_json_field_t device_fields[] = {
        { "path", json_type_string, true }, { "type", json_type_string, false },  { "major", json_type_int, false },
        { "minor", json_type_int, false },  { "fileMode", json_type_int, false }, { "uid", json_type_int, false },
        { "gid", json_type_int, false },
};
static const vgpu_json_field_t rule_fields[] = {
        { "allow", json_type_boolean, true }, { "type", json_type_string, false },   { "major", json_type_int, false },
        { "minor", json_type_int, false },    { "access", json_type_string, false },
};

/* obj[key] checked against a field table; *ret NULL when absent. */
static int
section (json_object *obj, const char *key, const vgpu_json_field_t *fields, size_t n, const char *what,
         json_object **ret, vgpu_error_t *err)
{
        json_object *v;
        int r;

        *ret = NULL;
        if (!json_object_object_get_ex (obj, key, &v))
                return 0;
        r = vgpu_json_check (v, fields, n, what, err);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int
check_elements (json_object *array, const vgpu_json_field_t *fields, size_t n, const char *what, vgpu_error_t *err)
{
        char label[64];

        for (size_t i = 0; array && i < json_object_array_length (array); i++) {
                int r;

                snprintf (label, sizeof label, "%s[%zu]", what, i);
                r = vgpu_json_check (json_object_array_get_idx (array, i), fields, n, label, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool
is_alnum (char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool
vgpu_container_id_valid (const char *id)
{
        if (!id || !is_alnum (id[0]))
                return false;
        for (size_t n = 0; id[n]; n++)
                if (n >= VGPU_CONTAINER_ID_MAX || !(is_alnum (id[n]) || strchr ("_.-", id[n])))
                        return false;
        return true;
}

/* Append the components of p to ret (length *len), dropping empty ones and
 * "."; -EINVAL on "..", -ENAMETOOLONG when it does not fit. */
static int
append_components (const char *p, char *ret, size_t size, size_t *len)
{
        while (*p) {
                const char *end;
                size_t n;

                while (*p == '/')
                        p++;
                end = strchrnul (p, '/');
                n = (size_t) (end - p);
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        if (*len + 1 + n >= size)
                                return -ENAMETOOLONG;
                        ret[(*len)++] = '/';
                        memcpy (ret + *len, p, n);
                        *len += n;
                }
                p = end;
        }
        ret[*len] = '\0';
        return 0;
}

/* An absolute path in normal form, checked without any lookup. */
static int
normal_path (const char *label, const char *base, const char *path, char *ret, size_t size, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        size_t len = 0;
        int r;

        if (size > PATH_MAX)
                size = PATH_MAX;
        r = base ? append_components (base, ret, size, &len) : 0;
        if (r == 0)
                r = append_components (path, ret, size, &len);
        if (r == -EINVAL)
                return vgpu_error_set (err, EINVAL, "%s \"%s\" has a \"..\" component", label,
                                       vgpu_quote (path, strlen (path), q));
        if (r < 0)
                return vgpu_error_set (err, ENAMETOOLONG, "%s \"%s\" makes a path longer than %zu bytes", label,
                                       vgpu_quote (path, strlen (path), q), size - 1);
        if (len == 0)
                strcpy (ret, "/");
        return 0;
}

static int
state_fill (json_object *root, vgpu_oci_state_t *s, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        const char *text;
        json_object *v;
        long long pid;
        int r;

        json_object_object_get_ex (root, "id", &v);
        r = vgpu_json_text (v, "OCI state field \"id\"", &text, err);
        if (r < 0)
                return r;
        if (!vgpu_container_id_valid (text))
                return vgpu_error_set (err, EINVAL, "OCI state field \"id\" \"%s\" is not a valid container id",
                                       vgpu_quote (text, strlen (text), q));
        strcpy (s->id, text);
        if (json_object_object_get_ex (root, "status", &v)) {
                r = vgpu_json_text (v, "OCI state field \"status\"", &text, err);
                if (r < 0)
                        return r;
                if (text[0] == '\0' || strlen (text) >= sizeof s->status ||
                    strspn (text, "abcdefghijklmnopqrstuvwxyz") != strlen (text))
                        return vgpu_error_set (err, EINVAL,
                                               "OCI state field \"status\" \"%s\" is not a container status",
                                               vgpu_quote (text, strlen (text), q));
                strcpy (s->status, text);
        }
        pid = vgpu_json_int (root, "pid", 0);
        if (pid < 0 || pid > PID_LIMIT)
                return vgpu_error_set (err, ERANGE, "OCI state field \"pid\" %lld is out of range", pid);
        s->pid = (pid_t) pid;
        if (json_object_object_get_ex (root, "bundle", &v)) {
                r = vgpu_json_text (v, "OCI state field \"bundle\"", &text, err);
                if (r < 0)
                        return r;
                if (text[0] != '/')
                        return vgpu_error_set (err, EINVAL, "OCI state field \"bundle\" \"%s\" is not an absolute path",
                                               vgpu_quote (text, strlen (text), q));
                r = normal_path ("OCI state field \"bundle\"", NULL, text, s->bundle, sizeof s->bundle, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int
vgpu_oci_state_parse (const char *text, size_t len, vgpu_oci_state_t *ret, vgpu_error_t *err)
{
        _cleanup_json_ json_object *root = NULL;
        vgpu_oci_state_t s = { .pid = 0 };
        json_object *v;
        int r;

        r = vgpu_json_parse (text, len, "OCI state", &root, err);
        if (r < 0)
                return r;
        r = vgpu_json_check (root, state_fields, ARRAY_SIZE (state_fields), "OCI state", err);
        if (r < 0)
                return r;
        r = state_fill (root, &s, err);
        if (r < 0)
                return r;
        if (json_object_object_get_ex (root, "annotations", &v))
                s.annotations = json_object_get (v);
        *ret = s;
        return 0;
}

void
vgpu_oci_state_done (vgpu_oci_state_t *s)
{
        if (!s)
                return;
        json_object_put (s->annotations);
        s->annotations = NULL;
}

int
vgpu_oci_config_parse (const char *text, size_t len, json_object **ret, vgpu_error_t *err)
{
        _cleanup_json_ json_object *config = NULL;
        int r;

        r = vgpu_json_parse (text, len, "config.json", &config, err);
        if (r < 0)
                return r;
        r = vgpu_json_check (config, config_fields, ARRAY_SIZE (config_fields), "config.json", err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR (config);
        return 0;
}

int
vgpu_oci_config_load (const char *bundle, json_object **ret, vgpu_error_t *err)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *text = NULL;
        char q[VGPU_QUOTE_BUF];
        size_t len;
        int r;

        if (!bundle || bundle[0] != '/')
                return vgpu_error_set (err, EINVAL, "bundle \"%s\" is not an absolute path",
                                       bundle ? vgpu_quote (bundle, strlen (bundle), q) : "");
        dfd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return vgpu_error_sys (err, errno, "open bundle %s", vgpu_quote (bundle, strlen (bundle), q));
        r = vgpu_read_regular_at (dfd, "config.json", VGPU_JSON_MAX_BYTES, &text, &len);
        if (r == -EINVAL || r == -EISDIR)
                return vgpu_error_set (err, EINVAL, "config.json in bundle %s is not a regular file",
                                       vgpu_quote (bundle, strlen (bundle), q));
        if (r == -EFBIG)
                return vgpu_error_set (err, EFBIG, "config.json in bundle %s is larger than %u bytes",
                                       vgpu_quote (bundle, strlen (bundle), q), VGPU_JSON_MAX_BYTES);
        if (r < 0)
                return vgpu_error_sys (err, r, "read config.json in bundle %s",
                                       vgpu_quote (bundle, strlen (bundle), q));
        return vgpu_oci_config_parse (text, len, ret, err);
}

int
vgpu_oci_config_rootfs (json_object *config, const char *bundle, char *ret, size_t size, vgpu_error_t *err)
{
        char base[PATH_MAX], out[PATH_MAX], q[VGPU_QUOTE_BUF];
        json_object *root, *v;
        const char *path;
        int r;

        if (!json_object_is_type (config, json_type_object))
                return vgpu_error_set (err, EINVAL, "config.json is not a JSON object");
        r = section (config, "root", root_fields, ARRAY_SIZE (root_fields), "config.json root", &root, err);
        if (r < 0)
                return r;
        if (!root)
                return vgpu_error_set (err, EINVAL, "config.json lacks field \"root\"");
        json_object_object_get_ex (root, "path", &v);
        r = vgpu_json_text (v, "config.json root.path", &path, err);
        if (r < 0)
                return r;
        if (path[0] != '/') {
                if (!bundle || bundle[0] != '/')
                        return vgpu_error_set (err, EINVAL, "bundle \"%s\" is not an absolute path",
                                               bundle ? vgpu_quote (bundle, strlen (bundle), q) : "");
                r = normal_path ("bundle", NULL, bundle, base, sizeof base, err);
                if (r < 0)
                        return r;
        }
        r = normal_path ("config.json root.path", path[0] != '/' ? base : NULL, path, out, size, err);
        if (r < 0)
                return r;
        strcpy (ret, out);
        return 0;
}

/* The id inside a cgroupsPath: systemd's "slice:prefix:name" gives name; a
 * path gives its last component without the engine's prefix and ".scope". */
static void
id_of_cgroups_path (const char *path, char *buf, size_t size)
{
        static const char *const prefixes[] = { "libpod-", "crio-", "cri-containerd-", "docker-" };
        const char *colon = strchr (path, ':'), *last;
        size_t n = strlen (path);

        if (path[0] != '/' && colon) {
                const char *name = strchr (colon + 1, ':');
                snprintf (buf, size, "%s", name && !strchr (name + 1, ':') ? name + 1 : "");
                return;
        }
        while (n > 0 && path[n - 1] == '/')
                n--;
        last = memrchr (path, '/', n);
        last = last ? last + 1 : path;
        snprintf (buf, size, "%.*s", (int) (n - (size_t) (last - path)), last);
        n = strlen (buf);
        if (n > 6 && strcmp (buf + n - 6, ".scope") == 0)
                buf[n - 6] = '\0';
        for (size_t i = 0; i < ARRAY_SIZE (prefixes); i++) {
                n = strlen (prefixes[i]);
                if (strncmp (buf, prefixes[i], n) == 0 && buf[n] != '\0') {
                        memmove (buf, buf + n, strlen (buf + n) + 1);
                        break;
                }
        }
}

int
vgpu_oci_config_container_id (json_object *config, char *ret, size_t size, vgpu_error_t *err)
{
        char id[PATH_MAX], q[VGPU_QUOTE_BUF];
        json_object *linux_, *v;
        const char *path;
        int r;

        if (!json_object_is_type (config, json_type_object))
                return vgpu_error_set (err, EINVAL, "config.json is not a JSON object");
        r = section (config, "linux", linux_fields, ARRAY_SIZE (linux_fields), "config.json linux", &linux_, err);
        if (r < 0)
                return r;
        if (!linux_ || !json_object_object_get_ex (linux_, "cgroupsPath", &v))
                return vgpu_error_set (err, ENOENT,
                                       "config.json has no linux.cgroupsPath to take the container id from");
        r = vgpu_json_text (v, "config.json linux.cgroupsPath", &path, err);
        if (r < 0)
                return r;
        id_of_cgroups_path (path, id, sizeof id);
        if (!vgpu_container_id_valid (id))
                return vgpu_error_set (err, EINVAL,
                                       "config.json linux.cgroupsPath \"%s\" does not end in a container id",
                                       vgpu_quote (path, strlen (path), q));
        if (strlen (id) >= size)
                return vgpu_error_set (err, ENOBUFS, "container id %s does not fit %zu bytes", id, size);
        strcpy (ret, id);
        return 0;
}

/* process.env, every element a string without NUL; *ret NULL when absent. */
int
vgpu_oci_config_env (json_object *config, json_object **ret, vgpu_error_t *err)
{
        char label[64];
        json_object *process, *env;
        const char *text;
        int r;

        *ret = NULL;
        r = section (config, "process", process_fields, ARRAY_SIZE (process_fields), "config.json process", &process,
                     err);
        if (r < 0 || !process || !json_object_object_get_ex (process, "env", &env))
                return r;
        for (size_t i = 0; i < json_object_array_length (env); i++) {
                snprintf (label, sizeof label, "config.json process.env[%zu]", i);
                r = vgpu_json_text (json_object_array_get_idx (env, i), label, &text, err);
                if (r < 0)
                        return r;
        }
        *ret = env;
        return 0;
}

/* Everything apply reads, checked before its first edit. */
static int
apply_check (json_object *config, const vgpu_plan_t *plan, vgpu_error_t *err)
{
        json_object *linux_, *resources, *v, *env;
        int r;

        if (!json_object_is_type (config, json_type_object))
                return vgpu_error_set (err, EINVAL, "config.json is not a JSON object");
        if (plan->n_nodes > VGPU_PLAN_MAX_NODES || plan->n_env > VGPU_PLAN_MAX_ENV)
                return vgpu_error_set (err, EINVAL, "plan has %zu nodes and %zu env entries, more than it can hold",
                                       plan->n_nodes, plan->n_env);
        for (size_t i = 0; i < plan->n_env; i++)
                if (!memchr (plan->env[i], '\0', sizeof plan->env[i]) || plan->env[i][0] == '=' ||
                    !strchr (plan->env[i], '='))
                        return vgpu_error_set (err, EINVAL, "plan env entry %zu is not NAME=value", i);
        for (size_t i = 0; i < plan->n_nodes; i++)
                if (!memchr (plan->nodes[i].path, '\0', sizeof plan->nodes[i].path) || plan->nodes[i].path[0] != '/')
                        return vgpu_error_set (err, EINVAL, "plan node %zu has no absolute path", i);
        r = section (config, "linux", linux_fields, ARRAY_SIZE (linux_fields), "config.json linux", &linux_, err);
        if (r < 0 || !linux_)
                return r < 0 ? r : vgpu_oci_config_env (config, &env, err);
        r = section (linux_, "resources", resources_fields, ARRAY_SIZE (resources_fields),
                     "config.json linux.resources", &resources, err);
        if (r == 0 && json_object_object_get_ex (linux_, "devices", &v))
                r = check_elements (v, device_fields, ARRAY_SIZE (device_fields), "config.json linux.devices", err);
        if (r == 0 && resources && json_object_object_get_ex (resources, "devices", &v))
                r = check_elements (v, rule_fields, ARRAY_SIZE (rule_fields), "config.json linux.resources.devices",
                                    err);
        return r < 0 ? r : vgpu_oci_config_env (config, &env, err);
}

/* obj[key], added as a new empty object or array when absent. */
static json_object *
child (json_object *obj, const char *key, json_type type)
{
        json_object *v;

        if (json_object_object_get_ex (obj, key, &v))
                return v;
        v = type == json_type_array ? json_object_new_array () : json_object_new_object ();
        if (!v || json_object_object_add (obj, key, v) < 0) {
                json_object_put (v);
                return NULL;
        }
        return v;
}

static bool
put (json_object *obj, const char *key, json_object *v)
{
        if (v && json_object_object_add (obj, key, v) == 0)
                return true;
        json_object_put (v);
        return false;
}

static json_object *
node_entry (const vgpu_node_t *n, bool rule)
{
        _cleanup_json_ json_object *o = json_object_new_object ();

        if (!o)
                return NULL;
        if (rule ? !put (o, "allow", json_object_new_boolean (1)) : !put (o, "path", json_object_new_string (n->path)))
                return NULL;
        if (!put (o, "type", json_object_new_string ("c")) || !put (o, "major", json_object_new_int64 (n->major)) ||
            !put (o, "minor", json_object_new_int64 (n->minor)))
                return NULL;
        if (rule ? !put (o, "access", json_object_new_string ("rwm"))
                 : (!put (o, "fileMode", json_object_new_int64 (n->mode & 07777)) ||
                    !put (o, "uid", json_object_new_int (0)) || !put (o, "gid", json_object_new_int (0))))
                return NULL;
        return TAKE_PTR (o);
}

typedef bool (*same_fn) (json_object *element, const void *key);

/* Put entry where the first element like key is (dropping the others) or
 * at the end; takes entry in all cases. */
static int
place (json_object *array, json_object *entry, same_fn same, const void *key, bool in_place)
{
        bool placed = false;

        if (!entry)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length (array);) {
                if (!same (json_object_array_get_idx (array, i), key))
                        i++;
                else if (placed || !in_place)
                        json_object_array_del_idx (array, i, 1);
                else if (json_object_array_put_idx (array, i++, entry) == 0)
                        placed = true;
                else
                        break;
        }
        if (!placed && json_object_array_add (array, entry) == 0)
                placed = true;
        if (!placed)
                json_object_put (entry);
        return placed ? 0 : -ENOMEM;
}

static bool
same_path (json_object *device, const void *key)
{
        const char *path = vgpu_json_str (device, "path");

        return path && strcmp (path, ((const vgpu_node_t *) key)->path) == 0;
}

static bool
same_rule (json_object *rule, const void *key)
{
        const vgpu_node_t *n = key;
        const char *type = vgpu_json_str (rule, "type"), *access = vgpu_json_str (rule, "access");
        json_object *allow;

        return json_object_object_get_ex (rule, "allow", &allow) && json_object_get_boolean (allow) && type &&
               strcmp (type, "c") == 0 && access && strcmp (access, "rwm") == 0 &&
               vgpu_json_int (rule, "major", -1) == n->major && vgpu_json_int (rule, "minor", -1) == n->minor;
}

static bool
same_env_name (json_object *entry, const void *key)
{
        const char *s = json_object_get_string (entry), *name = key;

        return strncmp (s, name, (size_t) (strchr (name, '=') - name) + 1) == 0;
}

int
vgpu_oci_config_apply (json_object *config, const vgpu_plan_t *plan, vgpu_error_t *err)
{
        json_object *linux_, *devices, *resources, *rules, *process, *env;
        int r;

        r = apply_check (config, plan, err);
        if (r < 0)
                return r;
        if (plan->n_nodes > 0) {
                if (!(linux_ = child (config, "linux", json_type_object)) ||
                    !(devices = child (linux_, "devices", json_type_array)) ||
                    !(resources = child (linux_, "resources", json_type_object)) ||
                    !(rules = child (resources, "devices", json_type_array)))
                        return vgpu_error_set (err, ENOMEM, "config.json: out of memory");
                for (size_t i = 0; i < plan->n_nodes; i++) {
                        const vgpu_node_t *n = &plan->nodes[i];

                        /* A rule moves to the end: a deny rule after it would void it. */
                        if (place (devices, node_entry (n, false), same_path, n, true) < 0 ||
                            place (rules, node_entry (n, true), same_rule, n, false) < 0)
                                return vgpu_error_set (err, ENOMEM, "config.json: out of memory");
                }
        }
        if (plan->n_env > 0) {
                if (!(process = child (config, "process", json_type_object)) ||
                    !(env = child (process, "env", json_type_array)))
                        return vgpu_error_set (err, ENOMEM, "config.json: out of memory");
                for (size_t i = 0; i < plan->n_env; i++)
                        if (place (env, json_object_new_string (plan->env[i]), same_env_name, plan->env[i], true) < 0)
                                return vgpu_error_set (err, ENOMEM, "config.json: out of memory");
        }
        return 0;
}

const char *
vgpu_oci_config_to_string (json_object *config)
{
        return json_object_to_json_string_ext (config, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}
