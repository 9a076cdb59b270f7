/* mdevctl.c — see mdevctl.h. */
#include "mdevctl.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "device.h"
#include "json.h"
#include "util.h"

#define DEFINITION_MAX 4096 /* mdevctl's files are a few lines */

char *
vgpu_mdevctl_definition (const char *type, bool autostart)
{
        _cleanup_json_ json_object *t = json_object_new_string (type);
        char *text = NULL;

        if (!t || asprintf (&text, "{\n  \"mdev_type\": %s,\n  \"start\": \"%s\",\n  \"attrs\": []\n}",
                            json_object_to_json_string_ext (t, JSON_C_TO_STRING_NOSLASHESCAPE),
                            autostart ? "auto" : "manual") < 0)
                return NULL;
        return text;
}

static int
open_dir (const char *dir, bool make, vgpu_error_t *err)
{
        int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 && errno == ENOENT && make && mkdir (dir, 0755) == 0)
                fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return vgpu_error_sys (err, errno, "mdevctl directory %s", dir);
        return fd;
}

int
vgpu_mdevctl_define (const char *dir, const char *parent, const char *uuid, const char *type, bool autostart,
                     vgpu_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int root = -1, pfd = -1;
        int r;

        if (!vgpu_name_valid (parent))
                return vgpu_error_set (err, EINVAL, "\"%.64s\" is not a valid parent name", parent);
        if (!vgpu_name_valid (type))
                return vgpu_error_set (err, EINVAL, "\"%.64s\" is not a valid mdev type name", type);
        if (!vgpu_uuid_valid (uuid))
                return vgpu_error_set (err, EINVAL, "\"%.64s\" is not a UUID", uuid);
        text = vgpu_mdevctl_definition (type, autostart);
        if (!text)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        root = open_dir (dir, true, err);
        if (root < 0)
                return root;
        if (mkdirat (root, parent, 0755) < 0 && errno != EEXIST)
                return vgpu_error_sys (err, errno, "mdevctl directory %s/%s", dir, parent);
        pfd = openat (root, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (pfd < 0)
                return vgpu_error_sys (err, errno, "mdevctl directory %s/%s", dir, parent);
        r = vgpu_write_file_atomic (pfd, uuid, text, strlen (text), 0644);
        return r < 0 ? vgpu_error_sys (err, -r, "mdevctl definition %s/%s/%s", dir, parent, uuid) : 0;
}

/* The type in a definition's text; -EBADMSG when it is not one. */
static int
definition_type (const char *text, size_t len, char *ret, vgpu_error_t *err)
{
        static const vgpu_json_field_t fields[] = {
                { "mdev_type", json_type_string, true },
                { "start", json_type_string, true },
                { "attrs", json_type_array, false },
        };
        _cleanup_json_ json_object *o = NULL;
        const char *type;
        int r = vgpu_json_parse (text, len, "mdevctl definition", &o, err);

        if (r == 0)
                r = vgpu_json_check (o, fields, ARRAY_SIZE (fields), "mdevctl definition", err);
        if (r < 0)
                return r;
        type = vgpu_json_str (o, "mdev_type");
        if (!vgpu_name_valid (type))
                return vgpu_error_set (err, EBADMSG, "mdevctl definition: mdev_type \"%.64s\" is not a type name",
                                       type);
        if (ret)
                vgpu_copy (ret, VGPU_NAME_MAX, type);
        return 0;
}

int
vgpu_mdevctl_find (const char *dir, const char *uuid, char *ret_parent, char *ret_type, vgpu_error_t *err)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (!vgpu_uuid_valid (uuid))
                return vgpu_error_set (err, EINVAL, "\"%.64s\" is not a UUID", uuid);
        d = vgpu_opendir_at (AT_FDCWD, dir, 0);
        if (!d && errno == ENOENT)
                return vgpu_error_set (err, ENOENT, "no mdevctl definition of %s in %s", uuid, dir);
        if (!d)
                return vgpu_error_sys (err, errno, "mdevctl directory %s", dir);
        while ((de = readdir (d))) {
                char path[sizeof de->d_name + VGPU_UUID_LEN + 2];
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                int r;

                if (!vgpu_name_valid (de->d_name) || strcmp (de->d_name, "scripts.d") == 0)
                        continue;
                snprintf (path, sizeof path, "%s/%s", de->d_name, uuid);
                r = vgpu_read_file_at (dirfd (d), path, DEFINITION_MAX, &text, &len);
                if (r == -ENOENT || r == -ENOTDIR)
                        continue;
                if (r < 0)
                        return vgpu_error_sys (err, -r, "mdevctl definition %s/%s", dir, path);
                r = definition_type (text, len, ret_type, err);
                if (r < 0)
                        return vgpu_error_prefix (err, "%s/%s", dir, path);
                if (ret_parent)
                        vgpu_copy (ret_parent, VGPU_NAME_MAX, de->d_name);
                return 0;
        }
        return vgpu_error_set (err, ENOENT, "no mdevctl definition of %s in %s", uuid, dir);
}

