/* pool.c — see pool.h.
 *
 * The ledger is read afresh at every scan: a member the admin released
 * (`vgpuctl release --uuid`) is no longer offered, and what another
 * process changed is seen.  Members are mdevs or VFs (backend.h), one code
 * path.  Making a member again takes the ledger lock, checks the record is
 * still the plugin's and still active, and makes the same device again: the
 * same UUID written to the type's `create` (as mdevctl does for a defined
 * device), or the same VF claimed again. */
#include "pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "device.h"
#include "host.h"
#include "ledger.h"
#include "policy.h"
#include "release.h"
#include "util.h"

#define OWNER_PREFIX "vgpu-device-plugin."
#define STAGE "kubelet"
#define INDEX_MAX (1u << 20)
#define NOTE_MAX (2 * VGPU_ERROR_MAX)

typedef struct member {
        char uuid[VGPU_UUID_LEN + 1];
        char parent[VGPU_NAME_MAX]; /* "" when not known */
        vgpu_backend_kind_t backend;
        char name[VGPU_NAME_MAX]; /* the kernel's: the mdev's UUID, the VF's address */
} member_t;

typedef struct scan {
        const vgpu_kopts_t *o;
        const vgpu_klog_t *log;
        vgpu_record_t *recs;
        size_t n_recs;
        vgpu_mdev_t *mdevs;
        size_t n_mdevs;
} scan_t;

int
vgpu_kpool_owner (const char *resource, unsigned index, vgpu_owner_t *ret)
{
        vgpu_owner_t o = { .kind = VGPU_OWNER_VGPUCTL };
        size_t n = (size_t) snprintf (o.id, sizeof o.id, OWNER_PREFIX "%s.%u", resource, index);

        if (n >= sizeof o.id)
                return -ENAMETOOLONG;
        /* no '_' in a DNS domain: the one '/' maps to the first '_', distinct resources stay distinct */
        for (char *p = o.id; *p; p++)
                if (*p == '/')
                        *p = '_';
        if (!vgpu_owner_valid (o.id))
                return -EINVAL;
        *ret = o;
        return 0;
}

static bool
own_index (const char *resource, const vgpu_owner_t *owner, unsigned *ret)
{
        unsigned long long v;
        vgpu_owner_t first;
        size_t len;

        if (vgpu_kpool_owner (resource, 0, &first) < 0 || owner->kind != first.kind)
                return false;
        len = strlen (first.id) - 1; /* without the "0" */
        if (strncmp (owner->id, first.id, len) != 0 || vgpu_parse_uint (owner->id + len, INDEX_MAX, &v) < 0)
                return false;
        *ret = (unsigned) v;
        return true;
}

/* Log text for key once, until it changes or is cleared (text NULL). */
static void
note (vgpu_kpool_t *p, const vgpu_klog_t *log, const char *key, const char *text)
{
        size_t i;

        for (i = 0; i < p->n_notes && strcmp (p->notes[i], key) != 0; i++)
                ;
        if (i < p->n_notes && text && strcmp (p->notes[i] + strlen (key) + 1, text) == 0)
                return;
        if (i == p->n_notes) {
                void *q;

                if (!text)
                        return;
                q = realloc (p->notes, (p->n_notes + 1) * sizeof *p->notes);
                if (!q)
                        return;
                p->notes = q;
                p->n_notes++;
        }
        if (!text) { /* keep the key, forget the text: the next failure is news */
                p->notes[i][strlen (key) + 1] = '\0';
                return;
        }
        (void) !snprintf (p->notes[i], sizeof p->notes[i], "%s%c%s", key, '\0', text);
        vgpu_klog (log, "pool: %s", text);
}

static const vgpu_mdev_t *
mdev_of (const scan_t *s, const char *uuid)
{
        for (size_t i = 0; i < s->n_mdevs; i++)
                if (strcmp (s->mdevs[i].uuid, uuid) == 0)
                        return &s->mdevs[i];
        return NULL;
}

static const vgpu_record_t *
record_of (const scan_t *s, const char *uuid)
{
        for (size_t i = 0; i < s->n_recs; i++)
                if (strcmp (s->recs[i].uuid, uuid) == 0)
                        return &s->recs[i];
        return NULL;
}

static bool
own_active (const scan_t *s, const vgpu_record_t *r)
{
        unsigned idx;

        return r->state == VGPU_RECORD_ACTIVE && own_index (s->o->resource, &r->owner, &idx);
}

