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

static void
ledger_cleanup (vgpu_ledger_t *l)
{
        vgpu_ledger_close (l);
}
#define _cleanup_ledger_ __attribute__ ((cleanup (ledger_cleanup)))

static bool
owner_matches (const vgpu_record_t *rec, const vgpu_owner_t *owner)
{
        if (owner->kind == VGPU_OWNER_BY_NAME)
                return (rec->owner.kind == VGPU_OWNER_CONTAINER || rec->owner.kind == VGPU_OWNER_VGPUCTL) &&
                       strcmp (rec->owner.id, owner->id) == 0;
        return vgpu_owner_same (&rec->owner, owner);
}

/* A process holds the allocation: the container (or node agent's process)
 * it was bound to still runs. */
static bool
held_live (const vgpu_record_t *rec)
{
        return rec->pid > 0 && vgpu_proc_alive (rec->pid, rec->pid_start);
}

/* The owner's records, under the lock, found by their file names; by name,
 * the container's and the vgpuctl owner's. */
static int
owner_records (vgpu_ledger_t *l, const vgpu_owner_t *owner, vgpu_record_t **ret, size_t *ret_n, vgpu_error_t *err)
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

/* "mdev <uuid>" or "VF <address>", for messages. */
static const char *
device_of (const vgpu_record_t *rec, char buf[VGPU_DEVICE_DISPLAY_MAX])
{
        return vgpu_device_display (rec->backend, rec->device, buf);
}

static const char *
display (const vgpu_record_t *rec, char buf[VGPU_OWNER_DISPLAY_MAX])
{
        char raw[VGPU_OWNER_DISPLAY_MAX], q[VGPU_QUOTE_BUF];

        vgpu_owner_display (&rec->owner, raw);
        snprintf (buf, VGPU_OWNER_DISPLAY_MAX, "%s", vgpu_quote (raw, strlen (raw), q));
        return buf;
}

/* The nodes a container got for this mdev, without the ones every vGPU shares
 * (/dev/vfio/vfio, /dev/iommu), into nodes; their count. */
static size_t
own_nodes (const vgpu_plan_t *plan, vgpu_node_t *nodes)
{
        size_t k = 0;

        for (size_t i = 0; i < plan->n_nodes; i++)
                if (strcmp (plan->nodes[i].path, VGPU_VFIO_CONTAINER_PATH) != 0 &&
                    strcmp (plan->nodes[i].path, "/dev/iommu") != 0)
                        nodes[k++] = plan->nodes[i];
        return k;
}

/* A forced release of a live container's mdev: its nodes out of the
 * container and the device cgroup denying them, before the mdev goes and its
 * group number can be handed to someone else. */
static int
revoke_access (const vgpu_roots_t *roots, const vgpu_record_t *rec, vgpu_error_t *err)
{
        vgpu_node_t nodes[VGPU_PLAN_MAX_NODES];
        char who[VGPU_OWNER_DISPLAY_MAX], dev[VGPU_DEVICE_DISPLAY_MAX];
        vgpu_plan_t plan;
        vgpu_mdev_t m;
        size_t n;
        int r;

        if (vgpu_device_lookup (roots, rec->backend, rec->device, &m, NULL) < 0)
                return 0; /* gone already: nothing to reach */
        r = vgpu_plan_build (roots, &m, 1, &plan, err);
        if (r < 0)
                return r;
        n = own_nodes (&plan, nodes);
        r = vgpu_cgroup_deny (rec->pid, NULL, nodes, n, err);
        if (r == 0)
                r = vgpu_inject_remove (rec->pid, nodes, n, err);
        if (r < 0)
                return vgpu_error_prefix (err, "container %s (pid %d) keeps %s: taking its access away failed",
                                          display (rec, who), (int) rec->pid, device_of (rec, dev));
        return 0;
}

/* Mark releasing, remove without holding the lock (the kernel may block),
 * then drop the record.  On a timeout the record stays releasing. */
