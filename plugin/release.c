/* release.c — see release.h. */
#include "release.h"

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
                                          vgpu_record_who (rec, who), (int) rec->pid, vgpu_record_device (rec, dev));
        return 0;
}

/* Mark releasing, remove without holding the lock (the kernel may block),
 * then drop the record.  On a timeout the record stays releasing. */
int
vgpu_release_record (const vgpu_roots_t *roots, vgpu_ledger_t *l, vgpu_record_t *rec, unsigned timeout_ms,
                     vgpu_error_t *err)
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
                                       vgpu_record_device (rec, dev), vgpu_record_who (rec, who), timeout_ms,
                                       rec->backend == VGPU_BACKEND_VF ? "gives it back" : "removes it");
        if (r < 0)
                return r;
        vgpu_crashpoint ("after-remove");
        return vgpu_ledger_drop (l, rec, err);
}

/* Release one record the way mode says; 1 when it was left (STOPPED and
 * live), 0 when released. */
static int
release_as (const vgpu_roots_t *roots, vgpu_ledger_t *l, vgpu_record_t *rec, vgpu_release_mode_t mode,
            unsigned timeout_ms, vgpu_error_t *err)
{
        char who[VGPU_OWNER_DISPLAY_MAX], dev[VGPU_DEVICE_DISPLAY_MAX];
        int r;

        if (mode != VGPU_RELEASE_ROLLBACK && vgpu_record_held (rec)) {
                if (mode == VGPU_RELEASE_STOPPED)
                        return 1;
                if (mode == VGPU_RELEASE_ADMIN)
                        return vgpu_error_set (err, EBUSY,
                                               "%s is running (pid %d) and holds %s: stop it first, or --force "
                                               "(its nodes and device access are taken away first)",
                                               vgpu_record_who (rec, who), (int) rec->pid,
                                               vgpu_record_device (rec, dev));
                r = revoke_access (roots, rec, err);
                if (r < 0)
                        return r;
        }
        return vgpu_release_record (roots, l, rec, timeout_ms, err);
}

/* Why gc (or an allocation that found no instance left) should reclaim rec,
 * or NULL to keep it. */
const char *
vgpu_stale_reason (const vgpu_roots_t *roots, const vgpu_record_t *rec, unsigned unbound_after_s, long long now)
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
                return vgpu_record_held (rec) ? NULL : "container gone";
        if (rec->owner.kind == VGPU_OWNER_CONTAINER && now - rec->created > (long long) unbound_after_s)
                return "no stage bound it to a container: the runtime's create failed";
        return NULL;
}

/* Reclaim what dead and never-started containers left; how many. */
size_t
vgpu_reclaim_stale (const vgpu_roots_t *roots, vgpu_ledger_t *l, unsigned unbound_after_s)
{
        _cleanup_free_ vgpu_record_t *recs = NULL;
        long long now = (long long) time (NULL);
        size_t n = 0, done = 0;

        if (vgpu_ledger_list (l, &recs, &n, NULL, NULL, NULL, NULL, NULL) < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (recs[i].owner.kind == VGPU_OWNER_CONTAINER && recs[i].state == VGPU_RECORD_ACTIVE &&
                    vgpu_stale_reason (roots, &recs[i], unbound_after_s, now) &&
                    vgpu_release_record (roots, l, &recs[i], VGPU_RELEASE_TIMEOUT_MS, NULL) == 0)
                        done++;
        return done;
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
                r = vgpu_ledger_records_of (&l, owner, &recs, &n, err);
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
        vgpu_gc_action_t a = { .reason = reason, .result = result };

        snprintf (a.uuid, sizeof a.uuid, "%s", uuid);
        snprintf (a.device, sizeof a.device, "%s", device);
        snprintf (a.owner, sizeof a.owner, "%s", owner);
        if (result < 0)
                vgpu_copy (a.message, sizeof a.message, e->msg);
        return vgpu_append (acts, n, &a, sizeof a);
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
        return vgpu_stale_reason (roots, rec, VGPU_UNBOUND_AFTER_S, (long long) time (NULL));
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
                const char *why = vgpu_stale_reason (roots, &recs[i],
                                                     unbound_after_s ? unbound_after_s : VGPU_UNBOUND_AFTER_S, now);
                char who[VGPU_OWNER_DISPLAY_MAX];
                vgpu_error_t e = { 0 };

                if (!why)
                        continue;
                r = vgpu_release_record (roots, &l, &recs[i], timeout_ms, &e);
                if (push_action (&acts, &n_acts, recs[i].uuid, recs[i].device, vgpu_record_who (&recs[i], who), why, r,
                                 &e) < 0)
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