static int
refresh (scan_t *s, vgpu_error_t *err)
{
        int r;

        free (TAKE_PTR (s->recs));
        free (TAKE_PTR (s->mdevs));
        s->n_recs = s->n_mdevs = 0;
        r = vgpu_ledger_snapshot (&s->o->roots, &s->recs, &s->n_recs, err);
        return r < 0 ? r : vgpu_device_list (&s->o->roots, &s->mdevs, &s->n_mdevs, err);
}

static unsigned
free_index (const scan_t *s, const unsigned *taken, size_t n_taken)
{
        for (unsigned i = 0;; i++) {
                bool used = false;
                unsigned idx;

                for (size_t k = 0; !used && k < s->n_recs; k++)
                        used = own_index (s->o->resource, &s->recs[k].owner, &idx) && idx == i;
                for (size_t k = 0; !used && k < n_taken; k++)
                        used = taken[k] == i;
                if (!used)
                        return i;
        }
}

/* The type a GPU's pool is made of: its members' if it has some, else the
 * configured one (`auto` picked now). */
static const vgpu_type_t *
pool_type (vgpu_kpool_t *p, const scan_t *s, const vgpu_host_t *host, const vgpu_parent_t *par, unsigned *ret_have)
{
        const char *type = NULL;
        vgpu_error_t e = { 0 };
        char text[NOTE_MAX];
        vgpu_choice_t c;

        *ret_have = 0;
        for (size_t i = 0; i < s->n_recs; i++)
                if (own_active (s, &s->recs[i]) && strcmp (s->recs[i].parent, par->name) == 0) {
                        type = type ? type : s->recs[i].type;
                        (*ret_have)++;
                }
        if (!type && strcmp (s->o->type, "auto") == 0) {
                if (vgpu_select (host, &(vgpu_selector_t) { .type = "auto", .parent = par->name }, &c, &e) == 0)
                        return c.type;
                snprintf (text, sizeof text, "GPU %s: nothing made: %s", par->name, e.msg);
                note (p, s->log, par->name, text);
                return NULL;
        }
        if (!vgpu_parent_type (par, type ? type : s->o->type)) {
                snprintf (text, sizeof text, "GPU %s: nothing made: it has no type %s", par->name,
                          type ? type : s->o->type);
                note (p, s->log, par->name, text);
        }
        return vgpu_parent_type (par, type ? type : s->o->type);
}

/* A GPU seen for the first time: make its members up to pool-size. */
static int
fill (vgpu_kpool_t *p, scan_t *s, const vgpu_host_t *host, const vgpu_parent_t *par)
{
        unsigned taken[VGPU_KUBELET_POOL_MAX], have, want;
        const vgpu_type_t *t = pool_type (p, s, host, par, &have);
        size_t made = 0;
        char text[NOTE_MAX], what[VGPU_DEVICE_DISPLAY_MAX];

        if (!t)
                return 0;
        want = s->o->pool_size == VGPU_KUBELET_POOL_FILL ? have + t->available : (unsigned) s->o->pool_size;
        if (want > VGPU_KUBELET_POOL_MAX)
                want = VGPU_KUBELET_POOL_MAX;
        if (have > want && s->o->pool_size_set) {
                snprintf (text, sizeof text, "GPU %s holds %u members, more than pool-size %u: left as they are",
                          par->name, have, want);
                note (p, s->log, par->name, text);
        }
        for (; have + made < want; made++) {
                vgpu_owner_t owner;
                vgpu_error_t e = { 0 };
                vgpu_mdev_t m;
                size_t n = 0;

                taken[made] = free_index (s, taken, made);
                if (vgpu_kpool_owner (s->o->resource, taken[made], &owner) < 0 ||
                    vgpu_allocate (&s->o->roots, &(vgpu_selector_t) { .type = t->id, .parent = par->name },
                                   &(vgpu_owner_info_t) { .owner = owner, .stage = STAGE }, 1, &m, &n, NULL, &e) < 0) {
                        snprintf (text, sizeof text, "GPU %s: made %zu of %u %s of %s: %s", par->name, made,
                                  want - have, t->backend == VGPU_BACKEND_VF ? "VFs" : "mdevs", t->id,
                                  e.code ? e.msg : "resource name too long for a ledger owner");
                        note (p, s->log, par->name, text);
                        break;
                }
                vgpu_klog (s->log, "pool: made %s (%s on %s) for %s", vgpu_device_display (m.backend, m.name, what),
                           m.type, m.parent, owner.id);
        }
        return made > 0;
}