static int
release_record (const vgpu_roots_t *roots, vgpu_ledger_t *l, vgpu_record_t *rec, unsigned timeout_ms, vgpu_error_t *err)
{
        char who[VGPU_OWNER_DISPLAY_MAX], dev[VGPU_DEVICE_DISPLAY_MAX];
        int r;

        if (rec->state != VGPU_RECORD_RELEASING) {
                rec->state = VGPU_RECORD_RELEASING;
                r = vgpu_ledger_put (l, rec, err);
                if (r < 0)
                        return r;
        }
        vgpu_crashpoint ("after-mark-releasing");
        vgpu_ledger_unlock (l);
        r = vgpu_device_give_back (roots, rec->backend, rec->device, timeout_ms, err);
        if (vgpu_ledger_lock (l, r < 0 ? NULL : err) < 0 && r == 0)
                return -EIO;
        if (r == -ETIMEDOUT || r == -EBUSY)
                return vgpu_error_set (err, -r,
                                       "%s of %s is still open after %u ms: marked releasing, `vgpuctl gc` "
                                       "%s once the holder closes it",
                                       device_of (rec, dev), display (rec, who), timeout_ms,
                                       rec->backend == VGPU_BACKEND_VF ? "gives it back" : "removes it");
        if (r < 0)
                return r;
        vgpu_crashpoint ("after-remove");
        return vgpu_ledger_del (l, rec->uuid, err);
}

/* Release one record the way mode says; 1 when it was left (STOPPED and
 * live), 0 when released. */
static int
release_as (const vgpu_roots_t *roots, vgpu_ledger_t *l, vgpu_record_t *rec, vgpu_release_mode_t mode,
            unsigned timeout_ms, vgpu_error_t *err)
{
        char who[VGPU_OWNER_DISPLAY_MAX], dev[VGPU_DEVICE_DISPLAY_MAX];
        int r;

        if (mode != VGPU_RELEASE_ROLLBACK && held_live (rec)) {
                if (mode == VGPU_RELEASE_STOPPED)
                        return 1;
                if (mode == VGPU_RELEASE_ADMIN)
                        return vgpu_error_set (err, EBUSY,
                                               "%s is running (pid %d) and holds %s: stop it first, or --force "
                                               "(its nodes and device access are taken away first)",
                                               display (rec, who), (int) rec->pid, device_of (rec, dev));
                r = revoke_access (roots, rec, err);
                if (r < 0)
                        return r;
        }
        return release_record (roots, l, rec, timeout_ms, err);
}

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
                backend->give_back (roots, rec.device, VGPU_RELEASE_TIMEOUT_MS, NULL);
                vgpu_ledger_del (l, rec.uuid, NULL);
                return r;
        }
        vgpu_crashpoint ("after-ledger");
        return 0;
}

/* Why gc (or an allocation that found no instance left) should reclaim rec,
 * or NULL to keep it. */
static const char *
stale_reason (const vgpu_roots_t *roots, const vgpu_record_t *rec, unsigned unbound_after_s, long long now)
{
        vgpu_mdev_t m;

        switch (rec->state) {
        case VGPU_RECORD_CREATING:
                return vgpu_proc_alive (rec->holder, rec->holder_start) ? NULL : "allocation interrupted";
        case VGPU_RECORD_RELEASING: return "release pending";
        default: break;
        }
        if (vgpu_device_lookup (roots, rec->backend, rec->device, &m, NULL) < 0)
                return rec->backend == VGPU_BACKEND_VF ? "VF no longer under vfio-pci" : "mdev already gone";
        if (rec->owner.kind != VGPU_OWNER_CONTAINER && rec->owner.kind != VGPU_OWNER_VGPUCTL)
                return NULL; /* CDI pools and claims are released by vgpu-cdi */
        if (rec->pid > 0)
                return held_live (rec) ? NULL : "container gone";
        if (rec->owner.kind == VGPU_OWNER_CONTAINER && now - rec->created > (long long) unbound_after_s)
                return "no stage bound it to a container: the runtime's create failed";
        return NULL;
}

