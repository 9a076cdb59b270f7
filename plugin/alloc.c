/* alloc.c — see alloc.h. */
#include "alloc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup.h"
#include "host.h"
#include "inject.h"
#include "json.h"
#include "pci.h"
#include "plan.h"
#include "util.h"

/* Undo the devices this call made or claimed (newest first) and their
 * records. */
static void
rollback (const vgpu_roots_t *roots, vgpu_ledger_t *l, const vgpu_mdev_t *made, size_t n)
{
        while (n-- > 0) {
                if (vgpu_device_give_back (roots, made[n].backend, made[n].name, VGPU_RELEASE_TIMEOUT_MS, NULL) == 0)
                        vgpu_ledger_del (l, made[n].uuid, NULL);
        }
}

/* A ledger id is taken while any record has it (a VF's, even releasing). */
static bool
taken_in_ledger (const char *uuid, void *ctx)
{
        vgpu_record_t rec;

        return vgpu_ledger_get (ctx, uuid, &rec, NULL) != -ENOENT;
}

static int
allocate_one (const vgpu_roots_t *roots, vgpu_ledger_t *l, const vgpu_choice_t *c, const vgpu_owner_info_t *who,
              const char *request, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        const vgpu_backend_t *backend = vgpu_backend (c->parent->backend);
        vgpu_record_t rec = {
                .owner = who->owner, .group = -1, .state = VGPU_RECORD_CREATING, .pid = who->pid, .holder = getpid ()
        };
        vgpu_mdev_t picked;
        int r;

        /* who->uuid is normalised by vgpu_allocate */
        r = backend->pick (roots, c->parent->name, c->type->id, who->uuid, taken_in_ledger, l, &picked, err);
        if (r < 0)
                return r;
        vgpu_copy (rec.uuid, sizeof rec.uuid, picked.uuid);
        rec.backend = picked.backend;
        vgpu_copy (rec.device, sizeof rec.device, picked.name);
        snprintf (rec.request, sizeof rec.request, "%s", request);
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
        /* The kernel's create (a VF's claim) takes its time: other
         * allocations go on meanwhile; the record (creating, by a live
         * holder) is ours, so no other pick takes its id, and the kernel's
         * ENOSPC judges a race for the last mdev instance. */
        vgpu_ledger_unlock (l);
        r = backend->make (roots, &picked, VGPU_CREATE_TIMEOUT_MS, ret, err);
        if (vgpu_ledger_lock (l, r < 0 ? NULL : err) < 0 && r == 0) {
                backend->give_back (roots, picked.name, VGPU_RELEASE_TIMEOUT_MS, NULL);
                r = -EIO;
        }
        if (r < 0) {
                vgpu_ledger_drop (l, &rec, NULL);
                return r;
        }
        vgpu_crashpoint ("after-create");
        rec.state = VGPU_RECORD_ACTIVE;
        rec.group = ret->group;
        rec.holder = 0;
        rec.holder_start = 0;
        r = vgpu_ledger_put (l, &rec, err);
        if (r < 0) {
                backend->give_back (roots, rec.device, VGPU_RELEASE_TIMEOUT_MS, NULL);
                vgpu_ledger_drop (l, &rec, NULL);
                return r;
        }
        vgpu_crashpoint ("after-ledger");
        return 0;
}

static int
check_count (const vgpu_owner_info_t *who, size_t count, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];

        if (who->owner.kind == VGPU_OWNER_CDI_POOL ? !who->owner.id[0] : !vgpu_owner_valid (who->owner.id))
                return vgpu_error_set (err, EINVAL, "owner \"%s\" is not a valid container id",
                                       vgpu_quote (who->owner.id, strlen (who->owner.id), q));
        if (count == 0 || count > VGPU_ALLOC_MAX)
                return vgpu_error_set (err, EINVAL, "count %zu is not between 1 and %d", count, VGPU_ALLOC_MAX);
        return 0;
}

/* What a container with this id left or holds, under the lock: records of a
 * dead or interrupted instance are reclaimed; a live other instance is
 * -EEXIST; this instance's records for the request go to mine (bound to the
 * pid now if they were not). */
