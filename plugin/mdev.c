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
        _cleanup_closedir_ DIR *d = vgpu_opendir_at (dirfd, path, 0);
        struct dirent *de;
        int n = 0;

        if (!d)
                return 0;
        while ((de = readdir (d)))
                if (de->d_name[0] != '.')
                        n++;
        return n;
}

/* The text attributes of a type, which the kernel never changes while its
 * parent exists: name, description (with its GVT-g fields), device_api. */
static int
read_text (int fd, const char *id, vgpu_type_t *t, vgpu_error_t *err)
{
        int r;

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
        return 0;
}

static int
read_available (int fd, const char *id, vgpu_type_t *t, vgpu_error_t *err)
{
        unsigned long long avail;
        char buf[64];
        int r = vgpu_read_attr_at (fd, "available_instances", buf, sizeof buf);

        if (r < 0)
                return vgpu_error_sys (err, -r, "type %s: available_instances", id);
        if (vgpu_parse_uint (buf, 1u << 20, &avail) < 0)
                return vgpu_error_set (err, EINVAL, "type %s: available_instances \"%s\" is not a count", id, buf);
        t->available = (unsigned) avail;
        return 0;
}

static int
cmp_type (const void *a, const void *b)
{
        return strcmp (((const vgpu_type_t *) a)->id, ((const vgpu_type_t *) b)->id);
}

static int
cmp_name (const void *a, const void *b)
{
        return strcmp (a, b);
}

/* Names of the entries of dirfd/path that pass vgpu_name_valid, sorted, in a
 * malloc'd array of VGPU_NAME_MAX slots. */
static int
list_names (int dirfd, const char *path, char (**ret)[VGPU_NAME_MAX], size_t *ret_n)
{
        _cleanup_closedir_ DIR *d = vgpu_opendir_at (dirfd, path, 0);
        _cleanup_free_ char (*names)[VGPU_NAME_MAX] = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;

        if (!d)
                return -errno;
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
        if (n)
                qsort (names, n, VGPU_NAME_MAX, cmp_name);
        *ret = TAKE_PTR (names);
        *ret_n = n;
        return 0;
}

/* What this process has read of a sysfs root that does not change while a
 * parent exists: the types of each parent and their text attributes.  The
 * parents themselves are listed by every scan (a GPU can go away and come
 * back while a daemon runs); what was read of a parent is kept while it stays
 * listed and forgotten once a scan misses it.  Counts (available_instances,
 * devices/) are read again by every scan. */
typedef struct cached_parent {
        char name[VGPU_NAME_MAX];
        char (*ids)[VGPU_NAME_MAX]; /* its types, once listed */
        size_t n_ids;
        bool listed;
        vgpu_type_t *text; /* types whose text attributes were read */
        size_t n_text;
} cached_parent_t;

static struct {
        char sysfs[PATH_MAX];
        cached_parent_t *parents;
        size_t n_parents;
} cache;

static void
parent_forget (cached_parent_t *cp)
{
        free (cp->ids);
        free (cp->text);
}

/* List the parents; keep what was read of those still there. */
static int
cache_parents (int root, const char *sysfs, vgpu_error_t *err)
{
        _cleanup_free_ char (*names)[VGPU_NAME_MAX] = NULL;
        bool same_root = cache.parents && strcmp (cache.sysfs, sysfs) == 0;
        cached_parent_t *fresh;
        size_t n = 0;
        int r;

        r = list_names (root, "class/mdev_bus", &names, &n);
        if (r == -ENOENT)
                n = 0;
        else if (r < 0)
                return vgpu_error_sys (err, -r, "%s/class/mdev_bus", sysfs);
        fresh = calloc (n ? n : 1, sizeof *fresh);
        if (!fresh)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                vgpu_copy (fresh[i].name, VGPU_NAME_MAX, names[i]);
                for (size_t k = 0; same_root && k < cache.n_parents; k++)
                        if (strcmp (cache.parents[k].name, names[i]) == 0) {
                                fresh[i] = cache.parents[k];
                                cache.parents[k] = (cached_parent_t) { 0 };
                                break;
                        }
        }
        for (size_t k = 0; k < cache.n_parents; k++)
                parent_forget (&cache.parents[k]);
        free (cache.parents);
        cache.parents = fresh;
        cache.n_parents = n;
        vgpu_copy (cache.sysfs, sizeof cache.sysfs, sysfs);
        return 0;
}

static int
cached_ids (cached_parent_t *cp, int types_fd, vgpu_error_t *err)
{
        int r;

        if (cp->listed)
                return 0;
        r = list_names (types_fd, ".", &cp->ids, &cp->n_ids);
        if (r < 0)
                return vgpu_error_sys (err, -r, "parent %s: mdev_supported_types", cp->name);
        cp->listed = true;
        return 0;
}