/* Reclaim what dead and never-started containers left; how many. */
static size_t
reclaim_stale (const vgpu_roots_t *roots, vgpu_ledger_t *l, unsigned unbound_after_s)
{
        _cleanup_free_ vgpu_record_t *recs = NULL;
        long long now = (long long) time (NULL);
        size_t n = 0, done = 0;

        if (vgpu_ledger_list (l, &recs, &n, NULL, NULL, NULL, NULL, NULL) < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (recs[i].owner.kind == VGPU_OWNER_CONTAINER && recs[i].state == VGPU_RECORD_ACTIVE &&
                    stale_reason (roots, &recs[i], unbound_after_s, now) &&
                    release_record (roots, l, &recs[i], VGPU_RELEASE_TIMEOUT_MS, NULL) == 0)
                        done++;
        return done;
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
        int r = owner_records (l, &who->owner, &recs, &n, err);

        for (size_t i = 0; r == 0 && i < n; i++) {
                vgpu_record_t *rec = &recs[i];

                if (rec->state == VGPU_RECORD_RELEASING)
                        continue; /* the old instance's, being given back */
                if (rec->state == VGPU_RECORD_CREATING && vgpu_proc_alive (rec->holder, rec->holder_start))
                        return vgpu_error_set (err, EBUSY, "container %s: another allocation for it is under way",
                                               display (rec, id));
                if (rec->pid > 0 && held_live (rec) && rec->pid != who->pid)
                        return vgpu_error_set (err, EEXIST,
                                               "container %s: another live container with this id (pid %d) holds %s; "
                                               "container ids must be unique on a host",
                                               display (rec, id), (int) rec->pid, device_of (rec, dev));
                if (rec->state == VGPU_RECORD_CREATING || (rec->pid > 0 && !held_live (rec))) {
                        r = release_record (roots, l, rec, VGPU_RELEASE_TIMEOUT_MS, NULL);
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
        _cleanup_free_ vgpu_record_t *recs = calloc (VGPU_ALLOC_MAX, sizeof *recs);
        char id[VGPU_OWNER_DISPLAY_MAX], dev[VGPU_DEVICE_DISPLAY_MAX];
        size_t n = 0;
        int r;

        if (!recs)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        if (who->owner.kind == VGPU_OWNER_CONTAINER)
                r = sort_container (roots, l, who, request, recs, &n, err);
        else {
                _cleanup_free_ vgpu_record_t *all = NULL;

                r = owner_records (l, &who->owner, &all, &n, err);
                n = n > VGPU_ALLOC_MAX ? VGPU_ALLOC_MAX : n;
                if (r == 0 && n)
                        memcpy (recs, all, n * sizeof *recs);
        }
        for (size_t i = 0; r == 0 && i < n; i++) {
                if (who->uuid && strcmp (recs[i].uuid, who->uuid) != 0)
                        return vgpu_error_set (err, EEXIST, "owner %s already holds %s, not %s", display (&recs[i], id),
                                               device_of (&recs[i], dev), who->uuid);
                if (recs[i].state != VGPU_RECORD_ACTIVE)
                        return vgpu_error_set (err, EBUSY, "owner %s has %s in state %s; run `vgpuctl gc`",
                                               display (&recs[i], id), device_of (&recs[i], dev),
                                               vgpu_record_state_name (recs[i].state));
                r = vgpu_device_lookup (roots, recs[i].backend, recs[i].device, &ret[i], err);
                if (r < 0)
                        return vgpu_error_prefix (err, "owner %s holds a ledger record", display (&recs[i], id));
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
        int r = -ENOSPC, refused = 0;

        for (int attempt = 0; attempt < VGPU_ALLOC_MAX * 4; attempt++) {
                vgpu_host_t host = { 0 };
                vgpu_choice_t c;
                bool picked;

                vgpu_ledger_unlock (l);
                r = vgpu_host_scan (roots, &host, err);
                if (r == 0)
                        r = vgpu_select (&host, sel, &c, err);
                picked = r == 0;
                if (vgpu_ledger_lock (l, r < 0 ? NULL : err) < 0 && r == 0)
                        r = -EIO;
                if (r == 0)
                        r = allocate_one (roots, l, &c, who, request, ret, err);
                vgpu_host_free (&host);
                if (r == -ENOSPC && !picked && !reclaimed) {
                        reclaimed = true;
                        if (reclaim_stale (roots, l, unbound_after) > 0)
                                continue;
                }
                if (!picked || (r != -ENOSPC && r != -EUSERS) || ++refused > 3)
                        break; /* made, nothing left to pick, a failure no other pick mends, or a kernel that
                                * keeps refusing what it says it has */
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
                                       r == 0 ? " for " : "", r == 0 ? display (&rec, who) : "");
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

int
vgpu_release_owner (const vgpu_roots_t *roots, const vgpu_owner_t *owner, vgpu_release_mode_t mode, unsigned timeout_ms,
                    size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_ledger_ vgpu_ledger_t l = { -1, -1 };
        _cleanup_free_ vgpu_record_t *recs = NULL;
        char q[VGPU_QUOTE_BUF];
        size_t n = 0, done = 0;
        int r, first = 0;

        if (owner->kind != VGPU_OWNER_CDI_POOL && !vgpu_owner_valid (owner->id))
                return vgpu_error_set (err, EINVAL, "owner \"%s\" is not a valid container id",
                                       vgpu_quote (owner->id, strlen (owner->id), q));
        r = vgpu_ledger_open (roots, &l, err);
        if (r == 0)
                r = owner_records (&l, owner, &recs, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                vgpu_error_t e = { 0 };

                r = release_as (roots, &l, &recs[i], mode, timeout_ms, &e);
                if (r == 0)
                        done++;
                else if (r < 0 && first == 0) {
                        first = r;
                        if (err)
                                *err = e;
                }
        }
        if (ret_n)
                *ret_n = done;
        return first;
}

/* The ledger id a user names: an mdev's UUID, or a VF's PCI address (then
 * also in addr, "" otherwise). */
static int
named_id (const char *name, char id[VGPU_UUID_LEN + 1], char addr[VGPU_PCI_ADDR_LEN + 1], vgpu_error_t *err)
{
        addr[0] = '\0';
        if (vgpu_uuid_valid (name))
                return vgpu_uuid_normalise (name, id, err);
        if (vgpu_pci_addr_normalise (name, "device", addr, NULL) == 0) {
                vgpu_vf_id (addr, id);
                return 0;
        }
        return vgpu_error_set (err, EINVAL, "\"%.64s\" is neither an mdev's UUID nor a VF's PCI address", name);
}

int
vgpu_release_uuid (const vgpu_roots_t *roots, const char *uuid, vgpu_release_mode_t mode, unsigned timeout_ms,
                   vgpu_error_t *err)
{
        _cleanup_ledger_ vgpu_ledger_t l = { -1, -1 };
        char id[VGPU_UUID_LEN + 1], addr[VGPU_PCI_ADDR_LEN + 1];
        vgpu_record_t rec;
        vgpu_mdev_t m;
        int r;

        r = named_id (uuid, id, addr, err);
        if (r < 0)
                return r;
        r = vgpu_ledger_open (roots, &l, err);
        if (r < 0)
                return r;
        r = vgpu_ledger_get (&l, id, &rec, err);
        if ((r == -ENOENT || r == -EMEDIUMTYPE) && addr[0])
                return vgpu_device_lookup (roots, VGPU_BACKEND_VF, addr, &m, NULL) == 0
                               ? vgpu_error_set (err, EPERM,
                                                 "VF %s is not in the ledger: vgpu-toolkit did not claim it and "
                                                 "leaves it alone",
                                                 addr)
                               : vgpu_error_set (err, ENOENT, "no VF %s under vfio-pci", addr);
        if (r == -ENOENT || r == -EMEDIUMTYPE)
                return vgpu_mdev_lookup (roots, id, &m, NULL) == 0
                               ? vgpu_error_set (err, EPERM,
                                                 "mdev %s is not in the ledger: vgpu-toolkit did not create it and "
                                                 "leaves it alone",
                                                 id)
                               : vgpu_error_set (err, ENOENT, "no mdev %s", id);
        if (r < 0)
                return r;
        r = release_as (roots, &l, &rec, mode, timeout_ms, err);
        return r > 0 ? 0 : r;
}

static int
push_action (vgpu_gc_action_t **acts, size_t *n, const char *uuid, const char *device, const char *owner,
             const char *reason, int result, const vgpu_error_t *e)
{
        vgpu_gc_action_t *a;
        void *p = realloc (*acts, (*n + 1) * sizeof **acts);

        if (!p)
                return -ENOMEM;
        *acts = p;
        a = &(*acts)[(*n)++];
        memset (a, 0, sizeof *a);
        snprintf (a->uuid, sizeof a->uuid, "%s", uuid);
        snprintf (a->device, sizeof a->device, "%s", device);
        snprintf (a->owner, sizeof a->owner, "%s", owner);
        a->reason = reason;
        a->result = result;
        if (result < 0)
                vgpu_copy (a->message, sizeof a->message, e->msg);
        return 0;
}

/* Entries that are no record we wrote, and records we cannot read. */
static int
gc_unreadable (const vgpu_roots_t *roots, vgpu_ledger_t *l, char (*bad)[VGPU_UUID_LEN + 1], size_t n_bad,
               char (*odd)[VGPU_UUID_LEN + 1], size_t n_odd, unsigned timeout_ms, vgpu_gc_action_t **acts,
               size_t *n_acts)
{
        for (size_t i = 0; i < n_odd; i++) {
                vgpu_error_t e = { 0 };
                bool gone = vgpu_ledger_remove_stranger (l, odd[i], &e) == 0;

                /* not our writing, so no proof the mdev is ours: it stays */
                if (push_action (acts, n_acts, odd[i], "", "?",
                                 gone ? "no regular file: entry removed, mdev left alone"
                                      : "no regular file, and not removable: left alone (remove it by hand)",
                                 0, &e) < 0)
                        return -ENOMEM;
                (*acts)[*n_acts - 1].mdev_left = true;
        }
        for (size_t i = 0; i < n_bad; i++) {
                vgpu_error_t e = { 0 };
                vgpu_mdev_t m;
                /* a record we wrote and cannot read still proves the device is ours: its id names it */
                int r = vgpu_device_find (roots, bad[i], &m, NULL) == 0
                                ? vgpu_device_give_back (roots, m.backend, m.name, timeout_ms, &e)
                                : vgpu_mdev_remove (roots, bad[i], timeout_ms, &e);

                if (r == 0)
                        r = vgpu_ledger_del (l, bad[i], &e);
                if (push_action (acts, n_acts, bad[i], "", "?", "corrupt ledger record", r, &e) < 0)
                        return -ENOMEM;
        }
        return 0;
}

const char *
vgpu_gc_reason (const vgpu_roots_t *roots, const vgpu_record_t *rec)
{
        return stale_reason (roots, rec, VGPU_UNBOUND_AFTER_S, (long long) time (NULL));
}

int
vgpu_gc (const vgpu_roots_t *roots, unsigned timeout_ms, unsigned unbound_after_s, vgpu_gc_action_t **ret,
         size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_ledger_ vgpu_ledger_t l = { -1, -1 };
        _cleanup_free_ vgpu_record_t *recs = NULL;
        _cleanup_free_ char (*bad)[VGPU_UUID_LEN + 1] = NULL;
        _cleanup_free_ char (*odd)[VGPU_UUID_LEN + 1] = NULL;
        _cleanup_free_ vgpu_gc_action_t *acts = NULL;
        size_t n = 0, n_bad = 0, n_odd = 0, n_acts = 0;
        long long now = (long long) time (NULL);
        int r;

        r = vgpu_ledger_open (roots, &l, err);
        if (r == 0)
                r = vgpu_ledger_list (&l, &recs, &n, &bad, &n_bad, &odd, &n_odd, err);
        if (r < 0)
                return r;
        vgpu_ledger_sweep (&l);
        if (gc_unreadable (roots, &l, bad, n_bad, odd, n_odd, timeout_ms, &acts, &n_acts) < 0)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const char *why =
                        stale_reason (roots, &recs[i], unbound_after_s ? unbound_after_s : VGPU_UNBOUND_AFTER_S, now);
                char who[VGPU_OWNER_DISPLAY_MAX];
                vgpu_error_t e = { 0 };

                if (!why)
                        continue;
                r = release_record (roots, &l, &recs[i], timeout_ms, &e);
                if (push_action (&acts, &n_acts, recs[i].uuid, recs[i].device, display (&recs[i], who), why, r, &e) < 0)
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
        _cleanup_free_ char (*bad)[VGPU_UUID_LEN + 1] = NULL;
        _cleanup_free_ char (*odd)[VGPU_UUID_LEN + 1] = NULL;
        vgpu_record_t *recs = NULL;
        size_t n = 0, n_bad = 0, n_odd = 0;
        int r;

        r = vgpu_ledger_open (roots, &l, err);
        if (r == 0)
                r = vgpu_ledger_list (&l, &recs, &n, &bad, &n_bad, &odd, &n_odd, err);
        if (r < 0)
                return r;
        if (n_bad + n_odd) {
                void *p = realloc (recs, (n + n_bad + n_odd) * sizeof *recs);

                if (!p) {
                        free (recs);
                        return vgpu_error_set (err, ENOMEM, "out of memory");
                }
                recs = p;
        }
        for (size_t i = 0; i < n_bad + n_odd; i++, n++) {
                recs[n] = (vgpu_record_t) { .state = VGPU_RECORD_CORRUPT, .group = -1 };
                memcpy (recs[n].uuid, i < n_bad ? bad[i] : odd[i - n_bad], sizeof recs[n].uuid);
        }
        *ret = recs;
        *ret_n = n;
        return 0;
}
