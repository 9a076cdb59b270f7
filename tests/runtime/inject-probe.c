/* inject-probe.c — a createRuntime/prestart hook for the runtime tests:
 * vgpu_inject_nodes + vgpu_cgroup_allow straight from the OCI state, without
 * the allocation machinery of vgpu-hook, so the injection path is tested on
 * its own against real runtimes.
 *
 *   inject-probe [--no-cgroup] [--log FILE] PATH:MAJOR:MINOR...  < OCI state
 *
 * --log appends one line saying what was done ("v1 rules=1", "v2 programs=1",
 * "none"), so a test can tell which device cgroup path was taken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "inject.h"
#include "json.h"
#include "oci.h"
#include "util.h"

static int
parse_node (const char *arg, vgpu_node_t *n, vgpu_error_t *err)
{
        const char *colon = strchr (arg, ':');
        size_t len = colon ? (size_t) (colon - arg) : 0;

        if (!colon || len == 0 || len >= sizeof n->path || vgpu_parse_devnum (colon + 1, &n->major, &n->minor) < 0)
                return vgpu_error_set (err, EINVAL, "node %s: want PATH:MAJOR:MINOR", arg);
        memcpy (n->path, arg, len);
        n->path[len] = '\0';
        n->mode = 0666;
        return 0;
}

static void
log_result (const char *file, const vgpu_cgroup_undo_t *cg, bool no_cgroup)
{
        _cleanup_fclose_ FILE *f = NULL;

        if (!file || !(f = fopen (file, "ae")))
                return;
        if (no_cgroup)
                fprintf (f, "nodes only\n");
        else if (cg->kind == VGPU_CGROUP_V1)
                fprintf (f, "v1 rules=%zu path=%s\n", cg->n_allowed, cg->path);
        else if (cg->kind == VGPU_CGROUP_V2)
                fprintf (f, "v2 programs=%zu path=%s\n", cg->bpf.n, cg->path);
        else
                fprintf (f, "none\n");
}

static int
run (int argc, char **argv, vgpu_error_t *err)
{
        vgpu_node_t nodes[VGPU_PLAN_MAX_NODES];
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_object *config = NULL;
        vgpu_oci_state_t st;
        vgpu_inject_undo_t undo;
        vgpu_cgroup_undo_t cg = { .dir_fd = -1, .bpf = { .cgroup_fd = -1 } };
        const char *log = NULL;
        bool no_cgroup = false;
        char rootfs[PATH_MAX];
        size_t n = 0, len;
        int r;

        for (int i = 1; i < argc; i++) {
                if (strcmp (argv[i], "--no-cgroup") == 0)
                        no_cgroup = true;
                else if (strcmp (argv[i], "--log") == 0 && i + 1 < argc)
                        log = argv[++i];
                else if (n == VGPU_PLAN_MAX_NODES)
                        return vgpu_error_set (err, E2BIG, "too many nodes");
                else if ((r = parse_node (argv[i], &nodes[n++], err)) < 0)
                        return r;
        }
        r = vgpu_read_fd (STDIN_FILENO, VGPU_JSON_MAX_BYTES, &text, &len);
        if (r < 0)
                return vgpu_error_sys (err, r, "reading the OCI state");
        r = vgpu_oci_state_parse (text, len, &st, err);
        if (r < 0)
                return r;
        r = vgpu_oci_config_load (st.bundle, &config, err);
        if (r == 0)
                r = vgpu_oci_config_rootfs (config, st.bundle, rootfs, sizeof rootfs, err);
        if (r == 0)
                r = vgpu_inject_nodes (st.pid, rootfs, nodes, n, &undo, err);
        if (r == 0 && !no_cgroup) {
                r = vgpu_cgroup_allow (st.pid, NULL, nodes, n, &cg, err);
                if (r < 0)
                        vgpu_inject_undo (st.pid, rootfs, &undo, NULL);
        }
        if (r == 0)
                log_result (log, &cg, no_cgroup);
        vgpu_cgroup_undo_release (&cg);
        vgpu_oci_state_done (&st);
        return r;
}

int
main (int argc, char **argv)
{
        vgpu_error_t err = { 0 };

        if (run (argc, argv, &err) < 0) {
                vgpu_error_print ("inject-probe", &err);
                return 1;
        }
        return 0;
}
