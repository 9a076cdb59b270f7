/* hook.c — see hook.h. */
#include "hook.h"

#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "cgroup.h"
#include "inject.h"
#include "json.h"
#include "oci.h"
#include "plan.h"
#include "request.h"
#include "util.h"

static void
selector_from (const vgpu_request_t *req, vgpu_selector_t *sel)
{
        *sel = (vgpu_selector_t) { .type = req->type, .parent = req->parent, .min_w = req->min_w, .min_h = req->min_h };
}

static void
release_quietly (const vgpu_hook_opts_t *o, const char *owner)
{
        vgpu_release_owner (&o->roots, owner, o->release_timeout_ms, NULL, NULL);
}

static int
precreate (const vgpu_hook_opts_t *o, const char *input, size_t len, FILE *out, vgpu_error_t *err)
{
        _cleanup_json_ json_object *config = NULL;
        char id[VGPU_CONTAINER_ID_MAX + 1];
        vgpu_mdev_t mdevs[VGPU_ALLOC_MAX];
        vgpu_request_t req;
        vgpu_selector_t sel;
        vgpu_plan_t plan;
        size_t n = 0;
        bool reused = false;
        int r;

        r = vgpu_oci_config_parse (input, len, &config, err);
        if (r == 0)
                r = vgpu_request_parse (json_object_object_get (config, "annotations"), config, o->type, o->parent,
                                        &req, err);
        if (r < 0)
                return r;
        if (!req.wanted) {
                fwrite (input, 1, len, out); /* untouched, byte for byte */
                return 0;
        }
        r = vgpu_oci_config_container_id (config, id, sizeof id, err);
        if (r < 0)
                return r;
        selector_from (&req, &sel);
        r = vgpu_allocate (&o->roots, &sel,
                           &(vgpu_owner_info_t) { .owner = id, .stage = vgpu_stage_name (VGPU_STAGE_PRECREATE) }, 1,
                           mdevs, &n, &reused, err);
        if (r < 0)
                return r;
        r = vgpu_plan_build (&o->roots, mdevs, n, &plan, err);
        if (r == 0)
                r = vgpu_oci_config_apply (config, &plan, err);
        if (r < 0) {
                if (!reused)
                        release_quietly (o, id);
                return r;
        }
        fprintf (out, "%s\n", vgpu_oci_config_to_string (config));
        return 0;
}

/* Nodes into the container, then the cgroup; undo the nodes if the cgroup
 * step fails. */
static int
inject (const vgpu_hook_opts_t *o, pid_t pid, const char *rootfs, const vgpu_plan_t *plan, vgpu_error_t *err)
{
        vgpu_inject_undo_t nodes_undo;
        vgpu_cgroup_undo_t cg_undo;
        int r;

        r = vgpu_inject_nodes (pid, rootfs, plan->nodes, plan->n_nodes, &nodes_undo, err);
        if (r < 0)
                return r;
        vgpu_crashpoint ("after-node");
        if (o->no_cgroup)
                return 0;
        r = vgpu_cgroup_allow (pid, o->cgroup_root, plan->nodes, plan->n_nodes, &cg_undo, err);
        if (r < 0) {
                vgpu_inject_undo (pid, rootfs, &nodes_undo, NULL);
                return r;
        }
        vgpu_crashpoint ("after-cgroup");
        vgpu_cgroup_undo_release (&cg_undo);
        return 0;
}

static int
attach (const vgpu_hook_opts_t *o, const vgpu_oci_state_t *st, vgpu_error_t *err)
{
        _cleanup_json_ json_object *config = NULL;
        char rootfs[PATH_MAX];
        vgpu_mdev_t mdevs[VGPU_ALLOC_MAX];
        vgpu_request_t req;
        vgpu_selector_t sel;
        vgpu_plan_t plan;
        size_t n = 0;
        bool reused = false;
        int r;

        if (!st->bundle[0])
                return vgpu_error_set (err, EINVAL, "OCI state lacks \"bundle\"");
        r = vgpu_oci_config_load (st->bundle, &config, err);
        if (r == 0)
                r = vgpu_request_parse (st->annotations, config, o->type, o->parent, &req, err);
        if (r < 0 || !req.wanted)
                return r;
        if (st->pid <= 0)
                return vgpu_error_set (err, EINVAL, "OCI state of container %s has no \"pid\" at this stage", st->id);
        r = vgpu_oci_config_rootfs (config, st->bundle, rootfs, sizeof rootfs, err);
        if (r < 0)
                return r;
        selector_from (&req, &sel);
        r = vgpu_allocate (
                &o->roots, &sel,
                &(vgpu_owner_info_t) { .owner = st->id, .stage = vgpu_stage_name (o->stage), .pid = st->pid }, 1, mdevs,
                &n, &reused, err);
        if (r < 0)
                return r;
        r = vgpu_plan_build (&o->roots, mdevs, n, &plan, err);
        if (r == 0)
                r = inject (o, st->pid, rootfs, &plan, err);
        if (r < 0 && !reused)
                release_quietly (o, st->id);
        return r;
}

static int
poststop (const vgpu_hook_opts_t *o, const vgpu_oci_state_t *st, vgpu_error_t *err)
{
        struct stat sb;

        /* nothing was ever allocated on this host: touch nothing */
        if (stat (o->roots.state, &sb) < 0 && errno == ENOENT)
                return 0;
        return vgpu_release_owner (&o->roots, st->id, o->release_timeout_ms, NULL, err);
}

/* Without a stage argument (one hooks.d file for several stages) the input
 * tells: a state has "status", a config.json (precreate's input) has not. */
static bool
is_state (const char *input, size_t len)
{
        _cleanup_json_ json_object *o = NULL;

        if (vgpu_json_parse (input, len, "hook input", &o, NULL) < 0)
                return true; /* let the state parser report it */
        return !json_object_is_type (o, json_type_object) || json_object_object_get_ex (o, "status", NULL);
}

int
vgpu_hook_run (const vgpu_hook_opts_t *o, const char *input, size_t len, FILE *out, vgpu_error_t *err)
{
        vgpu_oci_state_t st;
        vgpu_hook_opts_t eff = *o;
        int r;

        if (o->stage == VGPU_STAGE_PRECREATE || (o->stage == VGPU_STAGE_AUTO && !is_state (input, len)))
                return precreate (o, input, len, out, err);
        r = vgpu_oci_state_parse (input, len, &st, err);
        if (r < 0)
                return r;
        if (eff.stage == VGPU_STAGE_AUTO)
                eff.stage = strcmp (st.status, "stopped") == 0 ? VGPU_STAGE_POSTSTOP : VGPU_STAGE_CREATE_RUNTIME;
        r = eff.stage == VGPU_STAGE_POSTSTOP ? poststop (&eff, &st, err) : attach (&eff, &st, err);
        vgpu_oci_state_done (&st);
        return r;
}
