/* mdev.c — see mdev.h.  Every path is relative to an fd of the sysfs root and
 * is built only from names that passed vgpu_name_valid()/vgpu_uuid_valid(). */
#include "mdev.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "json.h"
#include "util.h"

/* ASCII only, whatever the locale: names become sysfs path components;
 * one component, never "." or "..". */
bool
vgpu_name_valid (const char *s)
{
        size_t len = strlen (s);

        if (len == 0 || len >= VGPU_NAME_MAX || s[0] == '.')
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')) &&
                    !strchr ("_.:-+", *s))
                        return false;
        return true;
}

bool
vgpu_uuid_valid (const char *s)
{
        uuid_t u;

        return strlen (s) == VGPU_UUID_LEN && uuid_parse (s, u) == 0;
}

void
vgpu_uuid_lower (char uuid[VGPU_UUID_LEN + 1])
{
        for (size_t i = 0; uuid[i]; i++)
                uuid[i] = (char) tolower ((unsigned char) uuid[i]);
}

int
vgpu_uuid_normalise (const char *in, char out[VGPU_UUID_LEN + 1], vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        if (!vgpu_uuid_valid (in))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a UUID", vgpu_quote (in, strlen (in), q));
        memcpy (out, in, VGPU_UUID_LEN + 1);
        vgpu_uuid_lower (out);
        return 0;
}

void
vgpu_uuid_new (char out[VGPU_UUID_LEN + 1])
{
        uuid_t u;

        uuid_generate_random (u);
        uuid_unparse_lower (u, out);
}

/* sysfs text with newlines joined by ", ", the way mdevctl shows it. */
static void
join_lines (char *s)
{
        char tmp[512];
        size_t o = 0;

        for (size_t i = 0; s[i] && o + 3 < sizeof tmp; i++) {
                if (s[i] == '\n') {
                        tmp[o++] = ',';
                        tmp[o++] = ' ';
                } else
                        tmp[o++] = s[i];
        }
        tmp[o] = '\0';
        strcpy (s, tmp);
}

static int
count_entries (int dirfd, const char *path)
{
        int fd = openat (dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int n = 0;

        if (fd < 0)
                return 0;
        d = fdopendir (fd);
        if (!d) {
                close (fd);
                return 0;
        }
        while ((de = readdir (d)))
                if (de->d_name[0] != '.')
                        n++;
        return n;
}

static int
read_type (int types_fd, const char *id, vgpu_type_t *t, vgpu_error_t *err)
{
        _cleanup_close_ int fd = openat (types_fd, id, O_PATH | O_DIRECTORY | O_CLOEXEC);
        char buf[64];
        unsigned long long avail;
        int r;

        if (fd < 0)
                return vgpu_error_sys (err, errno, "type %s", id);
        memset (t, 0, sizeof *t);
        snprintf (t->id, sizeof t->id, "%s", id);
        if (vgpu_read_attr_at (fd, "name", t->name, sizeof t->name) < 0)
                t->name[0] = '\0';
        r = vgpu_read_attr_at (fd, "description", t->description, sizeof t->description);
        t->has_description = r >= 0;
        if (t->has_description) {
                join_lines (t->description);
                t->gvt.valid = vgpu_gvt_parse (t->description, &t->gvt) == 0;
        }
        r = vgpu_read_attr_at (fd, "device_api", t->device_api, sizeof t->device_api);
        if (r < 0)
                return vgpu_error_sys (err, -r, "type %s: device_api", id);
        r = vgpu_read_attr_at (fd, "available_instances", buf, sizeof buf);
        if (r < 0)
                return vgpu_error_sys (err, -r, "type %s: available_instances", id);
        if (vgpu_parse_uint (buf, 1u << 20, &avail) < 0)
                return vgpu_error_set (err, EINVAL, "type %s: available_instances \"%s\" is not a count", id, buf);
        t->available = (unsigned) avail;
        t->active = (unsigned) count_entries (fd, "devices");
        return 0;
}

static int
cmp_type (const void *a, const void *b)
{
        return strcmp (((const vgpu_type_t *) a)->id, ((const vgpu_type_t *) b)->id);
}

/* Names of the entries of dirfd/path that pass vgpu_name_valid, in a
 * malloc'd array of VGPU_NAME_MAX slots. */
static int
list_names (int dirfd, const char *path, char (**ret)[VGPU_NAME_MAX], size_t *ret_n)
{
        int fd = openat (dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ char (*names)[VGPU_NAME_MAX] = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;

        if (fd < 0)
                return -errno;
        d = fdopendir (fd);
        if (!d) {
                close (fd);
                return -errno;
        }
        while ((de = readdir (d))) {
                if (!vgpu_name_valid (de->d_name))
                        continue;
                if (n == cap) {
                        void *p = realloc (names, (cap = cap ? cap * 2 : 8) * VGPU_NAME_MAX);
                        if (!p)
                                return -ENOMEM;
                        names = p;
                }
                vgpu_copy (names[n++], VGPU_NAME_MAX, de->d_name);
        }
        *ret = TAKE_PTR (names);
        *ret_n = n;
        return 0;
}

static int
scan_parent (int root, const char *name, vgpu_parent_t *p, vgpu_error_t *err)
{
        _cleanup_free_ char (*ids)[VGPU_NAME_MAX] = NULL;
        _cleanup_close_ int types_fd = -1;
        char path[512];
        size_t n = 0;
        int r;

        vgpu_copy (p->name, sizeof p->name, name);
        snprintf (path, sizeof path, "class/mdev_bus/%s/mdev_supported_types", name);
        types_fd = openat (root, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (types_fd < 0)
                return vgpu_error_sys (err, errno, "parent %s: mdev_supported_types", name);
        r = list_names (types_fd, ".", &ids, &n);
        if (r < 0)
                return vgpu_error_sys (err, -r, "parent %s: mdev_supported_types", name);
        p->types = calloc (n ? n : 1, sizeof *p->types);
        if (!p->types)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                r = read_type (types_fd, ids[i], &p->types[p->n_types], err);
                if (r < 0)
                        return vgpu_error_prefix (err, "parent %s", name);
                p->active += p->types[p->n_types++].active;
        }
        qsort (p->types, p->n_types, sizeof *p->types, cmp_type);
        return 0;
}

int
vgpu_mdev_scan (const vgpu_roots_t *roots, vgpu_host_t *host, vgpu_error_t *err)
{
        _cleanup_free_ char (*names)[VGPU_NAME_MAX] = NULL;
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err);
        size_t n = 0;
        void *p;
        int r;

        if (root < 0)
                return root;
        r = list_names (root, "class/mdev_bus", &names, &n);
        if (r == -ENOENT)
                n = 0;
        else if (r < 0)
                return vgpu_error_sys (err, -r, "%s/class/mdev_bus", roots->sysfs);
        p = realloc (host->parents, (host->n_parents + n + 1) * sizeof *host->parents);
        if (!p)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        host->parents = p;
        for (size_t i = 0; i < n; i++) {
                vgpu_parent_t *par = &host->parents[host->n_parents++];

                *par = (vgpu_parent_t) { .backend = VGPU_BACKEND_MDEV };
                r = scan_parent (root, names[i], par, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
