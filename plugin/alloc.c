/* alloc.c — see alloc.h. */
#include "alloc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void
ledger_cleanup (vgpu_ledger_t *l)
{
        vgpu_ledger_close (l);
}
#define _cleanup_ledger_ __attribute__ ((cleanup (ledger_cleanup)))

/* The owner's records, under the lock. */
static int
owner_records (vgpu_ledger_t *l, const char *owner, vgpu_record_t **ret, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_free_ vgpu_record_t *all = NULL;
        size_t n = 0, k = 0;
        int r;

        r = vgpu_ledger_list (l, &all, &n, NULL, NULL, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (strcmp (all[i].owner, owner) == 0)
                        all[k++] = all[i];
        *ret = TAKE_PTR (all);
        *ret_n = k;
        return 0;
}

/* Undo the mdevs this call created (newest first) and their records. */
static void
rollback (const vgpu_roots_t *roots, vgpu_ledger_t *l, const vgpu_mdev_t *made, size_t n)
{
        while (n-- > 0) {
                if (vgpu_mdev_remove (roots, made[n].uuid, VGPU_RELEASE_TIMEOUT_MS, NULL) == 0)
                        vgpu_ledger_del (l, made[n].uuid, NULL);
        }
}

static int
allocate_one (const vgpu_roots_t *roots, vgpu_ledger_t *l, const vgpu_choice_t *c, const vgpu_owner_info_t *who,
              vgpu_mdev_t *ret, vgpu_error_t *err)
{
        vgpu_record_t rec = { .group = -1, .state = VGPU_RECORD_CREATING, .pid = who->pid, .holder = getpid () };
        int r;

        vgpu_uuid_new (rec.uuid);
        snprintf (rec.owner, sizeof rec.owner, "%s", who->owner);
        snprintf (rec.parent, sizeof rec.parent, "%s", c->parent->name);
        snprintf (rec.type, sizeof rec.type, "%s", c->type->id);
        snprintf (rec.stage, sizeof rec.stage, "%s", who->stage ? who->stage : "");
        vgpu_proc_start (rec.holder, &rec.holder_start);
        if (rec.pid > 0 && vgpu_proc_start (rec.pid, &rec.pid_start) < 0)
                return vgpu_error_set (err, ESRCH, "container process %d is gone", (int) rec.pid);
        r = vgpu_ledger_put (l, &rec, err);
        if (r < 0)
                return r;
        vgpu_crashpoint ("after-record");
        r = vgpu_mdev_create (roots, rec.parent, rec.type, rec.uuid, VGPU_CREATE_TIMEOUT_MS, ret, err);
        if (r < 0) {
                vgpu_ledger_del (l, rec.uuid, NULL);
                return r;
        }
        vgpu_crashpoint ("after-create");
        rec.state = VGPU_RECORD_ACTIVE;
        rec.group = ret->group;
        rec.holder = 0;
        rec.holder_start = 0;
        r = vgpu_ledger_put (l, &rec, err);
        if (r < 0) {
                vgpu_mdev_remove (roots, rec.uuid, VGPU_RELEASE_TIMEOUT_MS, NULL);
                vgpu_ledger_del (l, rec.uuid, NULL);
                return r;
        }
        vgpu_crashpoint ("after-ledger");
        return 0;
}

/* Existing allocations of the owner, when every one is alive in sysfs.  A
 * later stage that knows the container pid (createRuntime after precreate)
 * records it, so gc can tell when the container is gone. */
static int
existing (const vgpu_roots_t *roots, vgpu_ledger_t *l, const vgpu_owner_info_t *who, vgpu_mdev_t *ret, size_t *ret_n,
          vgpu_error_t *err)
{
        const char *owner = who->owner;
        _cleanup_free_ vgpu_record_t *recs = NULL;
        size_t n = 0;
        int r;

        r = owner_records (l, owner, &recs, &n, err);
        if (r < 0)
                return r;
        if (n > VGPU_ALLOC_MAX)
                n = VGPU_ALLOC_MAX;
        for (size_t i = 0; i < n; i++) {
                if (recs[i].state != VGPU_RECORD_ACTIVE)
                        return vgpu_error_set (err, EBUSY, "owner %s has mdev %s in state %s; run `vgpuctl gc`", owner,
                                               recs[i].uuid, vgpu_record_state_name (recs[i].state));
                r = vgpu_mdev_lookup (roots, recs[i].uuid, &ret[i], err);
                if (r < 0)
                        return vgpu_error_prefix (err, "owner %s holds a ledger record", owner);
                if (recs[i].pid == 0 && who->pid > 0 && vgpu_proc_start (who->pid, &recs[i].pid_start) == 0) {
                        recs[i].pid = who->pid;
                        r = vgpu_ledger_put (l, &recs[i], err);
                        if (r < 0)
                                return r;
                }
        }
        *ret_n = n;
        return 0;
}

int
vgpu_allocate (const vgpu_roots_t *roots, const vgpu_selector_t *sel, const vgpu_owner_info_t *who, size_t count,
               vgpu_mdev_t *ret, size_t *ret_n, bool *ret_reused, vgpu_error_t *err)
{
        _cleanup_ledger_ vgpu_ledger_t l = { -1, -1 };
        vgpu_host_t host = { 0 };
        size_t made = 0;
        int r;

        if (!vgpu_owner_valid (who->owner))
                return vgpu_error_set (err, EINVAL, "owner \"%.64s\" is not a valid container id", who->owner);
        if (count == 0 || count > VGPU_ALLOC_MAX)
                return vgpu_error_set (err, EINVAL, "count %zu is not between 1 and %d", count, VGPU_ALLOC_MAX);
        r = vgpu_ledger_open (roots, &l, err);
        if (r < 0)
                return r;
        vgpu_crashpoint ("after-lock");
        r = existing (roots, &l, who, ret, ret_n, err);
        if (ret_reused)
                *ret_reused = r == 0 && *ret_n > 0;
        if (r < 0 || *ret_n > 0)
                return r;
        for (; made < count; made++) {
                vgpu_choice_t c;

                r = vgpu_host_scan (roots, &host, err);
                if (r == 0)
                        r = vgpu_select (&host, sel, &c, err);
                if (r == 0)
                        r = allocate_one (roots, &l, &c, who, &ret[made], err);
                vgpu_host_free (&host);
                if (r < 0) {
                        rollback (roots, &l, ret, made);
                        return r;
                }
        }
        *ret_n = made;
        return 0;
}

/* Mark releasing, remove without holding the lock (the kernel may block),
 * then drop the record.  On a timeout the record stays releasing. */
static int
release_record (const vgpu_roots_t *roots, vgpu_ledger_t *l, vgpu_record_t *rec, unsigned timeout_ms, vgpu_error_t *err)
{
        int r;

        if (rec->state != VGPU_RECORD_RELEASING) {
                rec->state = VGPU_RECORD_RELEASING;
                r = vgpu_ledger_put (l, rec, err);
                if (r < 0)
                        return r;
        }
        vgpu_crashpoint ("after-mark-releasing");
        vgpu_ledger_unlock (l);
        r = vgpu_mdev_remove (roots, rec->uuid, timeout_ms, err);
        if (vgpu_ledger_lock (l, r < 0 ? NULL : err) < 0 && r == 0)
                return -EIO;
        if (r == -ETIMEDOUT || r == -EBUSY)
                return vgpu_error_set (err, -r,
                                       "mdev %s of %s is still open after %u ms: marked releasing, `vgpuctl gc` "
                                       "removes it once the holder closes it",
                                       rec->uuid, rec->owner, timeout_ms);
        if (r < 0)
                return r;
        vgpu_crashpoint ("after-remove");
        return vgpu_ledger_del (l, rec->uuid, err);
}

int
vgpu_release_owner (const vgpu_roots_t *roots, const char *owner, unsigned timeout_ms, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_ledger_ vgpu_ledger_t l = { -1, -1 };
        _cleanup_free_ vgpu_record_t *recs = NULL;
        size_t n = 0, done = 0;
        int r, first = 0;

        if (!vgpu_owner_valid (owner))
                return vgpu_error_set (err, EINVAL, "owner \"%.64s\" is not a valid container id", owner);
        r = vgpu_ledger_open (roots, &l, err);
        if (r == 0)
                r = owner_records (&l, owner, &recs, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                vgpu_error_t e = { 0 };

                r = release_record (roots, &l, &recs[i], timeout_ms, &e);
                if (r == 0)
                        done++;
                else if (first == 0) {
                        first = r;
                        if (err)
                                *err = e;
                }
        }
        if (ret_n)
                *ret_n = done;
        return first;
}

int
vgpu_release_uuid (const vgpu_roots_t *roots, const char *uuid, unsigned timeout_ms, vgpu_error_t *err)
{
        _cleanup_ledger_ vgpu_ledger_t l = { -1, -1 };
        char id[VGPU_UUID_LEN + 1];
        vgpu_record_t rec;
        vgpu_mdev_t m;
        int r;

        r = vgpu_uuid_normalise (uuid, id, err);
        if (r < 0)
                return r;
        r = vgpu_ledger_open (roots, &l, err);
        if (r < 0)
                return r;
        r = vgpu_ledger_get (&l, id, &rec, err);
        if (r == -ENOENT)
                return vgpu_mdev_lookup (roots, id, &m, NULL) == 0
                               ? vgpu_error_set (err, EPERM,
                                                 "mdev %s is not in the ledger: vgpu-toolkit did not create it and "
                                                 "leaves it alone",
                                                 id)
                               : vgpu_error_set (err, ENOENT, "no mdev %s", id);
        if (r < 0)
                return r;
        return release_record (roots, &l, &rec, timeout_ms, err);
}

static bool
mdev_present (const vgpu_roots_t *roots, const char *uuid)
{
        vgpu_mdev_t m;

        return vgpu_mdev_lookup (roots, uuid, &m, NULL) == 0;
}

/* Why gc should reclaim rec, or NULL to keep it. */
static const char *
gc_reason (const vgpu_roots_t *roots, const vgpu_record_t *rec)
{
        switch (rec->state) {
        case VGPU_RECORD_CREATING:
                return vgpu_proc_alive (rec->holder, rec->holder_start) ? NULL : "allocation interrupted";
        case VGPU_RECORD_RELEASING: return "release pending";
        case VGPU_RECORD_ACTIVE:
        default:
                if (!mdev_present (roots, rec->uuid))
                        return "mdev already gone";
                if (rec->pid > 0 && !vgpu_proc_alive (rec->pid, rec->pid_start))
                        return "container gone";
                return NULL;
        }
}

static int
push_action (vgpu_gc_action_t **acts, size_t *n, const char *uuid, const char *owner, const char *reason, int result,
             const vgpu_error_t *e)
{
        vgpu_gc_action_t *a;
        void *p = realloc (*acts, (*n + 1) * sizeof **acts);

        if (!p)
                return -ENOMEM;
        *acts = p;
        a = &(*acts)[(*n)++];
        memset (a, 0, sizeof *a);
        snprintf (a->uuid, sizeof a->uuid, "%s", uuid);
        snprintf (a->owner, sizeof a->owner, "%s", owner);
        a->reason = reason;
        a->result = result;
        if (result < 0)
                vgpu_copy (a->message, sizeof a->message, e->msg);
        return 0;
}

int
vgpu_gc (const vgpu_roots_t *roots, unsigned timeout_ms, vgpu_gc_action_t **ret, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_ledger_ vgpu_ledger_t l = { -1, -1 };
        _cleanup_free_ vgpu_record_t *recs = NULL;
        _cleanup_free_ char (*bad)[VGPU_UUID_LEN + 1] = NULL;
        _cleanup_free_ vgpu_gc_action_t *acts = NULL;
        size_t n = 0, n_bad = 0, n_acts = 0;
        int r;

        r = vgpu_ledger_open (roots, &l, err);
        if (r == 0)
                r = vgpu_ledger_list (&l, &recs, &n, &bad, &n_bad, err);
        if (r < 0)
                return r;
        vgpu_ledger_sweep (&l);
        for (size_t i = 0; i < n_bad; i++) {
                vgpu_error_t e = { 0 };

                /* a record we cannot trust still proves the mdev is ours */
                r = vgpu_mdev_remove (roots, bad[i], timeout_ms, &e);
                if (r == 0)
                        r = vgpu_ledger_del (&l, bad[i], &e);
                if (push_action (&acts, &n_acts, bad[i], "?", "corrupt ledger record", r, &e) < 0)
                        return vgpu_error_set (err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                const char *why = gc_reason (roots, &recs[i]);
                vgpu_error_t e = { 0 };

                if (!why)
                        continue;
                r = release_record (roots, &l, &recs[i], timeout_ms, &e);
                if (push_action (&acts, &n_acts, recs[i].uuid, recs[i].owner, why, r, &e) < 0)
                        return vgpu_error_set (err, ENOMEM, "out of memory");
        }
        *ret = TAKE_PTR (acts);
        *ret_n = n_acts;
        return 0;
}

int
vgpu_ledger_snapshot (const vgpu_roots_t *roots, vgpu_record_t **ret, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_ledger_ vgpu_ledger_t l = { -1, -1 };
        int r;

        _cleanup_free_ char (*bad)[VGPU_UUID_LEN + 1] = NULL;
        vgpu_record_t *recs = NULL;
        size_t n = 0, n_bad = 0;

        r = vgpu_ledger_open (roots, &l, err);
        if (r == 0)
                r = vgpu_ledger_list (&l, &recs, &n, &bad, &n_bad, err);
        if (r < 0)
                return r;
        if (n_bad) {
                void *p = realloc (recs, (n + n_bad) * sizeof *recs);

                if (!p) {
                        free (recs);
                        return vgpu_error_set (err, ENOMEM, "out of memory");
                }
                recs = p;
        }
        for (size_t i = 0; i < n_bad; i++, n++) {
                recs[n] = (vgpu_record_t) { .state = VGPU_RECORD_CORRUPT, .group = -1 };
                memcpy (recs[n].uuid, bad[i], sizeof recs[n].uuid);
        }
        *ret = recs;
        *ret_n = n;
        return 0;
}