int
vgpu_mdevctl_undefine (const char *dir, const char *parent, const char *uuid, vgpu_error_t *err)
{
        _cleanup_close_ int root = -1, pfd = -1;
        char found[VGPU_NAME_MAX];
        int r;

        if (!parent) {
                r = vgpu_mdevctl_find (dir, uuid, found, NULL, err);
                if (r < 0)
                        return r;
                parent = found;
        }
        if (!vgpu_name_valid (parent) || !vgpu_uuid_valid (uuid))
                return vgpu_error_set (err, EINVAL, "mdevctl definition %.64s/%.64s: not a parent and a UUID", parent,
                                       uuid);
        root = open_dir (dir, false, err);
        if (root < 0)
                return root;
        pfd = openat (root, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (pfd < 0 || unlinkat (pfd, uuid, 0) < 0)
                return errno == ENOENT
                               ? vgpu_error_set (err, ENOENT, "no mdevctl definition %s/%s/%s", dir, parent, uuid)
                               : vgpu_error_sys (err, errno, "mdevctl definition %s/%s/%s", dir, parent, uuid);
        unlinkat (root, parent, AT_REMOVEDIR); /* only when it became empty */
        return 0;
}

int
vgpu_mdevctl_define_mdev (const vgpu_roots_t *roots, const char *dir, const char *uuid, const char *parent,
                          const char *type, bool autostart, vgpu_error_t *err)
{
        char old_parent[VGPU_NAME_MAX], old_type[VGPU_NAME_MAX];
        vgpu_error_t e = { 0 };
        vgpu_mdev_t m;
        int r = vgpu_mdev_lookup (roots, uuid, &m, &e);

        if (r == 0) {
                if ((parent && strcmp (parent, m.parent) != 0) || (type && strcmp (type, m.type) != 0))
                        return vgpu_error_set (err, EINVAL, "mdev %s is %s on %s, not %s on %s", uuid, m.type, m.parent,
                                               type ? type : m.type, parent ? parent : m.parent);
                parent = m.parent;
                type = m.type;
        } else if (r != -ENOENT) {
                *err = e;
                return r;
        } else if (!parent || !type)
                return vgpu_error_set (err, ENOENT, "mdev %s is not active: name its parent and type", uuid);
        r = vgpu_mdevctl_find (dir, uuid, old_parent, old_type, &e);
        if (r == 0 && (strcmp (old_parent, parent) != 0 || strcmp (old_type, type) != 0))
                return vgpu_error_set (err, EEXIST, "mdev %s is defined already as %s on %s (undefine it first)", uuid,
                                       old_type, old_parent);
        if (r < 0 && r != -ENOENT) {
                *err = e;
                return r;
        }
        return vgpu_mdevctl_define (dir, parent, uuid, type, autostart, err);
}
