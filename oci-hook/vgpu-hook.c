/* vgpu-hook — the OCI runtime hook: a vGPU per container.
 *
 *   vgpu-hook [OPTIONS] [precreate|prestart|createRuntime|poststop] < state-or-config
 *
 * Parses arguments and stdin (capped) and runs the stage from the OCI hook
 * library (oci-hook/).  Exit 0 success, 1 failure, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cli.h"
#include "hook.h"
#include "json.h"
#include "sandbox.h"
#include "util.h"

#define PROG "vgpu-hook"

enum {
        OPT_TYPE = VGPU_CLI_FIRST_OPT,
        OPT_PARENT,
        OPT_TIMEOUT,
        OPT_NO_CGROUP,
};

static const struct option long_opts[] = {
        { "type", required_argument, NULL, OPT_TYPE },
        { "parent", required_argument, NULL, OPT_PARENT },
        { "release-timeout-ms", required_argument, NULL, OPT_TIMEOUT },
        { "no-cgroup", no_argument, NULL, OPT_NO_CGROUP },
        { NULL, 0, NULL, 0 },
};

typedef struct cmd_opts {
        vgpu_cli_common_t common;
        vgpu_hook_opts_t hook;
} cmd_opts_t;

static int
take_option (void *opaque, int c, const char *arg, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        unsigned long long v;

        switch (c) {
        case OPT_TYPE: o->hook.type = arg; return 0;
        case OPT_PARENT: o->hook.parent = arg; return 0;
        case OPT_NO_CGROUP: o->hook.no_cgroup = true; return 0;
        case OPT_TIMEOUT:
                if (vgpu_cli_number (PROG, "release-timeout-ms", arg, 3600000, &v) != 0)
                        return 2;
                o->hook.release_timeout_ms = (unsigned) v;
                return 0;
        default: return 2;
        }
}

static const char stage_help[] = "Reads the OCI state (config.json for precreate) on stdin.  Without a stage\n"
                                 "the stage follows the state's status (one hooks.d file for several stages).";

/* A stage is a command, named as the OCI spec names it; each keeps its own
 * least privilege. */
static const vgpu_cli_command_t stages[] = {
        { "precreate", "< config.json", "Allocate and edit config.json (podman hooks.d).", "", NULL, NULL },
        { "prestart", "< OCI-STATE", "Allocate, make the nodes in the container, allow them in its cgroup.", "", NULL,
          NULL },
        { "createRuntime", "< OCI-STATE", "The same as prestart, at the stage runtimes prefer.", "", NULL, NULL },
        { "poststop", "< OCI-STATE", "Release the container's vGPU (bounded; idempotent).", "", NULL, NULL },
};
static const vgpu_cli_command_t by_status = { "", "< OCI-STATE", stage_help, "", NULL, NULL };

static const vgpu_cli_t cli = {
        .prog = PROG,
        .usage = "[OPTIONS] [STAGE] < OCI-STATE (or config.json for precreate)",
        .summary = "Give the container an Intel GVT-g vGPU (a fresh mdev) and release it on poststop.\n"
                   "The request comes from --type, the annotation intel.com/vgpu (+ .parent,\n"
                   ".min-resolution) or env INTEL_VGPU.  Without a STAGE the stage follows the\n"
                   "state's status (hooks.d).",
        .command_word = "stage",
        .options = long_opts,
        .globals = "type parent release-timeout-ms no-cgroup",
        .globals_help = "  --type TYPE|auto      request this type (CDI specs pass it)\n"
                        "  --parent PCI-ADDRESS  restrict to one parent device\n"
                        "  --release-timeout-ms N  bound on a blocked remove (default 5000)\n"
                        "  --no-cgroup           skip the device cgroup step (tests only)\n",
        .commands = stages,
        .n_commands = ARRAY_SIZE (stages),
        .default_command = &by_status,
        .take = take_option,
};

/* Without a stage (hooks.d) the input decides: the union of the stages. */
static vgpu_sandbox_profile_t
sandbox_profile (vgpu_stage_t stage)
{
        switch (stage) {
        case VGPU_STAGE_PRECREATE: return VGPU_SANDBOX_HOOK_PRECREATE;
        case VGPU_STAGE_PRESTART:
        case VGPU_STAGE_CREATE_RUNTIME: return VGPU_SANDBOX_HOOK_ATTACH;
        case VGPU_STAGE_POSTSTOP: return VGPU_SANDBOX_HOOK_POSTSTOP;
        default: return VGPU_SANDBOX_HOOK_ANY;
        }
}

int
main (int argc, char **argv)
{
        cmd_opts_t o = { .hook = { .release_timeout_ms = VGPU_RELEASE_TIMEOUT_MS } };
        const vgpu_cli_command_t *stage = NULL;
        vgpu_error_t err = { 0 };
        _cleanup_free_ char *input = NULL;
        size_t len = 0;
        int r;

        r = vgpu_cli_parse (&cli, argc, argv, &o, &o.common, &stage, &err);
        if (r)
                return r;
        o.hook.roots = o.common.roots;
        if (stage != &by_status)
                vgpu_stage_parse (stage->name, &o.hook.stage); /* the table holds only stage names */
        if (!o.common.no_sandbox && vgpu_sandbox_enter (sandbox_profile (o.hook.stage), &err) < 0) {
                vgpu_error_print (PROG, &err);
                return 1;
        }
        r = vgpu_read_fd (STDIN_FILENO, VGPU_JSON_MAX_BYTES, &input, &len);
        if (r < 0) {
                vgpu_error_sys (&err, -r, "reading stdin (at most %u bytes)", VGPU_JSON_MAX_BYTES);
                vgpu_error_print (PROG, &err);
                return 1;
        }
        r = vgpu_hook_run (&o.hook, input, len, stdout, &err);
        if (r < 0) {
                vgpu_error_print (PROG, &err);
                return 1;
        }
        return fflush (stdout) == 0 ? 0 : 1;
}
