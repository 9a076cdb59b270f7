/* ledger.c — see ledger.h. */
#include "ledger.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "json.h"
#include "pci.h"
#include "stage.h"
#include "util.h"

#define RECORD_MAX_BYTES 8192

static int
mkdir_at (int dirfd, const char *name, vgpu_error_t *err, const char *what)
{
        if (mkdirat (dirfd, name, 0700) < 0 && errno != EEXIST)
                return vgpu_error_sys (err, errno, "creating %s", what);
        return 0;
}

/* A directory whose records prove ownership: root's, writable by root alone,
 * not a link to one somewhere else. */
static int
check_private (const struct stat *st, const char *what, vgpu_error_t *err)
{
        if (S_ISLNK (st->st_mode))
                return vgpu_error_set (err, ELOOP,
                                       "%s is a symbolic link: vgpu-toolkit wants a directory of root's there "
                                       "(or VGPU_STATE_DIR / --state-dir naming one)",
                                       what);
        if (!S_ISDIR (st->st_mode))
                return vgpu_error_set (err, ENOTDIR, "%s is not a directory", what);
        if (st->st_uid != 0 || (st->st_mode & 022))
                return vgpu_error_set (err, EPERM,
                                       "%s is owned by uid %u with mode %04o: it must be root's and writable by root "
                                       "alone, or anyone could plant a ledger record (chown root; chmod 0700)",
                                       what, (unsigned) st->st_uid, (unsigned) (st->st_mode & 07777));
        return 0;
}

/* Open private directory name below dirfd (made 0700 when missing) with
 * flags; what is checked is the directory opened, not a path that could
 * change in between. */
static int
open_private (int dirfd, const char *name, int flags, const char *what, vgpu_error_t *err)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        fd = openat (dirfd, name, flags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                r = mkdir_at (dirfd, name, err, what);
                if (r < 0)
                        return r;
                fd = openat (dirfd, name, flags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) {
                int e = errno;

                /* a link or not a directory: say which */
                if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (r = check_private (&st, what, err)) < 0)
                        return r;
                return vgpu_error_sys (err, e, "%s", what);
        }
        if (fstat (fd, &st) < 0)
                return vgpu_error_sys (err, errno, "%s", what);
        r = check_private (&st, what, err);
        return r < 0 ? r : TAKE_FD (fd);
}

static int
open_state (const vgpu_roots_t *roots, vgpu_error_t *err)
{
        char what[PATH_MAX + 32];

        snprintf (what, sizeof what, "state directory %s", roots->state);
        return open_private (AT_FDCWD, roots->state, O_PATH, what, err);
}

