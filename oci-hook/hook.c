/* hook.c — see hook.h. */
#include "hook.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "cgroup.h"
#include "inject.h"
#include "json.h"
#include "plan.h"
#include "release.h"
#include "request.h"
#include "util.h"

static void
selector_from (const vgpu_request_t *req, vgpu_selector_t *sel)
{
        *sel = (vgpu_selector_t) { .type = req->type, .parent = req->parent, .min_w = req->min_w, .min_h = req->min_h };
}

/* What this run made goes again: by uuid, so another request of the same
 * container keeps its vGPU. */
static void
rollback (const vgpu_hook_opts_t *o, const vgpu_mdev_t *mdevs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                vgpu_release_uuid (o->roots, mdevs[i].uuid, VGPU_RELEASE_ROLLBACK, o->release_timeout_ms, NULL);
}

/* An image's env is no request unless the admin said so. */
static int
check_source (const vgpu_hook_opts_t *o, const vgpu_request_t *req, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];

        if (!req->wanted || o->accept_env || strcmp (req->source, "env") != 0)
                return 0;
        return vgpu_error_set (err, EPERM,
                               "env " VGPU_ENV_REQUEST "=%s asks for a vGPU, but this hook takes requests from the "
                               "annotation " VGPU_ANNOTATION_TYPE " or CDI only (an admin accepts env requests with "
                               "--accept-env or \"accept_env\": true in the hook's config)",
                               vgpu_quote (req->type, strlen (req->type), q));
}

static int
allocate (const vgpu_hook_opts_t *o, const char *id, const vgpu_request_t *req, vgpu_stage_t stage, pid_t pid,
          vgpu_mdev_t *mdevs, size_t *ret_n, bool *ret_reused, vgpu_error_t *err)
{
        vgpu_owner_info_t who = { .owner = { .kind = VGPU_OWNER_CONTAINER },
                                  .request = req->type,
                                  .stage = vgpu_stage_name (stage),
                                  .pid = pid,
                                  .unbound_after_s = o->unbound_after_s };
        vgpu_selector_t sel;

        vgpu_copy (who.owner.id, sizeof who.owner.id, id);
        selector_from (req, &sel);
        return vgpu_allocate (o->roots, &sel, &who, 1, mdevs, ret_n, ret_reused, err);
}

/* Not inlined, nor attach(): their frames (a plan is 12 KiB) would be every
 * stage's, and each page of stack touched is a page fault. */
static __attribute__ ((noinline)) int
precreate (const vgpu_hook_opts_t *o, const char *input, size_t len, FILE *out, char *ret_id, vgpu_error_t *err)
{
        _cleanup_json_ json_object *config = NULL;
        vgpu_mdev_t mdevs[VGPU_ALLOC_MAX];
        vgpu_request_t req;
        vgpu_plan_t plan;
        size_t n = 0;
        bool reused = false;
        int r;

        r = vgpu_oci_config_parse (input, len, &config, err);
        if (r == 0)
                r = vgpu_request_parse (json_object_object_get (config, "annotations"), config, o->type, o->parent,
                                        &req, err);
        if (r == 0)
                r = check_source (o, &req, err);
        if (r < 0)
                return r;
        if (!req.wanted) {
                fwrite (input, 1, len, out); /* untouched, byte for byte */
                return 0;
        }
        r = vgpu_oci_config_container_id (config, ret_id, VGPU_CONTAINER_ID_MAX + 1, err);
        if (r == 0)
                r = allocate (o, ret_id, &req, VGPU_STAGE_PRECREATE, 0, mdevs, &n, &reused, err);
        if (r < 0)
                return r;
        r = vgpu_plan_build (o->roots, mdevs, n, &plan, err);
        if (r == 0)
                r = vgpu_oci_config_apply (config, &plan, err);
        if (r < 0) {
                if (!reused)
                        rollback (o, mdevs, n);
                return r;
        }
        fprintf (out, "%s\n", vgpu_oci_config_to_string (config));
        return 0;
}

/* A state whose pid shares the hook's mount namespace names no container:
 * nodes made "in it" would land in the host's /dev. */
