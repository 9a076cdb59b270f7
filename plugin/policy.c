/* policy.c — see policy.h. */
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "mdev.h"
#include "sriov.h"
#include "util.h"

/* A GVT-g type by the resolution its description gives; a VF is a whole
 * PCI function of the GPU, whose display is the guest driver's, so any. */
static bool
meets_resolution (const vgpu_type_t *t, unsigned w, unsigned h)
{
        if (t->backend == VGPU_BACKEND_VF)
                return true;
        return t->gvt.valid && t->gvt.res_w >= w && t->gvt.res_h >= h;
}

static int
none_left (const vgpu_type_t *t, const char *where, vgpu_error_t *err)
{
        if (t->backend == VGPU_BACKEND_VF)
                return vgpu_error_set (err, ENOSPC,
                                       "no VF left on %s (0 available): every enabled VF is held or not free "
                                       "(`vgpuctl list`; `vgpuctl sriov enable` sets how many there are)",
                                       where);
        return vgpu_error_set (err, ENOSPC, "no instance of %s left on %s (0 available)%s", t->id, where,
                               strncmp (t->id, "i915-", 5) == 0
                                       ? "; a larger GPU aperture set in the BIOS/UEFI gives more instances"
                                       : "");
}

/* Better candidate for `auto`: more instances left, then name order so the
 * choice is stable. */
static bool
auto_better (const vgpu_type_t *a, const vgpu_type_t *b)
{
        if (a->available != b->available)
                return a->available > b->available;
        return strcmp (a->id, b->id) < 0;
}

static const vgpu_type_t *
pick_in_parent (const vgpu_parent_t *p, const vgpu_selector_t *sel, bool want_available)
{
        const vgpu_type_t *best = NULL;
        bool is_auto = strcmp (sel->type, "auto") == 0;
        unsigned w = sel->min_w ? sel->min_w : VGPU_DEFAULT_MIN_W;
        unsigned h = sel->min_h ? sel->min_h : VGPU_DEFAULT_MIN_H;

        for (size_t i = 0; i < p->n_types; i++) {
                const vgpu_type_t *t = &p->types[i];

                if (is_auto ? !meets_resolution (t, w, h) : strcmp (t->id, sel->type) != 0)
                        continue;
                if (want_available && t->available == 0)
                        continue;
                if (!best || (is_auto && auto_better (t, best)))
                        best = t;
        }
        return best;
}

int
vgpu_select (const vgpu_host_t *host, const vgpu_selector_t *sel, vgpu_choice_t *ret, vgpu_error_t *err)
{
        const vgpu_parent_t *best_p = NULL, *known_p = NULL;
        const vgpu_type_t *best_t = NULL, *known_t = NULL;
        bool any_parent = !sel->parent || !*sel->parent;
        bool is_auto = strcmp (sel->type, "auto") == 0;
        size_t n_known = 0; /* parents that offer what is asked */

        if (host->n_parents == 0)
                return vgpu_error_set (err, ENOENT,
                                       "no vGPU parent on this host (no GPU with GVT-g on, no SR-IOV PF): "
                                       "`vgpuctl doctor` says what is missing");
        if (!any_parent && !vgpu_host_parent (host, sel->parent))
                return vgpu_error_set (err, ENOENT,
                                       "unknown parent %s (no such device in class/mdev_bus, nor an SR-IOV PF)",
                                       sel->parent);
        for (size_t i = 0; i < host->n_parents; i++) {
                const vgpu_parent_t *p = &host->parents[i];
                const vgpu_type_t *t;

                if (!any_parent && strcmp (p->name, sel->parent) != 0)
                        continue;
                if (pick_in_parent (p, sel, false) && n_known++ == 0) {
                        known_t = pick_in_parent (p, sel, false);
                        known_p = p;
                }
                t = pick_in_parent (p, sel, true);
                if (!t)
                        continue;
                /* least-loaded parent first; for auto, more instances breaks ties */
                if (!best_t || p->active < best_p->active ||
                    (p->active == best_p->active && is_auto && auto_better (t, best_t))) {
                        best_p = p;
                        best_t = t;
                }
        }
        if (best_t) {
                *ret = (vgpu_choice_t) { .parent = best_p, .type = best_t };
                return 0;
        }
        if (known_t)
                return none_left (known_t, n_known > 1 ? "any parent" : known_p->name, err);
        if (is_auto)
                return vgpu_error_set (err, ENOENT, "no mdev type%s%s meets the minimum resolution %ux%u",
                                       any_parent ? "" : " on ", any_parent ? "" : sel->parent,
                                       sel->min_w ? sel->min_w : VGPU_DEFAULT_MIN_W,
                                       sel->min_h ? sel->min_h : VGPU_DEFAULT_MIN_H);
        for (size_t i = 0; !any_parent && i < host->n_parents; i++)
                if (vgpu_parent_type (&host->parents[i], sel->type))
                        return vgpu_error_set (err, ENOENT, "type %s is not offered by parent %s (%s offers it)",
                                               sel->type, sel->parent, host->parents[i].name);
        return vgpu_error_set (err, ENOENT, "unknown type %s%s%s", sel->type, any_parent ? "" : " on parent ",
                               any_parent ? "" : sel->parent);
}

