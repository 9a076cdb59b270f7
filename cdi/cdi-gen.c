/* cdi-gen.c — see cdi-gen.h. */
#include "cdi-gen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "host.h"
#include "policy.h"
#include "util.h"

int
vgpu_cdi_type_known (const vgpu_roots_t *roots, const char *type, const char *parent, vgpu_error_t *err)
{
        vgpu_host_t host;
        int r = vgpu_host_scan (roots, &host, err);

        if (r < 0)
                return r;
        r = vgpu_type_offered (&host, type, parent, err);
        vgpu_host_free (&host);
        return r;
}

static int
cmp_str (const void *a, const void *b)
{
        return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
vgpu_cdi_dynamic (const vgpu_host_t *host, vgpu_cdi_spec_t *spec, vgpu_error_t *err)
{
        _cleanup_free_ const char **ids = NULL;
        size_t n = 0, total = 1;
        vgpu_plan_t plan;
        int r = 0;

        vgpu_plan_vfio_container (&plan);
        for (size_t i = 0; i < host->n_parents; i++)
                total += host->parents[i].n_types;
        ids = calloc (total, sizeof *ids);
        if (!ids)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        for (size_t i = 0; i < host->n_parents; i++)
                for (size_t j = 0; j < host->parents[i].n_types; j++)
                        ids[n++] = host->parents[i].types[j].id;
        qsort (ids, n, sizeof *ids, cmp_str);
        for (size_t i = 0; r == 0 && i < n; i++) {
                char name[VGPU_CDI_NAME_MAX];

                if (i > 0 && strcmp (ids[i], ids[i - 1]) == 0)
                        continue; /* the same type on another parent */
                if (vgpu_cdi_map_name (ids[i], name, sizeof name) < 0)
                        return vgpu_error_set (err, ENAMETOOLONG, "type %s has no CDI device name", ids[i]);
                r = vgpu_cdi_spec_add (spec, name, ids[i], &plan, err);
        }
        if (r == 0 && n > 0 && vgpu_type_offered (host, "auto", NULL, NULL) == 0)
                r = vgpu_cdi_spec_add (spec, "auto", "auto", &plan, err);
        return r;
}

static int
cmp_member (const void *a, const void *b)
{
        const vgpu_cdi_member_t *x = a, *y = b;

        return (x->index > y->index) - (x->index < y->index);
}

/* Two names per member, its index and its UUID, with the same edits. */
static int
pool_devices (const vgpu_cdi_opts_t *o, vgpu_cdi_pool_t *pool, vgpu_cdi_spec_t *spec, vgpu_error_t *err)
{
        int r = 0;

        if (pool->n)
                qsort (pool->m, pool->n, sizeof *pool->m, cmp_member);
        for (size_t i = 0; r == 0 && i < pool->n; i++) {
                char index[16];
                vgpu_plan_t plan;

                snprintf (index, sizeof index, "%u", pool->m[i].index);
                r = vgpu_plan_build (&o->roots, &pool->m[i].mdev, 1, &plan, err);
                if (r == 0)
                        r = vgpu_cdi_spec_add (spec, index, NULL, &plan, err);
                if (r == 0)
                        r = vgpu_cdi_spec_add (spec, pool->m[i].mdev.uuid, NULL, &plan, err);
        }
        return r;
}

static int
dynamic_from_host (const vgpu_cdi_opts_t *o, vgpu_cdi_spec_t *spec, vgpu_error_t *err)
{
        vgpu_host_t host;
        int r;

        if (access (o->hook_path, X_OK) < 0)
                return vgpu_error_sys (err, errno, "hook %s", o->hook_path);
        r = vgpu_host_scan (&o->roots, &host, err);
        if (r < 0)
                return r;
        r = vgpu_cdi_dynamic (&host, spec, err);
        vgpu_host_free (&host);
        return r;
}

static int
emit (const vgpu_cdi_spec_t *spec, const char *path, FILE *out, vgpu_error_t *err)
{
        _cleanup_free_ char *text = NULL;
        int r;

        if (strcmp (path, "-") != 0)
                return vgpu_cdi_save (path, spec, err);
        if (spec->n_devices == 0)
                return 0; /* no spec at all, as on disk */
        r = vgpu_cdi_render (spec, &text, err);
        if (r == 0 && fputs (text, out) < 0)
                return vgpu_error_sys (err, errno, "write the spec");
        return r;
}

int
vgpu_cdi_generate (const vgpu_cdi_opts_t *o, vgpu_cdi_mode_t mode, const vgpu_cdi_pool_req_t *reqs, size_t n_reqs,
                   const char *path, FILE *out, vgpu_error_t *err)
{
        vgpu_error_t release_err = { 0 };
        char scope[VGPU_SCOPE_MAX + 1];
        vgpu_cdi_spec_t spec, old;
        vgpu_cdi_pool_t pool = { 0 };
        bool replaces = false;
        int r;

        if (strcmp (path, "-") != 0 && (r = vgpu_cdi_path_check (path, err)) < 0)
                return r;
        r = vgpu_cdi_pool_scope (path, scope, err);
        if (r < 0)
                return r;
        r = vgpu_cdi_spec_for (o, &spec, err);
        if (r < 0)
                return r;
        replaces = strcmp (path, "-") != 0 && vgpu_cdi_load (path, &old, NULL) == 0;
        if (mode == VGPU_CDI_DYNAMIC)
                r = dynamic_from_host (o, &spec, err);
        else if (mode == VGPU_CDI_POOL)
                r = vgpu_cdi_pool_sync (o, scope, reqs, n_reqs, &pool, &release_err, err);
        else
                r = vgpu_cdi_pool_adopt (o, scope, &pool, err);
        if (r == 0)
                r = pool_devices (o, &pool, &spec, err);
        if (r == 0)
                r = emit (&spec, path, out, err);
        if (r == 0 && replaces)
                r = vgpu_cdi_pool_release_named (o, scope, &old, &spec, err);
        if (r == 0 && mode == VGPU_CDI_DYNAMIC && spec.n_devices == 0)
                r = vgpu_error_set (err, ENODEV,
                                    "no mdev type on this host, so no spec (%s %s): `vgpuctl doctor` says "
                                    "what is missing",
                                    path, replaces ? "removed" : "not written");
        if (replaces)
                vgpu_cdi_spec_done (&old);
        free (pool.m);
        vgpu_cdi_spec_done (&spec);
        if (r == 0 && release_err.code) {
                *err = release_err;
                return -release_err.code;
        }
        return r;
}

int
vgpu_cdi_list (const char *path, FILE *out, vgpu_error_t *err)
{
        vgpu_cdi_spec_t spec;
        int r = vgpu_cdi_load (path, &spec, err);

        if (r < 0)
                return r;
        for (size_t i = 0; i < spec.n_devices; i++)
                fprintf (out, "%s=%s\n", spec.kind, spec.devices[i].name);
        vgpu_cdi_spec_done (&spec);
        return 0;
}

static void __attribute__ ((format (printf, 3, 4))) finding (FILE *out, size_t *n, const char *fmt, ...)
{
        va_list ap;

        va_start (ap, fmt);
        fputs ("stale: ", out);
        vfprintf (out, fmt, ap);
        fputc ('\n', out);
        va_end (ap);
        (*n)++;
}

static bool
has_type (const vgpu_cdi_spec_t *spec, const char *type)
{
        for (size_t i = 0; i < spec->n_devices; i++)
                if (strcmp (spec->devices[i].type, type) == 0)
                        return true;
        return false;
}

static void
check_dynamic (const vgpu_cdi_spec_t *spec, const vgpu_host_t *host, FILE *out, size_t *n)
{
        bool any = false;

        for (size_t i = 0; i < spec->n_devices; i++) {
                const vgpu_cdi_device_t *d = &spec->devices[i];

                if (!d->type[0])
                        continue;
                any = true;
                if (vgpu_type_offered (host, d->type, NULL, NULL) < 0)
                        finding (out, n, "device %s: type %s is gone", d->name, d->type);
        }
        if (!any)
                return;
        if (access (spec->hook_path, X_OK) < 0)
                finding (out, n, "hook %s is not executable", spec->hook_path);
        for (size_t i = 0; i < host->n_parents; i++)
                for (size_t j = 0; j < host->parents[i].n_types; j++)
                        if (!has_type (spec, host->parents[i].types[j].id))
                                finding (out, n, "type %s on %s has no device", host->parents[i].types[j].id,
                                         host->parents[i].name);
        if (!has_type (spec, "auto") && vgpu_type_offered (host, "auto", NULL, NULL) == 0)
                finding (out, n, "no device auto");
}

static bool
has_node (const vgpu_plan_t *plan, const vgpu_mdev_t *m)
{
        char path[64];

        snprintf (path, sizeof path, "/dev/vfio/%d", m->group);
        for (size_t i = 0; i < plan->n_nodes; i++)
                if (strcmp (plan->nodes[i].path, path) == 0)
                        return plan->nodes[i].major == m->group_major && plan->nodes[i].minor == m->group_minor;
        return false;
}

/* The devices of one backend a fixed device names in its env (mdevs by
 * VGPU_MDEV_UUID, VFs by VGPU_VF_ADDRESS): each still there, with the node
 * the spec gives. */
static void
check_named (const vgpu_roots_t *roots, const vgpu_cdi_device_t *d, vgpu_backend_kind_t kind, FILE *out, size_t *n)
{
        const char *names = vgpu_cdi_device_env (d, kind == VGPU_BACKEND_VF ? "VGPU_VF_ADDRESS" : "VGPU_MDEV_UUID");

        while (names && *names) {
                size_t len = strcspn (names, ",");
                char name[VGPU_NAME_MAX], what[VGPU_DEVICE_DISPLAY_MAX];
                vgpu_mdev_t m;

                snprintf (name, sizeof name, "%.*s", (int) (len < VGPU_NAME_MAX - 1 ? len : VGPU_NAME_MAX - 1), names);
                names += len + (names[len] == ',');
                vgpu_device_display (kind, name, what);
                if (vgpu_device_lookup (roots, kind, name, &m, NULL) < 0)
                        finding (out, n, "device %s: %s is gone", d->name, what);
                else if (m.group < 0 || !has_node (&d->plan, &m))
                        finding (out, n, "device %s: %s has group %d (%u:%u), not the node in the spec", d->name, what,
                                 m.group, m.group_major, m.group_minor);
        }
}

static void
check_fixed (const vgpu_roots_t *roots, const vgpu_cdi_spec_t *spec, FILE *out, size_t *n)
{
        for (size_t i = 0; i < spec->n_devices; i++) {
                check_named (roots, &spec->devices[i], VGPU_BACKEND_MDEV, out, n);
                check_named (roots, &spec->devices[i], VGPU_BACKEND_VF, out, n);
        }
}

int
vgpu_cdi_check (const vgpu_cdi_opts_t *o, const char *path, FILE *out, vgpu_error_t *err)
{
        vgpu_cdi_spec_t spec;
        vgpu_host_t host;
        size_t n = 0;
        int r = vgpu_cdi_load (path, &spec, err);

        if (r == -ENOENT)
                return vgpu_error_set (err, ESTALE, "no spec file %s", path);
        if (r < 0)
                return r;
        r = vgpu_host_scan (&o->roots, &host, err);
        if (r == 0) {
                check_dynamic (&spec, &host, out, &n);
                check_fixed (&o->roots, &spec, out, &n);
                vgpu_host_free (&host);
        }
        if (r == 0 && n > 0)
                r = vgpu_error_set (err, ESTALE, "spec %s is stale (%zu finding%s above)", path, n, n == 1 ? "" : "s");
        else if (r == 0)
                fprintf (out, "%s matches the host (%zu devices)\n", path, spec.n_devices);
        vgpu_cdi_spec_done (&spec);
        return r;
}