/* Make a member's device again (its UUID written to its type's create, its
 * VF claimed), under the ledger lock, if its record is still the plugin's,
 * still active, and the device still absent. */
static int
remake (const vgpu_kopts_t *o, const vgpu_record_t *was, vgpu_error_t *err)
{
        vgpu_ledger_t l = { -1, -1 };
        vgpu_record_t rec;
        vgpu_mdev_t m, again;
        int r;

        r = vgpu_ledger_open (&o->roots, &l, err);
        if (r == 0)
                r = vgpu_ledger_get (&l, was->uuid, &rec, err);
        if (r == 0 && (!vgpu_owner_same (&rec.owner, &was->owner) || rec.state != VGPU_RECORD_ACTIVE ||
                       vgpu_device_lookup (&o->roots, rec.backend, rec.device, &m, NULL) == 0))
                r = -EALREADY; /* someone else saw to it meanwhile */
        else if (r == 0) {
                again = (vgpu_mdev_t) { .backend = rec.backend, .group = -1, .cdev = -1 };
                vgpu_copy (again.uuid, sizeof again.uuid, rec.uuid);
                vgpu_copy (again.name, sizeof again.name, rec.device);
                vgpu_copy (again.parent, sizeof again.parent, rec.parent);
                vgpu_copy (again.type, sizeof again.type, rec.type);
                r = vgpu_backend (rec.backend)->make (&o->roots, &again, VGPU_CREATE_TIMEOUT_MS, &m, err);
        }
        if (r == 0) {
                rec.group = m.group;
                r = vgpu_ledger_put (&l, &rec, err);
        }
        vgpu_ledger_close (&l);
        return r == -EALREADY ? 1 : r;
}

static int
repair (vgpu_kpool_t *p, scan_t *s, const vgpu_host_t *host)
{
        int changed = 0;

        for (size_t i = 0; i < s->n_recs; i++) {
                const vgpu_record_t *r = &s->recs[i];
                vgpu_error_t e = { 0 };
                char text[NOTE_MAX], what[VGPU_DEVICE_DISPLAY_MAX];

                if (!own_active (s, r) || mdev_of (s, r->uuid) || !vgpu_host_parent (host, r->parent))
                        continue;
                vgpu_device_display (r->backend, r->device, what);
                if (remake (s->o, r, &e) < 0) {
                        snprintf (text, sizeof text, "%s cannot be made again: %s", what, e.msg);
                        note (p, s->log, r->uuid, text);
                        continue;
                }
                note (p, s->log, r->uuid, NULL);
                vgpu_klog (s->log, "pool: made %s (%s on %s) again for %s", what, r->type, r->parent, r->owner.id);
                changed = 1;
        }
        return changed;
}

/* A member by its ledger id; its record (NULL: an adopted mdev the ledger
 * does not know) says its backend and kernel name. */
static int
push_member (member_t **v, size_t *n, const char *uuid, const char *parent, const vgpu_record_t *rec)
{
        member_t m = { .backend = rec ? rec->backend : VGPU_BACKEND_MDEV };

        for (size_t i = 0; i < *n; i++)
                if (strcmp ((*v)[i].uuid, uuid) == 0)
                        return 0;
        vgpu_copy (m.uuid, sizeof m.uuid, uuid);
        vgpu_copy (m.parent, sizeof m.parent, parent);
        vgpu_copy (m.name, sizeof m.name, rec ? rec->device : uuid);
        return vgpu_append (v, n, &m, sizeof m);
}

/* mdevctl's definitions, <dir>/<parent>/<uuid>, of mdevs the ledger does
 * not know (vgpu-cdi's persisted pool is in the ledger: its spec says it). */