int
vgpu_type_offered (const vgpu_host_t *host, const char *type, const char *parent, vgpu_error_t *err)
{
        vgpu_selector_t sel = { .type = type, .parent = parent };
        vgpu_error_t e = { 0 };
        vgpu_choice_t c;
        int r = vgpu_select (host, &sel, &c, &e);

        if (r == 0 || r == -ENOSPC)
                return 0;
        if (err)
                *err = e;
        return r;
}

/* Parents of host with a type sel could take now. */
static size_t
candidates (const vgpu_host_t *host, const vgpu_selector_t *sel)
{
        size_t n = 0;

        for (size_t i = 0; i < host->n_parents; i++)
                n += pick_in_parent (&host->parents[i], sel, true) != NULL;
        return n;
}

static int
cmp_parent (const void *a, const void *b)
{
        return strcmp (((const vgpu_parent_t *) a)->name, ((const vgpu_parent_t *) b)->name);
}

/* The host as far as a request for type (NULL: auto) on parent (NULL: any)
 * needs it: the mdev parents read as vgpu_mdev_scan_some reads them, the VFs'
 * parents whole unless type names an mdev type; sorted as vgpu_host_scan
 * sorts them. */
static int
scan_for (const vgpu_roots_t *roots, const char *parent, const char *type, unsigned what, vgpu_host_t *host,
          vgpu_error_t *err)
{
        int r = vgpu_mdev_scan_some (roots, parent, type, what, host, err);

        if (r == 0 && (!type || strcmp (type, VGPU_VF_TYPE) == 0))
                r = vgpu_backend (VGPU_BACKEND_VF)->scan (roots, host, err);
        if (r == 0 && host->n_parents)
                qsort (host->parents, host->n_parents, sizeof *host->parents, cmp_parent);
        return r;
}

int
vgpu_choose (const vgpu_roots_t *roots, const vgpu_selector_t *sel, vgpu_host_t *host, vgpu_choice_t *ret,
             vgpu_error_t *err)
{
        bool is_auto = strcmp (sel->type, "auto") == 0;
        const char *parent = sel->parent && *sel->parent ? sel->parent : NULL;
        const char *type = is_auto ? NULL : sel->type;
        unsigned what = is_auto ? VGPU_SCAN_TEXT | VGPU_SCAN_AVAILABLE : VGPU_SCAN_AVAILABLE;
        int r;

        *host = (vgpu_host_t) { 0 };
        if (!is_auto && !vgpu_name_valid (sel->type))
                type = NULL; /* no such type: the ids of every type say so */
        else {
                r = scan_for (roots, parent, type, what, host, err);
                if (r == 0 && candidates (host, sel) > 1) /* least-loaded parent first: their mdevs too */
                        r = vgpu_mdev_read_active (roots, host, err);
                if (r == 0)
                        r = vgpu_select (host, sel, ret, err);
                if (r != -ENOENT || is_auto)
                        return r;
                vgpu_host_free (host);
        }
        /* not offered where asked: which parents offer it, for the message */
        r = scan_for (roots, NULL, type, 0, host, err);
        return r == 0 ? vgpu_select (host, sel, ret, err) : r;
}