static int
cached_text (cached_parent_t *cp, int fd, const char *id, vgpu_type_t *t, vgpu_error_t *err)
{
        vgpu_type_t *grown;
        int r;

        for (size_t i = 0; i < cp->n_text; i++)
                if (strcmp (cp->text[i].id, id) == 0) {
                        *t = cp->text[i];
                        return 0;
                }
        r = read_text (fd, id, t, err);
        if (r < 0)
                return r;
        grown = realloc (cp->text, (cp->n_text + 1) * sizeof *grown);
        if (!grown)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        cp->text = grown;
        cp->text[cp->n_text++] = *t;
        return 0;
}

static int
read_type (cached_parent_t *cp, int types_fd, const char *id, unsigned what, vgpu_type_t *t, vgpu_error_t *err)
{
        _cleanup_close_ int fd = openat (types_fd, id, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r = 0;

        if (fd < 0)
                return vgpu_error_sys (err, errno, "type %s", id);
        memset (t, 0, sizeof *t);
        t->backend = VGPU_BACKEND_MDEV;
        vgpu_copy (t->id, sizeof t->id, id);
        if (what & VGPU_SCAN_TEXT)
                r = cached_text (cp, fd, id, t, err);
        if (r == 0 && (what & VGPU_SCAN_AVAILABLE))
                r = read_available (fd, id, t, err);
        if (r == 0 && (what & VGPU_SCAN_ACTIVE))
                t->active = (unsigned) count_entries (fd, "devices");
        return r;
}

/* The parent's load: its mdevs, each a directory named by its UUID in the
 * parent's device directory (also one whose remove is under way: it still
 * holds its share of the parent). */
static unsigned
parent_active (int root, const char *name)
{
        char path[VGPU_NAME_MAX + 32];
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        unsigned n = 0;

        snprintf (path, sizeof path, "class/mdev_bus/%s", name);
        d = vgpu_opendir_at (root, path, 0);
        if (!d)
                return 0;
        while ((de = readdir (d)))
                n += vgpu_uuid_valid (de->d_name);
        return n;
}

static int
scan_parent (int root, cached_parent_t *cp, const char *type, unsigned what, vgpu_parent_t *p, vgpu_error_t *err)
{
        _cleanup_close_ int types_fd = -1;
        char path[512];
        size_t n = 1;
        int r;

        vgpu_copy (p->name, sizeof p->name, cp->name);
        snprintf (path, sizeof path, "class/mdev_bus/%s/mdev_supported_types", cp->name);
        types_fd = openat (root, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (types_fd < 0)
                return vgpu_error_sys (err, errno, "parent %s: mdev_supported_types", cp->name);
        if (!type) {
                r = cached_ids (cp, types_fd, err);
                if (r < 0)
                        return r;
                n = cp->n_ids;
        }
        p->types = calloc (n ? n : 1, sizeof *p->types);
        if (!p->types)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                r = read_type (cp, types_fd, type ? type : cp->ids[i], what, &p->types[p->n_types], err);
                if (r == -ENOENT && type)
                        break; /* the parent does not offer it */
                if (r < 0)
                        return vgpu_error_prefix (err, "parent %s", cp->name);
                p->n_types++;
        }
        if (what & VGPU_SCAN_ACTIVE)
                p->active = parent_active (root, cp->name);
        qsort (p->types, p->n_types, sizeof *p->types, cmp_type);
        return 0;
}

int
vgpu_mdev_scan_some (const vgpu_roots_t *roots, const char *parent, const char *type, unsigned what, vgpu_host_t *host,
                     vgpu_error_t *err)
{
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err);
        void *p;
        int r;

        if (root < 0)
                return root;
        if (type && !vgpu_name_valid (type))
                return vgpu_error_set (err, EINVAL, "\"%.64s\" is not a valid mdev type name", type);
        r = cache_parents (root, roots->sysfs, err);
        if (r < 0)
                return r;
        p = realloc (host->parents, (host->n_parents + cache.n_parents + 1) * sizeof *host->parents);
        if (!p)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        host->parents = p;
        for (size_t i = 0; i < cache.n_parents; i++) {
                vgpu_parent_t *par = &host->parents[host->n_parents++];

                *par = (vgpu_parent_t) { .backend = VGPU_BACKEND_MDEV };
                if (parent && strcmp (cache.parents[i].name, parent) != 0) { /* listed, nothing read */
                        vgpu_copy (par->name, sizeof par->name, cache.parents[i].name);
                        continue;
                }
                r = scan_parent (root, &cache.parents[i], type, what, par, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int
vgpu_mdev_scan (const vgpu_roots_t *roots, vgpu_host_t *host, vgpu_error_t *err)
{
        return vgpu_mdev_scan_some (roots, NULL, NULL, VGPU_SCAN_ALL, host, err);
}

int
vgpu_mdev_read_active (const vgpu_roots_t *roots, vgpu_host_t *host, vgpu_error_t *err)
{
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err);

        if (root < 0)
                return root;
        for (size_t i = 0; i < host->n_parents; i++)
                if (host->parents[i].backend == VGPU_BACKEND_MDEV)
                        host->parents[i].active = parent_active (root, host->parents[i].name);
        return 0;
}