static int
check_namespace (const vgpu_oci_state_t *st, vgpu_error_t *err)
{
        char path[64];
        struct stat self, other;

        snprintf (path, sizeof path, "/proc/%d/ns/mnt", (int) st->pid);
        if (stat ("/proc/self/ns/mnt", &self) < 0 || stat (path, &other) < 0)
                return vgpu_error_sys (err, errno, "mount namespace of container %s (pid %d)", st->id, (int) st->pid);
        if (self.st_dev == other.st_dev && self.st_ino == other.st_ino)
                return vgpu_error_set (err, EINVAL,
                                       "OCI state pid %d of container %s is in the hook's own mount namespace: no "
                                       "container's process",
                                       (int) st->pid, st->id);
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

static __attribute__ ((noinline)) int
attach (const vgpu_hook_opts_t *o, const vgpu_oci_state_t *st, vgpu_error_t *err)
{
        _cleanup_json_ json_object *config = NULL;
        char rootfs[PATH_MAX];
        vgpu_mdev_t mdevs[VGPU_ALLOC_MAX];
        vgpu_request_t req;
        vgpu_plan_t plan;
        size_t n = 0;
        bool reused = false;
        int r;

        if (!st->bundle[0])
                return vgpu_error_set (err, EINVAL, "OCI state lacks \"bundle\"");
        r = vgpu_oci_config_load (st->bundle, &config, err);
        if (r == 0)
                r = vgpu_request_parse (st->annotations, config, o->type, o->parent, &req, err);
        if (r == 0)
                r = check_source (o, &req, err);
        if (r < 0 || !req.wanted)
                return r;
        if (st->pid <= 0)
                return vgpu_error_set (err, EINVAL, "OCI state of container %s has no \"pid\" at this stage", st->id);
        r = check_namespace (st, err);
        if (r == 0)
                r = vgpu_oci_config_rootfs (config, st->bundle, rootfs, sizeof rootfs, err);
        if (r == 0)
                r = allocate (o, st->id, &req, o->stage, st->pid, mdevs, &n, &reused, err);
        if (r < 0)
                return r;
        r = vgpu_plan_build (o->roots, mdevs, n, &plan, err);
        if (r == 0)
                r = inject (o, st->pid, rootfs, &plan, err);
        if (r < 0 && !reused)
                rollback (o, mdevs, n);
        return r;
}

static int
poststop (const vgpu_hook_opts_t *o, const vgpu_oci_state_t *st, vgpu_error_t *err)
{
        vgpu_owner_t owner = { .kind = VGPU_OWNER_CONTAINER };
        struct stat sb;

        /* nothing was ever allocated on this host: touch nothing */
        if (stat (o->roots->state, &sb) < 0 && errno == ENOENT)
                return 0;
        vgpu_copy (owner.id, sizeof owner.id, st->id);
        return vgpu_release_owner (o->roots, &owner, VGPU_RELEASE_STOPPED, o->release_timeout_ms, NULL, err);
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

/* The stage a state's status means when no stage was given: creating or
 * created is the container being made, stopped its end; nothing else is a
 * moment a hook is run at. */
static int
stage_of_status (const vgpu_oci_state_t *st, vgpu_stage_t *ret, vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF];

        if (strcmp (st->status, "creating") == 0 || strcmp (st->status, "created") == 0)
                *ret = VGPU_STAGE_CREATE_RUNTIME;
        else if (strcmp (st->status, "stopped") == 0)
                *ret = VGPU_STAGE_POSTSTOP;
        else
                return vgpu_error_set (err, EINVAL,
                                       "OCI state status \"%s\" of container %s is no stage (creating, created or "
                                       "stopped); name the stage as the hook's argument",
                                       vgpu_quote (st->status, strlen (st->status), q), st->id);
        return 0;
}

int
vgpu_hook_run (const vgpu_hook_opts_t *o, const char *input, size_t len, FILE *out,
               char ret_container[VGPU_CONTAINER_ID_MAX + 1], vgpu_error_t *err)
{
        char ignored[VGPU_CONTAINER_ID_MAX + 1];
        char *id = ret_container ? ret_container : ignored;
        vgpu_hook_opts_t eff = *o;
        vgpu_oci_state_t st;
        int r;

        id[0] = '\0';
        if (o->stage == VGPU_STAGE_PRECREATE || (o->stage == VGPU_STAGE_AUTO && !is_state (input, len)))
                return precreate (o, input, len, out, id, err);
        r = vgpu_oci_state_parse (input, len, &st, err);
        if (r < 0)
                return r;
        vgpu_copy (id, VGPU_CONTAINER_ID_MAX + 1, st.id);
        if (eff.stage == VGPU_STAGE_AUTO)
                r = stage_of_status (&st, &eff.stage, err);
        if (r == 0)
                r = eff.stage == VGPU_STAGE_POSTSTOP ? poststop (&eff, &st, err) : attach (&eff, &st, err);
        vgpu_oci_state_done (&st);
        return r;
}