static int
sort_container (const vgpu_roots_t *roots, vgpu_ledger_t *l, const vgpu_owner_info_t *who, const char *request,
                vgpu_record_t *mine, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_free_ vgpu_record_t *recs = NULL;
        char id[VGPU_OWNER_DISPLAY_MAX], dev[VGPU_DEVICE_DISPLAY_MAX];
        size_t n = 0, k = 0;
        int r = vgpu_ledger_records_of (l, &who->owner, &recs, &n, err);

        for (size_t i = 0; r == 0 && i < n; i++) {
                vgpu_record_t *rec = &recs[i];

                if (rec->state == VGPU_RECORD_RELEASING)
                        continue; /* the old instance's, being given back */
                if (rec->state == VGPU_RECORD_CREATING && vgpu_proc_alive (rec->holder, rec->holder_start))
                        return vgpu_error_set (err, EBUSY, "container %s: another allocation for it is under way",
                                               vgpu_record_who (rec, id));
                if (rec->pid > 0 && vgpu_record_held (rec) && rec->pid != who->pid)
                        return vgpu_error_set (err, EEXIST,
                                               "container %s: another live container with this id (pid %d) holds %s; "
                                               "container ids must be unique on a host",
                                               vgpu_record_who (rec, id), (int) rec->pid,
                                               vgpu_record_device (rec, dev));
                if (rec->state == VGPU_RECORD_CREATING || (rec->pid > 0 && !vgpu_record_held (rec))) {
                        r = vgpu_release_record (roots, l, rec, VGPU_RELEASE_TIMEOUT_MS, NULL);
                        r = r == -ETIMEDOUT || r == -EBUSY ? 0 : r; /* gc finishes it; a fresh one is made */
                        continue;
                }
                if ((rec->request[0] && strcmp (rec->request, request) != 0) || k == VGPU_ALLOC_MAX)
                        continue; /* another request of this container: another vGPU */
                if (rec->pid == 0 && who->pid > 0 && vgpu_proc_start (who->pid, &rec->pid_start) == 0) {
                        rec->pid = who->pid;
                        r = vgpu_ledger_put (l, rec, err);
                }
                mine[k++] = *rec;
        }
        *ret_n = k;
        return r;
}

/* Existing allocations for this request: the container instance's (see
 * sort_container), or for other kinds all the owner holds. */
static int
existing (const vgpu_roots_t *roots, vgpu_ledger_t *l, const vgpu_owner_info_t *who, const char *request,
          vgpu_mdev_t *ret, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_free_ vgpu_record_t *recs = malloc (VGPU_ALLOC_MAX * sizeof *recs); /* filled before read */
        char id[VGPU_OWNER_DISPLAY_MAX], dev[VGPU_DEVICE_DISPLAY_MAX];
        size_t n = 0;
        int r;

        if (!recs)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        if (who->owner.kind == VGPU_OWNER_CONTAINER)
                r = sort_container (roots, l, who, request, recs, &n, err);
        else {
                _cleanup_free_ vgpu_record_t *all = NULL;

                r = vgpu_ledger_records_of (l, &who->owner, &all, &n, err);
                n = n > VGPU_ALLOC_MAX ? VGPU_ALLOC_MAX : n;
                if (r == 0 && n)
                        memcpy (recs, all, n * sizeof *recs);
        }
        for (size_t i = 0; r == 0 && i < n; i++) {
                if (who->uuid && strcmp (recs[i].uuid, who->uuid) != 0)
                        return vgpu_error_set (err, EEXIST, "owner %s already holds %s, not %s",
                                               vgpu_record_who (&recs[i], id), vgpu_record_device (&recs[i], dev),
                                               who->uuid);
                if (recs[i].state != VGPU_RECORD_ACTIVE)
                        return vgpu_error_set (err, EBUSY, "owner %s has %s in state %s; run `vgpuctl gc`",
                                               vgpu_record_who (&recs[i], id), vgpu_record_device (&recs[i], dev),
                                               vgpu_record_state_name (recs[i].state));
                r = vgpu_device_lookup (roots, recs[i].backend, recs[i].device, &ret[i], err);
                if (r < 0)
                        return vgpu_error_prefix (err, "owner %s holds a ledger record",
                                                  vgpu_record_who (&recs[i], id));
        }
        *ret_n = n;
        return r;
}

