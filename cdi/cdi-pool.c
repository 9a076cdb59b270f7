/* cdi-pool.c — see cdi-pool.h.  The hook's poststop releases by container id
 * and never sees the pool's owners.  Pool changes are serialised by
 * <state>/cdi-pool.lock (the ledger lock is per allocation). */
#include "cdi-pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "alloc.h"
#include "ledger.h"
#include "mdevctl.h"
#include "policy.h"
#include "release.h"
#include "stage.h"
#include "util.h"

int
vgpu_cdi_pool_req_parse (const char *s, vgpu_cdi_pool_req_t *ret)
{
        const char *eq = strrchr (s, '=');
        vgpu_cdi_pool_req_t req = { 0 };
        unsigned long long n;

        if (!eq || eq == s || (size_t) (eq - s) >= sizeof req.type)
                return -EINVAL;
        memcpy (req.type, s, (size_t) (eq - s));
        if (strcmp (req.type, "auto") != 0 && !vgpu_name_valid (req.type))
                return -EINVAL;
        if (vgpu_parse_uint (eq + 1, VGPU_CDI_POOL_MAX, &n) < 0 || n == 0)
                return -ERANGE;
        req.count = (unsigned) n;
        *ret = req;
        return 0;
}

/* A slot of this spec's pool: its index.  Records from before owners had
 * scopes (scope "") count as every spec's, as they did then. */
static bool
pool_index (const vgpu_record_t *rec, const char *scope, unsigned *ret)
{
        unsigned long long v;

        if (rec->owner.kind != VGPU_OWNER_CDI_POOL || (rec->owner.scope[0] && strcmp (rec->owner.scope, scope) != 0) ||
            vgpu_parse_uint (rec->owner.id, 1u << 20, &v) < 0)
                return false;
        *ret = (unsigned) v;
        return true;
}

static vgpu_owner_t
slot_owner (const char *scope, unsigned index)
{
        vgpu_owner_t owner = { .kind = VGPU_OWNER_CDI_POOL };

        snprintf (owner.id, sizeof owner.id, "%u", index);
        vgpu_copy (owner.scope, sizeof owner.scope, scope);
        return owner;
}

int
vgpu_cdi_pool_scope (const char *path, char ret[VGPU_SCOPE_MAX + 1], vgpu_error_t *err)
{
        char cwd[PATH_MAX];

        if (strcmp (path, "-") == 0 || path[0] == '/') {
                if (strlen (path) > VGPU_SCOPE_MAX)
                        return vgpu_error_set (err, ENAMETOOLONG, "spec file %.64s...: path too long", path);
                strcpy (ret, path);
                return 0;
        }
        if (!getcwd (cwd, sizeof cwd))
                return vgpu_error_sys (err, errno, "working directory for spec file %.64s", path);
        if ((size_t) snprintf (ret, VGPU_SCOPE_MAX + 1, "%s/%s", cwd, path) > VGPU_SCOPE_MAX)
                return vgpu_error_set (err, ENAMETOOLONG, "spec file %.64s: path too long", path);
        return 0;
}

static int
pool_push (vgpu_cdi_pool_t *pool, unsigned index, const vgpu_mdev_t *m, vgpu_error_t *err)
{
        void *p = realloc (pool->m, (pool->n + 1) * sizeof *pool->m);

        if (!p)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        pool->m = p;
        pool->m[pool->n++] = (vgpu_cdi_member_t) { .index = index, .mdev = *m };
        return 0;
}

