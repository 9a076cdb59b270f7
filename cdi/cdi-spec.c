/* cdi-spec.c — see cdi-spec.h. */
#include "cdi-spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "ledger.h"
#include "stage.h"
#include "util.h"

int
vgpu_cdi_map_name (const char *id, char *ret, size_t size)
{
        size_t len = strlen (id), o = 0;
        char buf[VGPU_CDI_NAME_MAX];

        if (len == 0)
                return -EINVAL;
        if (vgpu_cdi_name_valid (id) && !strchr (id, ':')) {
                if (len >= size)
                        return -ENAMETOOLONG;
                memcpy (ret, id, len + 1);
                return 0;
        }
        if (!vgpu_ascii_alnum (id[0]))
                o = (size_t) snprintf (buf, sizeof buf, "x:");
        for (size_t i = 0; i < len && o < sizeof buf; i++) {
                char c = id[i];
                bool edge = i == 0 || i == len - 1;

                if (vgpu_ascii_alnum (c) || (!edge && strchr ("_.-", c)))
                        buf[o++] = c;
                else
                        o += (size_t) snprintf (buf + o, sizeof buf - o, ":%02x", (unsigned char) c);
        }
        if (o >= sizeof buf || o >= size)
                return -ENAMETOOLONG;
        buf[o] = '\0';
        memcpy (ret, buf, o + 1);
        return 0;
}

bool
vgpu_cdi_claim_valid (const char *id)
{
        size_t len = strlen (id);

        return len > 0 && len <= VGPU_CDI_CLAIM_MAX && vgpu_owner_valid (id) && vgpu_ascii_alnum (id[len - 1]);
}

int
vgpu_cdi_file_name (const char *kind, const char *claim, char *ret, size_t size, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        const char *slash;
        int n;

        if (vgpu_cdi_kind_check (kind, err) < 0)
                return -EINVAL;
        if (claim && !vgpu_cdi_claim_valid (claim))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a claim id", vgpu_quote (claim, strlen (claim), q));
        slash = strchr (kind, '/');
        n = snprintf (ret, size, "%.*s-%s%s%s.json", (int) (slash - kind), kind, slash + 1, claim ? "_" : "",
                      claim ? claim : "");
        if (n < 0 || (size_t) n >= size || n > NAME_MAX)
                return vgpu_error_set (err, ENAMETOOLONG, "the spec file name for kind %s is too long", kind);
        return 0;
}

int
vgpu_cdi_pool_file_name (const char *kind, char *ret, size_t size, vgpu_error_t *err)
{
        int r = vgpu_cdi_file_name (kind, NULL, ret, size, err);
        size_t len = r == 0 ? strlen (ret) : 0;

        if (r < 0)
                return r;
        if (len + 5 >= size || len + 5 > NAME_MAX)
                return vgpu_error_set (err, ENAMETOOLONG, "the pool spec file name for kind %s is too long", kind);
        strcpy (ret + len - 5, "-pool.json");
        return 0;
}

int
vgpu_cdi_spec_init (vgpu_cdi_spec_t *spec, const char *kind, vgpu_error_t *err)
{
        memset (spec, 0, sizeof *spec);
        if (vgpu_cdi_kind_check (kind, err) < 0)
                return -EINVAL;
        snprintf (spec->kind, sizeof spec->kind, "%s", kind);
        for (size_t i = 0; i < VGPU_N_ROOTS; i++)
                vgpu_roots_set (&spec->roots, vgpu_root_infos[i].which, vgpu_root_infos[i].def, NULL);
        return 0;
}

void
vgpu_cdi_spec_done (vgpu_cdi_spec_t *spec)
{
        free (spec->devices);
        spec->devices = NULL;
        spec->n_devices = 0;
}

