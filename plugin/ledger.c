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

static const char *const state_names[] = {
        [VGPU_RECORD_CREATING] = "creating",
        [VGPU_RECORD_ACTIVE] = "active",
        [VGPU_RECORD_RELEASING] = "releasing",
        [VGPU_RECORD_CORRUPT] = "corrupt",
};

const char *
vgpu_record_state_name (vgpu_record_state_t s)
{
        return (unsigned) s < ARRAY_SIZE (state_names) ? state_names[s] : "unknown";
}

static const char *const kind_names[VGPU_OWNER_KIND_N] = {
        [VGPU_OWNER_CONTAINER] = "container",
        [VGPU_OWNER_VGPUCTL] = "vgpuctl",
        [VGPU_OWNER_CDI_POOL] = "cdi-pool",
        [VGPU_OWNER_CDI_CLAIM] = "cdi-claim",
};

const char *
vgpu_owner_kind_name (vgpu_owner_kind_t kind)
{
        return (unsigned) kind < VGPU_OWNER_KIND_N ? kind_names[kind] : "unknown";
}

int
vgpu_owner_kind_parse (const char *name, vgpu_owner_kind_t *ret)
{
        for (size_t k = 0; k < VGPU_OWNER_KIND_N; k++)
                if (strcmp (name, kind_names[k]) == 0) {
                        *ret = (vgpu_owner_kind_t) k;
                        return 0;
                }
        return -EINVAL;
}

bool
vgpu_owner_same (const vgpu_owner_t *a, const vgpu_owner_t *b)
{
        return a->kind == b->kind && strcmp (a->id, b->id) == 0 && strcmp (a->scope, b->scope) == 0;
}

const char *
vgpu_owner_display (const vgpu_owner_t *owner, char buf[VGPU_OWNER_DISPLAY_MAX])
{
        if (owner->kind == VGPU_OWNER_CDI_POOL || owner->kind == VGPU_OWNER_CDI_CLAIM)
                snprintf (buf, VGPU_OWNER_DISPLAY_MAX, "%s.%s", kind_names[owner->kind], owner->id);
        else
                snprintf (buf, VGPU_OWNER_DISPLAY_MAX, "%s", owner->id);
        return buf;
}