static int
adopt_mdevctl (const scan_t *s, member_t **v, size_t *n)
{
        _cleanup_closedir_ DIR *d = opendir (s->o->mdevctl_dir);
        struct dirent *pe;

        while (d && (pe = readdir (d))) {
                _cleanup_closedir_ DIR *pd = NULL;
                struct dirent *de;

                if (!vgpu_name_valid (pe->d_name) || strcmp (pe->d_name, "..") == 0 || strcmp (pe->d_name, ".") == 0)
                        continue;
                pd = vgpu_opendir_at (dirfd (d), pe->d_name, O_NOFOLLOW);
                if (!pd)
                        continue;
                while ((de = readdir (pd))) {
                        char uuid[VGPU_UUID_LEN + 1];

                        if (vgpu_uuid_normalise (de->d_name, uuid, NULL) < 0 || record_of (s, uuid))
                                continue;
                        if (push_member (v, n, uuid, pe->d_name, NULL) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int
members (const scan_t *s, const vgpu_kcdi_t *cdi, member_t **v, size_t *n)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < s->n_recs; i++)
                if (own_active (s, &s->recs[i]))
                        r = push_member (v, n, s->recs[i].uuid, s->recs[i].parent, &s->recs[i]);
        if (!s->o->adopt)
                return r;
        for (size_t i = 0; r == 0 && i < cdi->n; i++) /* a pool spec names each mdev by its UUID too */
                if (cdi->v[i].uuid[0] && strcmp (cdi->v[i].name, cdi->v[i].uuid) == 0) {
                        const vgpu_record_t *rec = record_of (s, cdi->v[i].uuid);

                        r = push_member (v, n, cdi->v[i].uuid, rec ? rec->parent : "", rec);
                }
        return r == 0 ? adopt_mdevctl (s, v, n) : r;
}

static void
device_of (const scan_t *s, const vgpu_host_t *host, const vgpu_kcdi_t *cdi, const member_t *m, vgpu_kdev_t *d)
{
        const vgpu_mdev_t *md = mdev_of (s, m->uuid);
        const char *parent = md ? md->parent : m->parent;

        char what[VGPU_DEVICE_DISPLAY_MAX];

        memset (d, 0, sizeof *d);
        vgpu_copy (d->id, sizeof d->id, m->uuid);
        vgpu_copy (d->uuid, sizeof d->uuid, m->uuid);
        d->backend = m->backend;
        vgpu_copy (d->name, sizeof d->name, m->name);
        vgpu_device_display (m->backend, m->name, what);
        vgpu_copy (d->parent, sizeof d->parent, parent);
        if (md)
                vgpu_copy (d->type, sizeof d->type, md->type);
        d->cdi = vgpu_kcdi_has (cdi, m->uuid);
        d->healthy = md && md->group >= 0;
        if (parent[0] && !vgpu_host_parent (host, parent))
                snprintf (d->why, sizeof d->why, "GPU %s is gone", parent);
        else if (!md)
                snprintf (d->why, sizeof d->why, "%s is gone", what);
        else if (md->group < 0)
                snprintf (d->why, sizeof d->why, "%s has no IOMMU group", what);
}

int
vgpu_kpool_scan (vgpu_kpool_t *p, const vgpu_kopts_t *o, const vgpu_host_t *host, const vgpu_kcdi_t *cdi,
                 const vgpu_klog_t *log, vgpu_kdevs_t *ret, vgpu_error_t *err)
{
        scan_t s = { .o = o, .log = log };
        _cleanup_free_ member_t *m = NULL;
        vgpu_kdevs_t l = { 0 };
        size_t n = 0;
        int r;

        r = refresh (&s, err);
        for (size_t i = 0; r == 0 && i < host->n_parents; i++) {
                const vgpu_parent_t *par = &host->parents[i];
                size_t k;
                void *q;

                for (k = 0; k < p->n_seen && strcmp (p->seen[k], par->name) != 0; k++)
                        ;
                if (k < p->n_seen)
                        continue;
                q = realloc (p->seen, (p->n_seen + 1) * sizeof *p->seen);
                if (!q) {
                        r = vgpu_error_set (err, ENOMEM, "out of memory");
                        break;
                }
                p->seen = q;
                vgpu_copy (p->seen[p->n_seen++], sizeof *p->seen, par->name);
                if (fill (p, &s, host, par))
                        r = refresh (&s, err);
        }
        if (r == 0 && repair (p, &s, host))
                r = refresh (&s, err);
        if (r == 0 && members (&s, cdi, &m, &n) < 0)
                r = vgpu_error_set (err, ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < n; i++) {
                vgpu_kdev_t d;

                device_of (&s, host, cdi, &m[i], &d);
                if (vgpu_kdevs_push (&l, &d) < 0)
                        r = vgpu_error_set (err, ENOMEM, "out of memory");
        }
        free (s.recs);
        free (s.mdevs);
        if (r < 0) {
                vgpu_kdevs_free (&l);
                return r;
        }
        vgpu_kdevs_sort (&l);
        *ret = l;
        return 0;
}

void
vgpu_kpool_done (vgpu_kpool_t *p)
{
        free (p->seen);
        free (p->notes);
        memset (p, 0, sizeof *p);
}