int
vgpu_cdi_spec_add (vgpu_cdi_spec_t *spec, const char *name, const char *type, const vgpu_plan_t *plan,
                   vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        vgpu_cdi_device_t *d;
        void *p;

        if (!vgpu_cdi_name_valid (name))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a CDI device name",
                                       vgpu_quote (name, strlen (name), q));
        if (type && strlen (type) >= VGPU_NAME_MAX)
                return vgpu_error_set (err, ENAMETOOLONG, "type of device %s is too long", name);
        for (size_t i = 0; i < spec->n_devices; i++)
                if (strcmp (spec->devices[i].name, name) == 0)
                        return vgpu_error_set (err, EEXIST, "two devices named %s in kind %s", name, spec->kind);
        p = realloc (spec->devices, (spec->n_devices + 1) * sizeof *spec->devices);
        if (!p)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        spec->devices = p;
        d = &spec->devices[spec->n_devices++];
        memset (d, 0, sizeof *d);
        snprintf (d->name, sizeof d->name, "%s", name);
        snprintf (d->type, sizeof d->type, "%s", type ? type : "");
        d->plan = *plan;
        return 0;
}

const char *
vgpu_cdi_version (const vgpu_cdi_spec_t *spec)
{
        /* 0.5.0 allowed device names that start with a digit; nothing else
         * written here (no hostPath, no typed mounts, no annotations) needs
         * more than 0.3.0, the oldest version the reference library reads. */
        for (size_t i = 0; i < spec->n_devices; i++)
                if (!vgpu_ascii_letter (spec->devices[i].name[0]))
                        return "0.5.0";
        return "0.3.0";
}

static json_object *
string_array (const char *const *v, size_t n)
{
        json_object *a = json_object_new_array ();

        for (size_t i = 0; i < n; i++)
                json_object_array_add (a, json_object_new_string (v[i]));
        return a;
}

/* vgpu-hook's argv: the roots that are not the defaults, then the rest. */
static json_object *
hook_json (const vgpu_cdi_spec_t *spec, const char *name, const char *type)
{
        const char *argv[12];
        size_t n = 0;
        json_object *h = json_object_new_object ();

        argv[n++] = "vgpu-hook";
        n += vgpu_roots_args (&spec->roots, argv + n);
        if (type) {
                argv[n++] = "--type";
                argv[n++] = type;
        }
        argv[n++] = name;
        json_object_object_add (h, "hookName", json_object_new_string (name));
        json_object_object_add (h, "path", json_object_new_string (spec->hook_path));
        json_object_object_add (h, "args", string_array (argv, n));
        json_object_object_add (h, "timeout", json_object_new_int (VGPU_CDI_HOOK_TIMEOUT));
        return h;
}

static json_object *
edits_json (const vgpu_cdi_spec_t *spec, const vgpu_cdi_device_t *d)
{
        json_object *e = json_object_new_object (), *nodes = json_object_new_array ();

        if (d->plan.n_env > 0) {
                json_object *env = json_object_new_array ();

                for (size_t i = 0; i < d->plan.n_env; i++)
                        json_object_array_add (env, json_object_new_string (d->plan.env[i]));
                json_object_object_add (e, "env", env);
        }
        /* Explicit type and numbers: without them the runtime stats the host
         * node, which a dynamic spec cannot promise exists yet. */
        for (size_t i = 0; i < d->plan.n_nodes; i++) {
                const vgpu_node_t *n = &d->plan.nodes[i];
                json_object *o = json_object_new_object ();

                json_object_object_add (o, "path", json_object_new_string (n->path));
                json_object_object_add (o, "type", json_object_new_string ("c"));
                json_object_object_add (o, "major", json_object_new_int64 (n->major));
                json_object_object_add (o, "minor", json_object_new_int64 (n->minor));
                json_object_object_add (o, "fileMode", json_object_new_int ((int) (n->mode & 07777)));
                json_object_array_add (nodes, o);
        }
        json_object_object_add (e, "deviceNodes", nodes);
        if (d->type[0]) {
                json_object *hooks = json_object_new_array ();

                json_object_array_add (hooks, hook_json (spec, vgpu_stage_name (VGPU_STAGE_CREATE_RUNTIME), d->type));
                json_object_array_add (hooks, hook_json (spec, vgpu_stage_name (VGPU_STAGE_POSTSTOP), NULL));
                json_object_object_add (e, "hooks", hooks);
        }
        return e;
}

