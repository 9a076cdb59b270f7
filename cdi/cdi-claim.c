/* cdi-claim.c — see cdi-claim.h. */
#include "cdi-claim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "ledger.h"
#include "release.h"
#include "stage.h"
#include "util.h"

#define CLAIM_DEVICE "claim-"
/* prepare and unprepare of claims never interleave: a spec is never left
 * naming an mdev an unprepare removed */
#define CLAIM_LOCK "cdi-claims.lock"

static vgpu_owner_t
claim_owner (const char *claim)
{
        vgpu_owner_t owner = { .kind = VGPU_OWNER_CDI_CLAIM };

        vgpu_copy (owner.id, sizeof owner.id, claim);
        return owner;
}

/* A claim id fit for a one-line message, whatever a caller passed. */
static const char *
quoted (const char *claim, char buf[VGPU_QUOTE_BUF])
{
        return vgpu_quote (claim, strlen (claim), buf);
}

int
vgpu_cdi_claim_path (const vgpu_cdi_opts_t *o, const char *claim, char *ret, size_t size, vgpu_error_t *err)
{
        char name[NAME_MAX + 1];
        int r = vgpu_cdi_file_name (o->kind, claim, name, sizeof name, err);

        if (r < 0)
                return r;
        if ((size_t) snprintf (ret, size, "%s/%s", o->spec_dir, name) >= size)
                return vgpu_error_set (err, ENAMETOOLONG, "spec directory %s: path too long", o->spec_dir);
        return 0;
}

/* A second prepare must ask for what the claim holds. */
static int
claim_matches (const char *claim, const vgpu_selector_t *sel, unsigned count, const vgpu_mdev_t *m, size_t n,
               vgpu_error_t *err)
{
        bool any_type = strcmp (sel->type, "auto") == 0, any_parent = !sel->parent || !*sel->parent;
        char q[VGPU_QUOTE_BUF];

        for (size_t i = 0; i < n && n == count; i++)
                if ((!any_type && strcmp (m[i].type, sel->type) != 0) ||
                    (!any_parent && strcmp (m[i].parent, sel->parent) != 0))
                        return vgpu_error_set (err, EEXIST,
                                               "claim %s already holds mdev %s of type %s on %s; unprepare it first",
                                               quoted (claim, q), m[i].uuid, m[i].type, m[i].parent);
        if (n != count)
                return vgpu_error_set (err, EEXIST, "claim %s already holds %zu mdev%s, not %u; unprepare it first",
                                       quoted (claim, q), n, n == 1 ? "" : "s", count);
        return 0;
}

int
vgpu_cdi_prepare (const vgpu_cdi_opts_t *o, const char *claim, const vgpu_selector_t *sel, unsigned count, FILE *out,
                  vgpu_error_t *err)
{
        vgpu_owner_info_t who = { .owner = claim_owner (claim), .stage = vgpu_stage_name (VGPU_STAGE_CDI) };
        char path[PATH_MAX], name[VGPU_CDI_NAME_MAX];
        _cleanup_close_ int lock = -1;
        vgpu_mdev_t mdevs[VGPU_ALLOC_MAX];
        vgpu_cdi_spec_t spec;
        vgpu_plan_t plan;
        bool reused = false;
        size_t n = 0;
        int r;

        r = vgpu_cdi_claim_path (o, claim, path, sizeof path, err);
        if (r == 0)
                r = lock = vgpu_state_lock (&o->roots, CLAIM_LOCK, err);
        if (r >= 0)
                r = vgpu_cdi_spec_for (o, &spec, err);
        if (r < 0)
                return r;
        snprintf (name, sizeof name, CLAIM_DEVICE "%s", claim);
        r = vgpu_allocate (&o->roots, sel, &who, count, mdevs, &n, &reused, err);
        if (r == 0 && reused)
                r = claim_matches (claim, sel, count, mdevs, n, err);
        if (r == 0)
                r = vgpu_plan_build (&o->roots, mdevs, n, &plan, err);
        if (r == 0)
                r = vgpu_cdi_spec_add (&spec, name, NULL, &plan, err);
        if (r == 0)
                r = vgpu_cdi_save (path, &spec, err);
        if (r < 0 && n > 0 && !reused)
                vgpu_release_owner (&o->roots, &who.owner, VGPU_RELEASE_ROLLBACK, VGPU_RELEASE_TIMEOUT_MS, NULL, NULL);
        if (r == 0)
                fprintf (out, "%s=%s\n", spec.kind, name);
        vgpu_cdi_spec_done (&spec);
        return r;
}

int
vgpu_cdi_unprepare (const vgpu_cdi_opts_t *o, const char *claim, vgpu_error_t *err)
{
        vgpu_owner_t owner = claim_owner (claim);
        _cleanup_close_ int lock = -1;
        char path[PATH_MAX];
        int r = vgpu_cdi_claim_path (o, claim, path, sizeof path, err);

        if (r == 0)
                r = lock = vgpu_state_lock (&o->roots, CLAIM_LOCK, err);
        if (r >= 0)
                r = vgpu_cdi_remove_file (path, err);
        if (r < 0)
                return r;
        return vgpu_release_owner (&o->roots, &owner, VGPU_RELEASE_ADMIN, VGPU_RELEASE_TIMEOUT_MS, NULL, err);
}