bool
vgpu_owner_valid (const char *owner)
{
        size_t len = strlen (owner);

        if (len == 0 || len > VGPU_OWNER_MAX || !isalnum ((unsigned char) owner[0]))
                return false;
        for (; *owner; owner++)
                if (!isalnum ((unsigned char) *owner) && !strchr ("_.-", *owner))
                        return false;
        return true;
}

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
check_private (int dirfd, const char *name, const char *what, vgpu_error_t *err)
{
        struct stat st;

        if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return vgpu_error_sys (err, errno, "%s", what);
        if (S_ISLNK (st.st_mode))
                return vgpu_error_set (err, ELOOP,
                                       "%s is a symbolic link: vgpu-toolkit wants a directory of root's there "
                                       "(or VGPU_STATE_DIR / --state-dir naming one)",
                                       what);
        if (!S_ISDIR (st.st_mode))
                return vgpu_error_set (err, ENOTDIR, "%s is not a directory", what);
        if (st.st_uid != 0 || (st.st_mode & 022))
                return vgpu_error_set (err, EPERM,
                                       "%s is owned by uid %u with mode %04o: it must be root's and writable by root "
                                       "alone, or anyone could plant a ledger record (chown root; chmod 0700)",
                                       what, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
        return 0;
}

static int
open_state (const vgpu_roots_t *roots, vgpu_error_t *err)
{
        char what[PATH_MAX + 32];
        int r, fd;

        snprintf (what, sizeof what, "state directory %s", roots->state);
        r = mkdir_at (AT_FDCWD, roots->state, err, roots->state);
        if (r == 0)
                r = check_private (AT_FDCWD, roots->state, what, err);
        if (r < 0)
                return r;
        fd = open (roots->state, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return vgpu_error_sys (err, errno, "%s", what);
        return fd;
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
        int r;

        if (state < 0)
                return state;
        snprintf (what, sizeof what, "ledger directory %s/ledger", roots->state);
        r = mkdir_at (state, "ledger", err, "the ledger directory");
        if (r == 0)
                r = check_private (state, "ledger", what, err);
        if (r < 0)
                return r;
        dirfd = openat (state, "ledger", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dirfd < 0)
                return vgpu_error_sys (err, errno, "%s/ledger", roots->state);
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
        int fd = openat (l->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char u[VGPU_UUID_LEN + 1];
        struct stat st;

        snprintf (ret, NAME_MAX + 1, "%s.json", uuid);
        if (fstatat (l->dirfd, ret, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        if (fd < 0 || !(d = fdopendir (fd))) {
                vgpu_closep (&fd);
                return -errno;
        }
        while ((de = readdir (d)))
                if (name_uuid (de->d_name, u) && strcmp (u, uuid) == 0) {
                        snprintf (ret, NAME_MAX + 1, "%s", de->d_name);
                        return 0;
                }
        return -ENOENT;
}

char *
vgpu_record_format (const vgpu_record_t *rec)
{
        _cleanup_json_ json_object *o = json_object_new_object ();
        const char *text;

        json_object_object_add (o, "uuid", json_object_new_string (rec->uuid));
        json_object_object_add (o, "backend", json_object_new_string (vgpu_backend_kind_name (rec->backend)));
        json_object_object_add (o, "device", json_object_new_string (rec->device));
        json_object_object_add (o, "owner", json_object_new_string (rec->owner.id));
        json_object_object_add (o, "kind", json_object_new_string (vgpu_owner_kind_name (rec->owner.kind)));
        json_object_object_add (o, "scope", json_object_new_string (rec->owner.scope));
        json_object_object_add (o, "request", json_object_new_string (rec->request));
        json_object_object_add (o, "parent", json_object_new_string (rec->parent));
        json_object_object_add (o, "type", json_object_new_string (rec->type));
        json_object_object_add (o, "group", json_object_new_int (rec->group));
        json_object_object_add (o, "pid", json_object_new_int64 (rec->pid));
        json_object_object_add (o, "pid_start", json_object_new_uint64 (rec->pid_start));
        json_object_object_add (o, "holder", json_object_new_int64 (rec->holder));
        json_object_object_add (o, "holder_start", json_object_new_uint64 (rec->holder_start));
        json_object_object_add (o, "stage", json_object_new_string (rec->stage));
        json_object_object_add (o, "state", json_object_new_string (vgpu_record_state_name (rec->state)));
        json_object_object_add (o, "created", json_object_new_int64 (rec->created));
        json_object_object_add (o, "updated", json_object_new_int64 (rec->updated));
        text = json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        return text ? strdup (text) : NULL;
}

static int
copy_str (json_object *o, const char *key, char *dst, size_t size, vgpu_error_t *err)
{
        const char *v = vgpu_json_str (o, key);

        if (!v || strlen (v) >= size)
                return vgpu_error_set (err, EBADMSG, "ledger record field \"%s\" is missing or too long", key);
        strcpy (dst, v);
        return 0;
}

/* A pid truncated to pid_t, or a start time read back negative, would make gc
 * judge another process than the one recorded. */
static bool
int_in (json_object *o, const char *key, long long min, long long max, long long *ret)
{
        *ret = vgpu_json_int (o, key, 0);
        return *ret >= min && *ret <= max;
}

/* Records written before owners had kinds spelt the CDI ones into the id. */
static void
legacy_kind (vgpu_owner_t *owner, const char *stage)
{
        static const struct {
                const char *prefix;
                vgpu_owner_kind_t kind;
        } prefixes[] = { { "cdi-pool.", VGPU_OWNER_CDI_POOL }, { "cdi-claim.", VGPU_OWNER_CDI_CLAIM } };

        owner->kind =
                strcmp (stage, vgpu_stage_name (VGPU_STAGE_VGPUCTL)) == 0 ? VGPU_OWNER_VGPUCTL : VGPU_OWNER_CONTAINER;
        for (size_t i = 0; i < ARRAY_SIZE (prefixes); i++) {
                size_t len = strlen (prefixes[i].prefix);

                if (strncmp (owner->id, prefixes[i].prefix, len) == 0 && owner->id[len]) {
                        owner->kind = prefixes[i].kind;
                        memmove (owner->id, owner->id + len, strlen (owner->id + len) + 1);
                }
        }
}

/* Each kind's ids: containers, vgpuctl owners and claims as
 * vgpu_owner_valid, pool slots a decimal index; a scope is an absolute path
 * of printable ASCII ("-" for a spec written to stdout). */
static bool
owner_ok (const vgpu_owner_t *o)
{
        unsigned long long idx;

        if (o->kind == VGPU_OWNER_CDI_POOL ? vgpu_parse_uint (o->id, 1u << 20, &idx) < 0 : !vgpu_owner_valid (o->id))
                return false;
        for (const char *c = o->scope; *c; c++)
                if (*c < 0x20 || *c >= 0x7f)
                        return false;
        return o->scope[0] == '\0' ||
               (o->kind == VGPU_OWNER_CDI_POOL && (o->scope[0] == '/' || strcmp (o->scope, "-") == 0));
}

/* An mdev's device is its uuid; a VF's is a PCI address whose id the uuid
 * is, so one VF has one record name. */
static bool
device_ok (const vgpu_record_t *rec)
{
        char id[VGPU_UUID_LEN + 1];

        if (rec->backend == VGPU_BACKEND_MDEV)
                return strcasecmp (rec->device, rec->uuid) == 0;
        if (!vgpu_pci_addr_valid (rec->device))
                return false;
        vgpu_vf_id (rec->device, id);
        return strcmp (id, rec->uuid) == 0;
}

int
vgpu_record_parse (const char *text, size_t len, vgpu_record_t *ret, vgpu_error_t *err)
{
        static const vgpu_json_field_t fields[] = {
                { "uuid", json_type_string, true },     { "backend", json_type_string, false },
                { "device", json_type_string, false },  { "owner", json_type_string, true },
                { "kind", json_type_string, false },    { "scope", json_type_string, false },
                { "request", json_type_string, false }, { "parent", json_type_string, true },
                { "type", json_type_string, true },     { "group", json_type_int, true },
                { "pid", json_type_int, true },         { "pid_start", json_type_int, true },
                { "holder", json_type_int, true },      { "holder_start", json_type_int, true },
                { "stage", json_type_string, true },    { "state", json_type_string, true },
                { "created", json_type_int, true },     { "updated", json_type_int, true },
        };
        _cleanup_json_ json_object *o = NULL;
        vgpu_record_t rec = { 0 };
        const char *state, *kind, *backend;
        long long v[5];
        size_t s;
        int r;

        r = vgpu_json_parse (text, len, "ledger record", &o, err);
        if (r == 0)
                r = vgpu_json_check (o, fields, ARRAY_SIZE (fields), "ledger record", err);
        if (r < 0) {
                if (err)
                        err->code = EBADMSG; /* keep the parser's sentence */
                return -EBADMSG;
        }
        if (copy_str (o, "uuid", rec.uuid, sizeof rec.uuid, err) < 0 ||
            copy_str (o, "owner", rec.owner.id, sizeof rec.owner.id, err) < 0 ||
            copy_str (o, "parent", rec.parent, sizeof rec.parent, err) < 0 ||
            copy_str (o, "type", rec.type, sizeof rec.type, err) < 0 ||
            copy_str (o, "stage", rec.stage, sizeof rec.stage, err) < 0 ||
            (vgpu_json_str (o, "scope") && copy_str (o, "scope", rec.owner.scope, sizeof rec.owner.scope, err) < 0) ||
            (vgpu_json_str (o, "request") && copy_str (o, "request", rec.request, sizeof rec.request, err) < 0) ||
            (vgpu_json_str (o, "device") && copy_str (o, "device", rec.device, sizeof rec.device, err) < 0))
                return -EBADMSG;
        backend = vgpu_json_str (o, "backend");
        if (backend && vgpu_backend_kind_parse (backend, &rec.backend) < 0)
                return vgpu_error_set (err, EBADMSG, "ledger record backend \"%.32s\" is unknown", backend);
        if (!rec.device[0] && rec.backend == VGPU_BACKEND_MDEV)
                memcpy (rec.device, rec.uuid, sizeof rec.uuid); /* records from before VFs */
        kind = vgpu_json_str (o, "kind");
        if (!kind)
                legacy_kind (&rec.owner, rec.stage);
        else if (vgpu_owner_kind_parse (kind, &rec.owner.kind) < 0)
                return vgpu_error_set (err, EBADMSG, "ledger record owner kind \"%.32s\" is unknown", kind);
        if (!vgpu_uuid_valid (rec.uuid) || !owner_ok (&rec.owner) || !vgpu_name_valid (rec.parent) ||
            !vgpu_name_valid (rec.type) ||
            (rec.request[0] && strcmp (rec.request, "auto") != 0 && !vgpu_name_valid (rec.request)))
                return vgpu_error_set (err, EBADMSG,
                                       "ledger record has an invalid uuid, owner, parent, type or request");
        if (!device_ok (&rec))
                return vgpu_error_set (err, EBADMSG, "ledger record device \"%.32s\" is not its %s with id %s",
                                       rec.device, vgpu_backend_kind_name (rec.backend), rec.uuid);
        state = vgpu_json_str (o, "state");
        for (s = 0; s < VGPU_RECORD_CORRUPT && strcmp (state, state_names[s]) != 0; s++)
                ;
        if (s == VGPU_RECORD_CORRUPT)
                return vgpu_error_set (err, EBADMSG, "ledger record state \"%.32s\" is unknown", state);
        rec.state = (vgpu_record_state_t) s;
        if (!int_in (o, "group", -1, INT_MAX, &v[0]) || !int_in (o, "pid", 0, INT_MAX, &v[1]) ||
            !int_in (o, "pid_start", 0, LLONG_MAX, &v[2]) || !int_in (o, "holder", 0, INT_MAX, &v[3]) ||
            !int_in (o, "holder_start", 0, LLONG_MAX, &v[4]))
                return vgpu_error_set (err, EBADMSG, "ledger record has a group, pid or start time out of range");
        rec.group = (int) v[0];
        rec.pid = (pid_t) v[1];
        rec.pid_start = (unsigned long long) v[2];
        rec.holder = (pid_t) v[3];
        rec.holder_start = (unsigned long long) v[4];
        rec.created = vgpu_json_int (o, "created", 0);
        rec.updated = vgpu_json_int (o, "updated", 0);
        *ret = rec;
        return 0;
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

static int
push_uuid (char (**arr)[VGPU_UUID_LEN + 1], size_t *n, const char *uuid)
{
        void *p = realloc (*arr, (*n + 1) * sizeof **arr);

        if (!p)
                return -ENOMEM;
        *arr = p;
        snprintf ((*arr)[(*n)++], VGPU_UUID_LEN + 1, "%s", uuid);
        return 0;
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
        _cleanup_closedir_ DIR *d = NULL;
        size_t n = 0, n_bad = 0, n_odd = 0;
        struct dirent *de;
        int fd = openat (l->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || !(d = fdopendir (fd))) {
                vgpu_closep (&fd);
                return vgpu_error_sys (err, errno, "reading the ledger");
        }
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
        int fd = openat (l->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int n = 0;

        if (fd < 0 || !(d = fdopendir (fd))) {
                vgpu_closep (&fd);
                return 0;
        }
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

/* Fields 3 (state) and 22 (start time) of /proc/PID/stat. */
static int
proc_stat (pid_t pid, unsigned long long *ret_start, char *ret_state)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        const char *p;
        unsigned long long start;
        int r;

        if (pid <= 0)
                return -ESRCH;
        snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
        r = vgpu_read_file_at (AT_FDCWD, path, 4096, &text, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        p = strrchr (text, ')'); /* comm may hold spaces and parentheses */
        if (!p || p[1] != ' ' || !p[2])
                return -EINVAL;
        *ret_state = p[2];
        /* after ") " come fields 3..; starttime is field 22 */
        for (int field = 2; field < 22; field++) {
                p = strchr (p + 1, ' ');
                if (!p)
                        return -EINVAL;
        }
        if (sscanf (p + 1, "%llu", &start) != 1)
                return -EINVAL;
        *ret_start = start;
        return 0;
}

int
vgpu_proc_start (pid_t pid, unsigned long long *ret)
{
        char state;

        return proc_stat (pid, ret, &state);
}

bool
vgpu_proc_alive (pid_t pid, unsigned long long start)
{
        unsigned long long now;
        char state;

        return proc_stat (pid, &now, &state) == 0 && now == start && state != 'Z' && state != 'X';
}