int
vgpu_cdi_render (const vgpu_cdi_spec_t *spec, char **ret, vgpu_error_t *err)
{
        _cleanup_json_ json_object *root = json_object_new_object ();
        json_object *devices = json_object_new_array ();
        const char *text;

        json_object_object_add (root, "cdiVersion", json_object_new_string (vgpu_cdi_version (spec)));
        json_object_object_add (root, "kind", json_object_new_string (spec->kind));
        for (size_t i = 0; i < spec->n_devices; i++) {
                json_object *d = json_object_new_object ();

                json_object_object_add (d, "name", json_object_new_string (spec->devices[i].name));
                json_object_object_add (d, "containerEdits", edits_json (spec, &spec->devices[i]));
                json_object_array_add (devices, d);
        }
        json_object_object_add (root, "devices", devices);
        text = json_object_to_json_string_ext (root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text || asprintf (ret, "%s\n", text) < 0)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        return 0;
}

static const vgpu_json_field_t spec_fields[] = {
        { "cdiVersion", json_type_string, true },
        { "kind", json_type_string, true },
        { "devices", json_type_array, true },
};
static const vgpu_json_field_t device_fields[] = {
        { "name", json_type_string, true },
        { "containerEdits", json_type_object, true },
};
static const vgpu_json_field_t edits_fields[] = {
        { "env", json_type_array, false },
        { "deviceNodes", json_type_array, false },
        { "hooks", json_type_array, false },
};
static const vgpu_json_field_t node_fields[] = {
        { "path", json_type_string, true }, { "type", json_type_string, false },  { "major", json_type_int, false },
        { "minor", json_type_int, false },  { "fileMode", json_type_int, false },
};
static const vgpu_json_field_t hook_fields[] = {
        { "hookName", json_type_string, true },
        { "path", json_type_string, true },
        { "args", json_type_array, false },
};

/* A string element of an array, or NULL. */
static const char *
element (json_object *arr, size_t i)
{
        json_object *v = json_object_array_get_idx (arr, i);

        return json_object_is_type (v, json_type_string) ? json_object_get_string (v) : NULL;
}

static int
parse_node (json_object *o, const char *dev, vgpu_plan_t *plan, vgpu_error_t *err)
{
        vgpu_node_t *n;
        long long major, minor;
        int r = vgpu_json_check (o, node_fields, ARRAY_SIZE (node_fields), "device node", err);

        if (r < 0)
                return vgpu_error_prefix (err, "device %s", dev);
        if (plan->n_nodes == VGPU_PLAN_MAX_NODES)
                return vgpu_error_set (err, E2BIG, "device %s has more than %d nodes", dev, VGPU_PLAN_MAX_NODES);
        n = &plan->nodes[plan->n_nodes++];
        major = vgpu_json_int (o, "major", 0);
        minor = vgpu_json_int (o, "minor", 0);
        if (major < 0 || minor < 0 || major > UINT32_MAX || minor > UINT32_MAX ||
            strlen (vgpu_json_str (o, "path")) >= sizeof n->path)
                return vgpu_error_set (err, EINVAL, "device %s has a node out of range", dev);
        snprintf (n->path, sizeof n->path, "%s", vgpu_json_str (o, "path"));
        n->major = (unsigned) major;
        n->minor = (unsigned) minor;
        n->mode = (mode_t) (vgpu_json_int (o, "fileMode", 0) & 07777);
        return 0;
}

/* The createRuntime hook tells the hook's path, roots and type. */
static int
parse_hook (json_object *o, vgpu_cdi_spec_t *spec, vgpu_cdi_device_t *d, vgpu_error_t *err)
{
        json_object *args;
        size_t n;
        int r = vgpu_json_check (o, hook_fields, ARRAY_SIZE (hook_fields), "hook", err);

        if (r < 0)
                return vgpu_error_prefix (err, "device %s", d->name);
        if (strcmp (vgpu_json_str (o, "hookName"), vgpu_stage_name (VGPU_STAGE_CREATE_RUNTIME)) != 0)
                return 0;
        snprintf (spec->hook_path, sizeof spec->hook_path, "%s", vgpu_json_str (o, "path"));
        if (!json_object_object_get_ex (o, "args", &args))
                return 0;
        n = json_object_array_length (args);
        for (size_t i = 0; i + 1 < n; i++) {
                const char *a = element (args, i), *v = element (args, i + 1);

                if (!a || !v)
                        continue;
                if (strcmp (a, "--type") == 0)
                        snprintf (d->type, sizeof d->type, "%s", v);
                for (size_t k = 0; k < VGPU_N_ROOTS; k++)
                        if (strcmp (a, vgpu_root_infos[k].flag) == 0 &&
                            vgpu_roots_set (&spec->roots, vgpu_root_infos[k].which, v, err) < 0)
                                return vgpu_error_prefix (err, "device %s hook", d->name);
        }
        return 0;
}