int
vgpu_state_lock (const vgpu_roots_t *roots, const char *name, vgpu_error_t *err)
{
        _cleanup_close_ int state = open_state (roots, err), fd = -1;

        if (state < 0)
                return state;
        fd = openat (state, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
        if (fd < 0)
                return vgpu_error_sys (err, errno, "lock %s/%s", roots->state, name);
        while (flock (fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return vgpu_error_sys (err, errno, "lock %s/%s", roots->state, name);
        return TAKE_FD (fd);
}

int
vgpu_ledger_open (const vgpu_roots_t *roots, vgpu_ledger_t *ret, vgpu_error_t *err)
{
        _cleanup_close_ int state = open_state (roots, err), dirfd = -1, lockfd = -1;
        char what[PATH_MAX + 32];

        if (state < 0)
                return state;
        snprintf (what, sizeof what, "ledger directory %s/ledger", roots->state);
        dirfd = open_private (state, "ledger", O_RDONLY, what, err);
        if (dirfd < 0)
                return dirfd;
        lockfd = openat (state, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
        if (lockfd < 0)
                return vgpu_error_sys (err, errno, "%s/lock", roots->state);
        ret->dirfd = TAKE_FD (dirfd);
        ret->lockfd = TAKE_FD (lockfd);
        return vgpu_ledger_lock (ret, err);
}

int
vgpu_ledger_lock (vgpu_ledger_t *l, vgpu_error_t *err)
{
        while (flock (l->lockfd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return vgpu_error_sys (err, errno, "locking the ledger");
        return 0;
}

void
vgpu_ledger_unlock (vgpu_ledger_t *l)
{
        flock (l->lockfd, LOCK_UN);
}

void
vgpu_ledger_close (vgpu_ledger_t *l)
{
        vgpu_closep (&l->lockfd); /* closing drops the flock */
        vgpu_closep (&l->dirfd);
        l->lockfd = l->dirfd = -1;
}

/* A record's file carries its owner: <kind>.<id>.<uuid>.json, so an owner's
 * records are found by name without parsing anyone else's.  Records written
 * before (<uuid>.json) are still read, and moved to their new name when next
 * written. */
#define RECORD_SUFFIX_LEN (VGPU_UUID_LEN + 5) /* "<uuid>.json" */

static int
record_name (const vgpu_record_t *rec, char buf[NAME_MAX + 1])
{
        int n = snprintf (buf, NAME_MAX + 1, "%s.%s.%s.json", vgpu_owner_kind_name (rec->owner.kind), rec->owner.id,
                          rec->uuid);

        return n > 0 && n <= NAME_MAX ? 0 : -ENAMETOOLONG;
}

/* The uuid at the end of a record's file name, or false for a name that is
 * no record's (temp files, strangers of another shape). */
static bool
name_uuid (const char *name, char uuid[VGPU_UUID_LEN + 1])
{
        size_t len = strlen (name);

        if (len < RECORD_SUFFIX_LEN || strcmp (name + len - 5, ".json") != 0 || name[0] == '.' ||
            (len > RECORD_SUFFIX_LEN && name[len - RECORD_SUFFIX_LEN - 1] != '.'))
                return false;
        snprintf (uuid, VGPU_UUID_LEN + 1, "%.36s", name + len - RECORD_SUFFIX_LEN);
        return vgpu_uuid_valid (uuid);
}

/* The file of uuid's record: the old name, or the one entry that ends in it. */
static int
find_name (vgpu_ledger_t *l, const char *uuid, char ret[NAME_MAX + 1])
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char u[VGPU_UUID_LEN + 1];
        struct stat st;

        snprintf (ret, NAME_MAX + 1, "%s.json", uuid);
        if (fstatat (l->dirfd, ret, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        d = vgpu_opendir_at (l->dirfd, ".", 0);
        if (!d)
                return -errno;
        while ((de = readdir (d)))
                if (name_uuid (de->d_name, u) && strcmp (u, uuid) == 0) {
                        snprintf (ret, NAME_MAX + 1, "%s", de->d_name);
                        return 0;
                }
        return -ENOENT;
}

int
vgpu_ledger_put (vgpu_ledger_t *l, vgpu_record_t *rec, vgpu_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        char name[NAME_MAX + 1], old[NAME_MAX + 1];
        int r;

        rec->updated = (long long) time (NULL);
        if (!rec->created)
                rec->created = rec->updated;
        text = vgpu_record_format (rec);
        if (!text)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        if (record_name (rec, name) < 0)
                return vgpu_error_set (err, ENAMETOOLONG, "ledger record of mdev %s: owner too long", rec->uuid);
        r = vgpu_write_file_atomic (l->dirfd, name, text, strlen (text), 0600);
        if (r < 0)
                return vgpu_error_sys (err, -r, "writing ledger record %s", name);
        snprintf (old, sizeof old, "%s.json", rec->uuid);
        unlinkat (l->dirfd, old, 0); /* a record of before owners were in the name: moved */
        return 0;
}

/* The record in file name, which must name uuid (and its owner, unless it
 * has the old name). */
static int
read_named (vgpu_ledger_t *l, const char *name, const char *uuid, vgpu_record_t *ret, vgpu_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        char expect[NAME_MAX + 1];
        size_t len;
        int r;

        r = vgpu_read_regular_at (l->dirfd, name, RECORD_MAX_BYTES, &text, &len);
        if (r == -ENOENT)
                return vgpu_error_set (err, ENOENT, "mdev %s is not in the ledger", uuid);
        if (r == -EINVAL || r == -EISDIR)
                return vgpu_error_set (err, EMEDIUMTYPE,
                                       "ledger entry %s is not a regular file: no record vgpu-toolkit wrote", name);
        if (r < 0)
                return vgpu_error_sys (err, -r, "ledger record %s", name);
        r = vgpu_record_parse (text, len, ret, err);
        if (r == 0 && strcmp (ret->uuid, uuid) != 0)
                r = vgpu_error_set (err, EBADMSG, "ledger record %s names another mdev", name);
        if (r == 0 && strlen (name) > RECORD_SUFFIX_LEN &&
            (record_name (ret, expect) < 0 || strcmp (expect, name) != 0))
                r = vgpu_error_set (err, EBADMSG, "ledger record %s names another owner", name);
        if (r < 0 && err)
                vgpu_error_prefix (err, "ledger record %s", name);
        return r;
}

int
vgpu_ledger_get (vgpu_ledger_t *l, const char *uuid, vgpu_record_t *ret, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        char name[NAME_MAX + 1];
        int r;

        if (!vgpu_uuid_valid (uuid))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a UUID", vgpu_quote (uuid, strlen (uuid), q));
        r = find_name (l, uuid, name);
        if (r < 0 && r != -ENOENT)
                return vgpu_error_sys (err, -r, "reading the ledger");
        if (r == -ENOENT)
                return vgpu_error_set (err, ENOENT, "mdev %s is not in the ledger", uuid);
        return read_named (l, name, uuid, ret, err);
}

int
vgpu_ledger_del (vgpu_ledger_t *l, const char *uuid, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        char name[NAME_MAX + 1];

        if (!vgpu_uuid_valid (uuid))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a UUID", vgpu_quote (uuid, strlen (uuid), q));
        if (find_name (l, uuid, name) < 0)
                return 0;
        if (unlinkat (l->dirfd, name, 0) < 0 && errno != ENOENT)
                return vgpu_error_sys (err, errno, "removing ledger record %s", name);
        fsync (l->dirfd);
        return 0;
}

int
vgpu_ledger_drop (vgpu_ledger_t *l, const vgpu_record_t *rec, vgpu_error_t *err)
{
        char name[NAME_MAX + 1];

        if (record_name (rec, name) == 0 && unlinkat (l->dirfd, name, 0) == 0) {
                fsync (l->dirfd);
                return 0;
        }
        return vgpu_ledger_del (l, rec->uuid, err);
}

static int
push_uuid (char (**arr)[VGPU_UUID_LEN + 1], size_t *n, const char *uuid)
{
        char u[VGPU_UUID_LEN + 1];

        snprintf (u, sizeof u, "%s", uuid);
        return vgpu_append (arr, n, u, sizeof u);
}

/* Does the file name say it is the record of kind.id (old names might be)? */
static bool
may_be_owned (const char *name, const vgpu_owner_t *only)
{
        char prefix[NAME_MAX + 1];
        size_t len = strlen (name), plen;

        if (!only || len == RECORD_SUFFIX_LEN)
                return true;
        plen = (size_t) snprintf (prefix, sizeof prefix, "%s.%s.", vgpu_owner_kind_name (only->kind), only->id);
        return len == plen + RECORD_SUFFIX_LEN && strncmp (name, prefix, plen) == 0;
}

static int
list (vgpu_ledger_t *l, const vgpu_owner_t *only, vgpu_record_t **ret, size_t *ret_n,
      char (**ret_corrupt)[VGPU_UUID_LEN + 1], size_t *ret_n_corrupt, char (**ret_strangers)[VGPU_UUID_LEN + 1],
      size_t *ret_n_strangers, vgpu_error_t *err)
{
        _cleanup_free_ vgpu_record_t *recs = NULL;
        _cleanup_free_ char (*bad)[VGPU_UUID_LEN + 1] = NULL;
        _cleanup_free_ char (*odd)[VGPU_UUID_LEN + 1] = NULL;
        _cleanup_closedir_ DIR *d = vgpu_opendir_at (l->dirfd, ".", 0);
        size_t n = 0, n_bad = 0, n_odd = 0;
        struct dirent *de;

        if (!d)
                return vgpu_error_sys (err, errno, "reading the ledger");
        while ((de = readdir (d))) {
                char uuid[VGPU_UUID_LEN + 1];
                vgpu_record_t rec;
                void *p;
                int r;

                if (!name_uuid (de->d_name, uuid) || !may_be_owned (de->d_name, only))
                        continue; /* temp files, strangers, other owners' records */
                r = read_named (l, de->d_name, uuid, &rec, NULL);
                if (r == -EMEDIUMTYPE) {
                        if (push_uuid (&odd, &n_odd, uuid) < 0)
                                return vgpu_error_set (err, ENOMEM, "out of memory");
                        continue;
                }
                if (r < 0) {
                        if (push_uuid (&bad, &n_bad, uuid) < 0)
                                return vgpu_error_set (err, ENOMEM, "out of memory");
                        continue;
                }
                if (only && (rec.owner.kind != only->kind || strcmp (rec.owner.id, only->id) != 0))
                        continue; /* an old name: the record says whose it is */
                if (!(p = realloc (recs, (n + 1) * sizeof *recs)))
                        return vgpu_error_set (err, ENOMEM, "out of memory");
                recs = p;
                recs[n++] = rec;
        }
        *ret = TAKE_PTR (recs);
        *ret_n = n;
        if (ret_corrupt)
                *ret_corrupt = TAKE_PTR (bad);
        if (ret_n_corrupt)
                *ret_n_corrupt = n_bad;
        if (ret_strangers)
                *ret_strangers = TAKE_PTR (odd);
        if (ret_n_strangers)
                *ret_n_strangers = n_odd;
        return 0;
}

int
vgpu_ledger_list_owned (vgpu_ledger_t *l, const vgpu_owner_t *only, vgpu_record_t **ret, size_t *ret_n,
                        vgpu_error_t *err)
{
        return list (l, only, ret, ret_n, NULL, NULL, NULL, NULL, err);
}

int
vgpu_ledger_list (vgpu_ledger_t *l, vgpu_record_t **ret, size_t *ret_n, char (**ret_corrupt)[VGPU_UUID_LEN + 1],
                  size_t *ret_n_corrupt, char (**ret_strangers)[VGPU_UUID_LEN + 1], size_t *ret_n_strangers,
                  vgpu_error_t *err)
{
        return list (l, NULL, ret, ret_n, ret_corrupt, ret_n_corrupt, ret_strangers, ret_n_strangers, err);
}

int
vgpu_ledger_remove_stranger (vgpu_ledger_t *l, const char *uuid, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];
        char name[NAME_MAX + 1];
        struct stat st;

        if (!vgpu_uuid_valid (uuid))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a UUID", vgpu_quote (uuid, strlen (uuid), q));
        if (find_name (l, uuid, name) < 0)
                return 0;
        if (fstatat (l->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : vgpu_error_sys (err, errno, "ledger entry %s", name);
        if (unlinkat (l->dirfd, name, S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
                return vgpu_error_sys (err, errno, "removing ledger entry %s, which is not a regular file", name);
        return 0;
}

/* Temp files are ".<name>.tmp<pid>" (vgpu_write_file_atomic). */
int
vgpu_ledger_sweep (vgpu_ledger_t *l)
{
        _cleanup_closedir_ DIR *d = vgpu_opendir_at (l->dirfd, ".", 0);
        struct dirent *de;
        int n = 0;

        if (!d)
                return 0;
        while ((de = readdir (d))) {
                const char *tmp = strstr (de->d_name, ".tmp");
                unsigned long long pid, start;

                if (de->d_name[0] != '.' || !tmp || vgpu_parse_uint (tmp + 4, 4194304, &pid) < 0)
                        continue;
                if (vgpu_proc_start ((pid_t) pid, &start) == 0)
                        continue; /* its writer may still be at work */
                if (unlinkat (l->dirfd, de->d_name, 0) == 0)
                        n++;
        }
        return n;
}

static bool
owner_matches (const vgpu_record_t *rec, const vgpu_owner_t *owner)
{
        if (owner->kind == VGPU_OWNER_BY_NAME)
                return (rec->owner.kind == VGPU_OWNER_CONTAINER || rec->owner.kind == VGPU_OWNER_VGPUCTL) &&
                       strcmp (rec->owner.id, owner->id) == 0;
        return vgpu_owner_same (&rec->owner, owner);
}

/* The owner's records, under the lock, found by their file names; by name,
 * the container's and the vgpuctl owner's. */
int
vgpu_ledger_records_of (vgpu_ledger_t *l, const vgpu_owner_t *owner, vgpu_record_t **ret, size_t *ret_n,
                        vgpu_error_t *err)
{
        static const vgpu_owner_kind_t named[] = { VGPU_OWNER_CONTAINER, VGPU_OWNER_VGPUCTL };
        _cleanup_free_ vgpu_record_t *all = NULL;
        size_t n = 0, k = 0;

        for (size_t i = 0; i < (owner->kind == VGPU_OWNER_BY_NAME ? ARRAY_SIZE (named) : 1); i++) {
                vgpu_owner_t one = *owner;
                _cleanup_free_ vgpu_record_t *some = NULL;
                size_t m = 0;
                void *p;
                int r;

                if (owner->kind == VGPU_OWNER_BY_NAME)
                        one.kind = named[i];
                r = vgpu_ledger_list_owned (l, &one, &some, &m, err);
                if (r < 0)
                        return r;
                if (m == 0)
                        continue;
                if (!(p = realloc (all, (n + m) * sizeof *all)))
                        return vgpu_error_set (err, ENOMEM, "out of memory");
                all = p;
                memcpy (all + n, some, m * sizeof *some);
                n += m;
        }
        for (size_t i = 0; i < n; i++)
                if (owner_matches (&all[i], owner))
                        all[k++] = all[i];
        *ret = TAKE_PTR (all);
        *ret_n = k;
        return 0;
}