/* Requests with `auto` resolved to the type it picks now, merged by type. */
static int
resolve_reqs (const vgpu_host_t *host, const vgpu_cdi_pool_req_t *reqs, size_t n, vgpu_cdi_pool_req_t *want,
              size_t *ret_n, vgpu_error_t *err)
{
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                vgpu_cdi_pool_req_t w = reqs[i];
                size_t j;
                int r;

                if (strcmp (w.type, "auto") == 0) {
                        vgpu_choice_t c;

                        r = vgpu_select (host, &(vgpu_selector_t) { .type = "auto" }, &c, err);
                        if (r < 0)
                                return vgpu_error_prefix (err, "pool %s=%u", w.type, w.count);
                        snprintf (w.type, sizeof w.type, "%s", c.type->id);
                } else if ((r = vgpu_type_offered (host, w.type, NULL, err)) < 0)
                        return vgpu_error_prefix (err, "pool %s=%u", w.type, w.count);
                for (j = 0; j < k && strcmp (want[j].type, w.type) != 0; j++)
                        ;
                if (j == k)
                        want[k++] = (vgpu_cdi_pool_req_t) { .count = 0 };
                want[j].count += w.count;
                snprintf (want[j].type, sizeof want[j].type, "%s", w.type);
                if (want[j].count > VGPU_CDI_POOL_MAX)
                        return vgpu_error_set (err, ERANGE, "pool of %s: more than %d mdevs", w.type,
                                               VGPU_CDI_POOL_MAX);
        }
        *ret_n = k;
        return 0;
}

/* Pool records first, by index. */
static int
cmp_slot (const void *a, const void *b, void *scope)
{
        const vgpu_record_t *x = a, *y = b;
        unsigned i, j;
        bool px = pool_index (x, scope, &i), py = pool_index (y, scope, &j);

        if (px != py)
                return px ? -1 : 1;
        return px ? (i > j) - (i < j) : 0;
}

/* Sorts recs with cmp_slot; returns how many are the pool's. */
static size_t
pool_slots (vgpu_record_t *recs, size_t n, const char *scope)
{
        unsigned idx;
        size_t k = 0;

        if (n > 0)
                qsort_r (recs, n, sizeof *recs, cmp_slot, (void *) scope);
        while (k < n && pool_index (&recs[k], scope, &idx))
                k++;
        return k;
}

static unsigned
free_index (const vgpu_record_t *slots, size_t k, const char *scope, const vgpu_cdi_pool_t *pool)
{
        for (unsigned i = 0;; i++) {
                bool used = false;
                unsigned idx;

                for (size_t s = 0; !used && s < k; s++)
                        used = pool_index (&slots[s], scope, &idx) && idx == i;
                for (size_t s = 0; !used && s < pool->n; s++)
                        used = pool->m[s].index == i;
                if (!used)
                        return i;
        }
}

/* Keep, per wanted type, the lowest-indexed live slots; counts in want drop
 * by what is kept. */
static int
keep_slots (const vgpu_roots_t *roots, const char *scope, const vgpu_record_t *slots, size_t k,
            vgpu_cdi_pool_req_t *want, size_t n_want, bool *keep, vgpu_cdi_pool_t *pool, vgpu_error_t *err)
{
        for (size_t w = 0; w < n_want; w++)
                for (size_t s = 0; s < k && want[w].count > 0; s++) {
                        vgpu_mdev_t m;
                        unsigned idx = 0;
                        int r;

                        if (keep[s] || slots[s].state != VGPU_RECORD_ACTIVE ||
                            strcmp (slots[s].type, want[w].type) != 0 ||
                            vgpu_device_lookup (roots, slots[s].backend, slots[s].device, &m, NULL) < 0)
                                continue; /* a slot whose mdev is gone is released below */
                        pool_index (&slots[s], scope, &idx);
                        r = pool_push (pool, idx, &m, err);
                        if (r < 0)
                                return r;
                        keep[s] = true;
                        want[w].count--;
                }
        return 0;
}

/* New slots for what is still wanted; on failure the ones made here go. */
static int
grow (const vgpu_roots_t *roots, const char *scope, const vgpu_record_t *slots, size_t k,
      const vgpu_cdi_pool_req_t *want, size_t n_want, vgpu_cdi_pool_t *pool, vgpu_error_t *err)
{
        size_t first = pool->n;
        int r = 0;

        for (size_t w = 0; r == 0 && w < n_want; w++)
                for (unsigned c = 0; r == 0 && c < want[w].count; c++) {
                        unsigned idx = free_index (slots, k, scope, pool);
                        vgpu_owner_info_t who = { .owner = slot_owner (scope, idx),
                                                  .stage = vgpu_stage_name (VGPU_STAGE_CDI) };
                        vgpu_mdev_t m;
                        size_t n = 0;

                        r = vgpu_allocate (roots, &(vgpu_selector_t) { .type = want[w].type }, &who, 1, &m, &n, NULL,
                                           err);
                        if (r == 0)
                                r = pool_push (pool, idx, &m, err);
                        if (r < 0)
                                vgpu_error_prefix (err, "pool of %s", want[w].type);
                }
        if (r < 0) {
                while (pool->n > first) {
                        vgpu_owner_t owner = slot_owner (scope, pool->m[--pool->n].index);

                        vgpu_release_owner (roots, &owner, VGPU_RELEASE_ROLLBACK, VGPU_RELEASE_TIMEOUT_MS, NULL, NULL);
                }
        }
        return r;
}