static int
parse_edits (json_object *e, vgpu_cdi_spec_t *spec, vgpu_cdi_device_t *d, vgpu_error_t *err)
{
        json_object *a;
        int r = vgpu_json_check (e, edits_fields, ARRAY_SIZE (edits_fields), "containerEdits", err);

        if (r < 0)
                return vgpu_error_prefix (err, "device %s", d->name);
        if (json_object_object_get_ex (e, "env", &a))
                for (size_t i = 0; i < json_object_array_length (a); i++) {
                        const char *v = element (a, i);

                        if (!v || strlen (v) >= sizeof d->plan.env[0] || d->plan.n_env == VGPU_PLAN_MAX_ENV)
                                return vgpu_error_set (err, EINVAL, "device %s: env entry %zu is not usable", d->name,
                                                       i);
                        snprintf (d->plan.env[d->plan.n_env++], sizeof d->plan.env[0], "%s", v);
                }
        if (json_object_object_get_ex (e, "deviceNodes", &a))
                for (size_t i = 0; r == 0 && i < json_object_array_length (a); i++)
                        r = parse_node (json_object_array_get_idx (a, i), d->name, &d->plan, err);
        if (r == 0 && json_object_object_get_ex (e, "hooks", &a))
                for (size_t i = 0; r == 0 && i < json_object_array_length (a); i++)
                        r = parse_hook (json_object_array_get_idx (a, i), spec, d, err);
        return r;
}

int
vgpu_cdi_parse (const char *text, size_t len, vgpu_cdi_spec_t *ret, vgpu_error_t *err)
{
        _cleanup_json_ json_object *root = NULL;
        vgpu_cdi_spec_t spec;
        json_object *devices;
        int r;

        r = vgpu_json_parse (text, len, "CDI spec", &root, err);
        if (r == 0)
                r = vgpu_json_check (root, spec_fields, ARRAY_SIZE (spec_fields), "CDI spec", err);
        if (r == 0 && vgpu_cdi_spec_init (&spec, vgpu_json_str (root, "kind"), err) < 0)
                r = vgpu_error_prefix (err, "CDI spec kind \"%.64s\"", vgpu_json_str (root, "kind"));
        if (r < 0)
                return r;
        json_object_object_get_ex (root, "devices", &devices);
        for (size_t i = 0; r == 0 && i < json_object_array_length (devices); i++) {
                json_object *d = json_object_array_get_idx (devices, i), *e;
                vgpu_plan_t empty = { 0 };

                r = vgpu_json_check (d, device_fields, ARRAY_SIZE (device_fields), "CDI device", err);
                if (r == 0)
                        r = vgpu_cdi_spec_add (&spec, vgpu_json_str (d, "name"), NULL, &empty, err);
                if (r == 0 && json_object_object_get_ex (d, "containerEdits", &e))
                        r = parse_edits (e, &spec, &spec.devices[spec.n_devices - 1], err);
        }
        if (r < 0) {
                vgpu_cdi_spec_done (&spec);
                return r;
        }
        *ret = spec;
        return 0;
}

int
vgpu_cdi_load (const char *path, vgpu_cdi_spec_t *ret, vgpu_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = vgpu_read_file_at (AT_FDCWD, path, VGPU_JSON_MAX_BYTES, &text, &len);

        if (r == -ENOENT)
                return vgpu_error_set (err, ENOENT, "no spec file %s", path);
        if (r < 0)
                return vgpu_error_sys (err, -r, "spec file %s", path);
        r = vgpu_cdi_parse (text, len, ret, err);
        return r < 0 ? vgpu_error_prefix (err, "%s", path) : 0;
}