/* One pick and create.  The pick needs no lock: when two allocations pick
 * the last instance, the kernel refuses one (ENOSPC or EUSERS) and that one
 * picks again from what is left.  When nothing is left, what dead and
 * never-started containers left is reclaimed, once, before giving up. */
static int
allocate_next (const vgpu_roots_t *roots, vgpu_ledger_t *l, const vgpu_selector_t *sel, const vgpu_owner_info_t *who,
               const char *request, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        unsigned unbound_after = who->unbound_after_s ? who->unbound_after_s : VGPU_UNBOUND_AFTER_S;
        bool reclaimed = false;
        int r = -ENOSPC;

        for (int attempt = 0; attempt < VGPU_ALLOC_MAX * 4; attempt++) {
                vgpu_host_t host = { 0 };
                vgpu_choice_t c;
                bool picked;

                vgpu_ledger_unlock (l);
                r = vgpu_choose (roots, sel, &host, &c, err); /* reads only what the request needs */
                picked = r == 0;
                if (vgpu_ledger_lock (l, r < 0 ? NULL : err) < 0 && r == 0)
                        r = -EIO;
                if (r == 0)
                        r = allocate_one (roots, l, &c, who, request, ret, err);
                vgpu_host_free (&host);
                if (r == -ENOSPC && !picked && !reclaimed) {
                        reclaimed = true;
                        if (vgpu_reclaim_stale (roots, l, unbound_after) > 0)
                                continue;
                }
                if (!picked || (r != -ENOSPC && r != -EUSERS))
                        break; /* made, nothing left to pick, or a failure no other pick mends; a kernel
                                * that keeps refusing what it lists runs out of attempts */
        }
        return r;
}

/* A UUID the caller chose is free: no mdev on any parent and no ledger
 * record (a release may be pending) has it. */
static int
uuid_free (const vgpu_roots_t *roots, vgpu_ledger_t *l, const char *uuid, vgpu_error_t *err)
{
        char who[VGPU_OWNER_DISPLAY_MAX];
        vgpu_record_t rec;
        vgpu_mdev_t m;
        int r = vgpu_ledger_get (l, uuid, &rec, NULL);

        if (r != -ENOENT)
                return vgpu_error_set (err, EEXIST, "UUID %s is taken: the ledger holds it%s%s (`vgpuctl list`)", uuid,
                                       r == 0 ? " for " : "", r == 0 ? vgpu_record_who (&rec, who) : "");
        r = vgpu_mdev_lookup (roots, uuid, &m, NULL);
        if (r == 0)
                return vgpu_error_set (err, EEXIST, "UUID %s is taken: mdev %s of type %s on %s exists", uuid, uuid,
                                       m.type, m.parent);
        return 0;
}

int
vgpu_allocate (const vgpu_roots_t *roots, const vgpu_selector_t *sel, const vgpu_owner_info_t *who, size_t count,
               vgpu_mdev_t *ret, size_t *ret_n, bool *ret_reused, vgpu_error_t *err)
{
        _cleanup_ledger_ vgpu_ledger_t l = { -1, -1 };
        const char *request = who->request ? who->request : sel->type;
        vgpu_owner_info_t chosen = *who;
        char uuid[VGPU_UUID_LEN + 1];
        size_t made = 0;
        int r;

        r = check_count (who, count, err);
        if (r == 0 && who->uuid && count != 1)
                r = vgpu_error_set (err, EINVAL, "a chosen UUID names one mdev, not %zu", count);
        if (r == 0 && who->uuid && (r = vgpu_uuid_normalise (who->uuid, uuid, err)) == 0)
                chosen.uuid = uuid;
        if (r == 0)
                r = vgpu_ledger_open (roots, &l, err);
        if (r < 0)
                return r;
        vgpu_crashpoint ("after-lock");
        r = existing (roots, &l, &chosen, request, ret, ret_n, err);
        if (ret_reused)
                *ret_reused = r == 0 && *ret_n > 0;
        if (r < 0 || *ret_n > 0)
                return r;
        if (chosen.uuid && (r = uuid_free (roots, &l, chosen.uuid, err)) < 0)
                return r;
        for (; made < count; made++) {
                r = allocate_next (roots, &l, sel, &chosen, request, &ret[made], err);
                if (r < 0) {
                        rollback (roots, &l, ret, made);
                        return r;
                }
        }
        *ret_n = made;
        return 0;
}
