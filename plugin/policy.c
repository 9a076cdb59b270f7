/* policy.c — see policy.h; also the GVT-g description parser of mdev.h. */
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Strict decimal with an optional unit suffix ("128MB"). */
static int
number (const char *val, const char *suffix, unsigned *ret)
{
        char digits[16];
        size_t len = strlen (val), slen = strlen (suffix);
        unsigned long long v;

        if (len <= slen || len - slen >= sizeof digits || strcmp (val + len - slen, suffix) != 0)
                return -EINVAL;
        memcpy (digits, val, len - slen);
        digits[len - slen] = '\0';
        if (vgpu_parse_uint (digits, 1u << 20, &v) < 0)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int
resolution (const char *val, unsigned *w, unsigned *h)
{
        char buf[32];
        char *x;

        if (strlen (val) >= sizeof buf)
                return -EINVAL;
        strcpy (buf, val);
        x = strchr (buf, 'x');
        if (!x)
                return -EINVAL;
        *x = '\0';
        return number (buf, "", w) == 0 && number (x + 1, "", h) == 0 ? 0 : -EINVAL;
}

/* One "key: value" field into d; returns its bit or -EINVAL. */
static int
gvt_field (const char *key, const char *val, vgpu_gvt_desc_t *d)
{
        if (strcmp (key, "low_gm_size") == 0)
                return number (val, "MB", &d->low_gm_mb) == 0 ? 1 : -EINVAL;
        if (strcmp (key, "high_gm_size") == 0)
                return number (val, "MB", &d->high_gm_mb) == 0 ? 2 : -EINVAL;
        if (strcmp (key, "fence") == 0)
                return number (val, "", &d->fence) == 0 ? 4 : -EINVAL;
        if (strcmp (key, "resolution") == 0)
                return resolution (val, &d->res_w, &d->res_h) == 0 ? 8 : -EINVAL;
        if (strcmp (key, "weight") == 0)
                return number (val, "", &d->weight) == 0 ? 16 : -EINVAL;
        return -EINVAL;
}

/* "low_gm_size: 128MB, high_gm_size: 512MB, fence: 4, resolution: 1920x1200,
 * weight: 4", with ", " or newlines between fields, in any order; weight
 * is optional (older kernels lack it). */
int
vgpu_gvt_parse (const char *text, vgpu_gvt_desc_t *ret)
{
        vgpu_gvt_desc_t d = { 0 };
        int seen = 0;
        const char *p = text;

        while (*p) {
                char key[32], val[32], extra;
                const char *end = p + strcspn (p, ",\n");
                char field[96];
                size_t len = (size_t) (end - p);
                int bit;

                if (len >= sizeof field)
                        return -EINVAL;
                memcpy (field, p, len);
                field[len] = '\0';
                p = *end ? end + 1 : end;
                while (*p == ' ')
                        p++;
                if (sscanf (field, " %31[a-z_]: %31s %c", key, val, &extra) != 2)
                        return -EINVAL;
                bit = gvt_field (key, val, &d);
                if (bit < 0 || (seen & bit))
                        return -EINVAL;
                seen |= bit;
        }
        if ((seen & 0xf) != 0xf)
                return -EINVAL;
        d.valid = true;
        *ret = d;
        return 0;
}

static bool
meets_resolution (const vgpu_type_t *t, unsigned w, unsigned h)
{
        return t->gvt.valid && t->gvt.res_w >= w && t->gvt.res_h >= h;
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

        if (!any_parent && !vgpu_host_parent (host, sel->parent))
                return vgpu_error_set (err, ENOENT, "unknown parent %s (no such device in class/mdev_bus)",
                                       sel->parent);
        for (size_t i = 0; i < host->n_parents; i++) {
                const vgpu_parent_t *p = &host->parents[i];
                const vgpu_type_t *t;

                if (!any_parent && strcmp (p->name, sel->parent) != 0)
                        continue;
                if (!known_t && (known_t = pick_in_parent (p, sel, false)))
                        known_p = p;
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
                return vgpu_error_set (err, ENOSPC, "no instance of %s left on %s (0 available)%s", known_t->id,
                                       any_parent && host->n_parents > 1 ? "any parent" : known_p->name,
                                       strncmp (known_t->id, "i915-", 5) == 0
                                               ? "; a larger GPU aperture set in the BIOS/UEFI gives more instances"
                                               : "");
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