/* Release the slots not kept; the first failure goes to release_err. */
static void
shrink (const vgpu_cdi_opts_t *o, const vgpu_record_t *slots, size_t k, const bool *keep, vgpu_error_t *release_err)
{
        for (size_t s = 0; s < k; s++) {
                vgpu_error_t e = { 0 };

                if (keep[s])
                        continue;
                if (vgpu_release_owner (&o->roots, &slots[s].owner, VGPU_RELEASE_ADMIN, VGPU_RELEASE_TIMEOUT_MS, NULL,
                                        &e) < 0 &&
                    !release_err->code)
                        *release_err = e;
                if (slots[s].backend == VGPU_BACKEND_MDEV)
                        vgpu_mdevctl_undefine (o->mdevctl_dir, slots[s].parent, slots[s].uuid, NULL);
        }
}

/* Make the pool exactly the requests: allocate what is missing first (a
 * failure rolls that back and changes nothing), then release the rest. */
int
vgpu_cdi_pool_sync (const vgpu_cdi_opts_t *o, const char *scope, const vgpu_cdi_pool_req_t *reqs, size_t n_reqs,
                    vgpu_cdi_pool_t *pool, vgpu_error_t *release_err, vgpu_error_t *err)
{
        _cleanup_free_ vgpu_cdi_pool_req_t *want = calloc (n_reqs + 1, sizeof *want);
        _cleanup_free_ vgpu_record_t *recs = NULL;
        _cleanup_free_ bool *keep = NULL;
        _cleanup_close_ int lock = -1;
        vgpu_host_t host;
        size_t n_want = 0, n_recs = 0, k;
        int r;

        if (!want)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        r = vgpu_host_scan (&o->roots, &host, err);
        if (r < 0)
                return r;
        r = resolve_reqs (&host, reqs, n_reqs, want, &n_want, err);
        vgpu_host_free (&host);
        if (r < 0)
                return r;
        lock = vgpu_state_lock (&o->roots, "cdi-pool.lock", err);
        if (lock < 0)
                return lock;
        r = vgpu_ledger_snapshot (&o->roots, &recs, &n_recs, err);
        if (r < 0)
                return r;
        k = pool_slots (recs, n_recs, scope);
        keep = calloc (k + 1, sizeof *keep);
        if (!keep)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        r = keep_slots (&o->roots, scope, recs, k, want, n_want, keep, pool, err);
        if (r == 0)
                r = grow (&o->roots, scope, recs, k, want, n_want, pool, err);
        if (r < 0)
                return r;
        shrink (o, recs, k, keep, release_err);
        for (size_t i = 0; o->persist && i < pool->n; i++) {
                if (pool->m[i].mdev.backend != VGPU_BACKEND_MDEV)
                        continue; /* mdevctl knows no VFs */
                r = vgpu_mdevctl_define (o->mdevctl_dir, pool->m[i].mdev.parent, pool->m[i].mdev.uuid,
                                         pool->m[i].mdev.type, /* autostart= */ true, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The active devices that the pool owns, and the mdevs that nobody in the
 * ledger owns (made by mdevctl or by hand); container and claim devices stay
 * theirs, and so does a VF someone else bound to vfio-pci. */
int
vgpu_cdi_pool_adopt (const vgpu_cdi_opts_t *o, const char *scope, vgpu_cdi_pool_t *pool, vgpu_error_t *err)
{
        _cleanup_free_ vgpu_record_t *recs = NULL;
        _cleanup_free_ vgpu_mdev_t *mdevs = NULL;
        _cleanup_close_ int lock = vgpu_state_lock (&o->roots, "cdi-pool.lock", err);
        size_t n_recs = 0, n = 0;
        unsigned next = 0;
        int r;

        if (lock < 0)
                return lock;
        r = vgpu_ledger_snapshot (&o->roots, &recs, &n_recs, err);
        if (r == 0)
                r = vgpu_device_list (&o->roots, &mdevs, &n, err);
        for (int pass = 0; r == 0 && pass < 2; pass++)
                for (size_t i = 0; r == 0 && i < n; i++) {
                        const vgpu_record_t *rec = NULL;
                        unsigned idx;

                        for (size_t j = 0; !rec && j < n_recs; j++)
                                if (strcmp (recs[j].uuid, mdevs[i].uuid) == 0)
                                        rec = &recs[j];
                        if (mdevs[i].group < 0)
                                continue; /* no VFIO group: nothing to hand a container */
                        if (pass == 0 && rec && rec->state == VGPU_RECORD_ACTIVE && pool_index (rec, scope, &idx)) {
                                r = pool_push (pool, idx, &mdevs[i], err);
                                next = idx >= next ? idx + 1 : next;
                        } else if (pass == 1 && !rec && mdevs[i].backend == VGPU_BACKEND_MDEV)
                                r = pool_push (pool, next++, &mdevs[i], err);
                }
        return r;
}

/* Whether a spec names the record's device: an mdev by its UUID, a VF by
 * its address. */
static bool
names_uuid (const vgpu_cdi_spec_t *spec, const vgpu_record_t *rec)
{
        const char *var = rec->backend == VGPU_BACKEND_VF ? "VGPU_VF_ADDRESS" : "VGPU_MDEV_UUID";

        for (size_t i = 0; spec && i < spec->n_devices; i++) {
                const char *u = vgpu_cdi_device_env (&spec->devices[i], var);

                if (u && strcmp (u, rec->device) == 0)
                        return true;
        }
        return false;
}

int
vgpu_cdi_pool_release_named (const vgpu_cdi_opts_t *o, const char *scope, const vgpu_cdi_spec_t *old,
                             const vgpu_cdi_spec_t *keep, vgpu_error_t *err)
{
        _cleanup_free_ vgpu_record_t *recs = NULL;
        _cleanup_close_ int lock = vgpu_state_lock (&o->roots, "cdi-pool.lock", err);
        vgpu_error_t first = { 0 };
        size_t n_recs = 0;
        int r;

        if (lock < 0)
                return lock;
        r = vgpu_ledger_snapshot (&o->roots, &recs, &n_recs, err);
        for (size_t j = 0; r == 0 && j < n_recs; j++) {
                vgpu_error_t e = { 0 };
                unsigned idx;

                if (!pool_index (&recs[j], scope, &idx) || !names_uuid (old, &recs[j]) || names_uuid (keep, &recs[j]))
                        continue;
                if (vgpu_release_owner (&o->roots, &recs[j].owner, VGPU_RELEASE_ADMIN, VGPU_RELEASE_TIMEOUT_MS, NULL,
                                        &e) < 0 &&
                    !first.code)
                        first = e;
                if (recs[j].backend == VGPU_BACKEND_MDEV)
                        vgpu_mdevctl_undefine (o->mdevctl_dir, recs[j].parent, recs[j].uuid, NULL);
        }
        if (r == 0 && first.code) {
                *err = first;
                return -first.code;
        }
        return r;
}

int
vgpu_cdi_remove (const vgpu_cdi_opts_t *o, const char *path, vgpu_error_t *err)
{
        char scope[VGPU_SCOPE_MAX + 1];
        vgpu_cdi_spec_t spec;
        int r = vgpu_cdi_pool_scope (path, scope, err);

        if (r == 0)
                r = vgpu_cdi_load (path, &spec, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        /* the spec goes first, so no new container is handed what goes next */
        r = vgpu_cdi_remove_file (path, err);
        if (r == 0)
                r = vgpu_cdi_pool_release_named (o, scope, &spec, NULL, err);
        vgpu_cdi_spec_done (&spec);
        return r;
}