/* Directory and file name of path; the name must be a *.json. */
static int
split_path (const char *path, char *dir, size_t size, const char **ret_base, vgpu_error_t *err)
{
        const char *slash = strrchr (path, '/');
        const char *base = slash ? slash + 1 : path;
        size_t len = strlen (base);

        if (len <= 5 || strcmp (base + len - 5, ".json") != 0 || base[0] == '.')
                return vgpu_error_set (err, EINVAL, "spec file %s: CDI reads only files named *.json (or *.yaml)",
                                       path);
        if (!slash)
                snprintf (dir, size, ".");
        else if (slash == path)
                snprintf (dir, size, "/");
        else if ((size_t) (slash - path) >= size)
                return vgpu_error_set (err, ENAMETOOLONG, "spec file %s: path too long", path);
        else
                snprintf (dir, size, "%.*s", (int) (slash - path), path);
        *ret_base = base;
        return 0;
}

int
vgpu_cdi_save (const char *path, const vgpu_cdi_spec_t *spec, vgpu_error_t *err)
{
        char dir[PATH_MAX];
        const char *base;
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *text = NULL;
        int r = split_path (path, dir, sizeof dir, &base, err);

        if (r < 0)
                return r;
        dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0 && errno == ENOENT && spec->n_devices > 0 && mkdir (dir, 0755) == 0)
                dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0 && errno == ENOENT && spec->n_devices == 0)
                return 0;
        if (dirfd < 0)
                return vgpu_error_sys (err, errno, "spec directory %s", dir);
        if (spec->n_devices == 0) {
                /* CDI rejects a spec without devices: none at all instead */
                if (unlinkat (dirfd, base, 0) < 0 && errno != ENOENT)
                        return vgpu_error_sys (err, errno, "remove %s", path);
                return 0;
        }
        r = vgpu_cdi_render (spec, &text, err);
        if (r < 0)
                return r;
        r = vgpu_write_file_atomic (dirfd, base, text, strlen (text), 0644);
        if (r < 0)
                return vgpu_error_sys (err, -r, "write %s", path);
        return 0;
}

int
vgpu_cdi_path_check (const char *path, vgpu_error_t *err)
{
        char dir[PATH_MAX];
        const char *base;
        struct stat st;
        char *slash;
        int r = split_path (path, dir, sizeof dir, &base, err);

        if (r < 0)
                return r;
        if (stat (dir, &st) == 0)
                return S_ISDIR (st.st_mode)
                               ? 0
                               : vgpu_error_set (err, ENOTDIR, "spec directory %s is not a directory", dir);
        slash = strrchr (dir, '/');
        if (slash && slash != dir)
                *slash = '\0';
        else
                snprintf (dir, sizeof dir, "%s", slash ? "/" : ".");
        if (stat (dir, &st) < 0 || !S_ISDIR (st.st_mode))
                return vgpu_error_set (err, ENOENT, "spec file %s: no directory %s to make it in", path, dir);
        return 0;
}

int
vgpu_cdi_remove_file (const char *path, vgpu_error_t *err)
{
        if (unlink (path) < 0 && errno != ENOENT)
                return vgpu_error_sys (err, errno, "remove %s", path);
        return 0;
}

const char *
vgpu_cdi_device_env (const vgpu_cdi_device_t *d, const char *name)
{
        size_t len = strlen (name);

        for (size_t i = 0; i < d->plan.n_env; i++)
                if (strncmp (d->plan.env[i], name, len) == 0 && d->plan.env[i][len] == '=')
                        return d->plan.env[i] + len + 1;
        return NULL;
}

int
vgpu_cdi_spec_for (const vgpu_cdi_opts_t *o, vgpu_cdi_spec_t *spec, vgpu_error_t *err)
{
        int r = vgpu_cdi_spec_init (spec, o->kind, err);

        if (r < 0)
                return r;
        snprintf (spec->hook_path, sizeof spec->hook_path, "%s", o->hook_path);
        spec->roots = o->roots;
        return 0;
}
