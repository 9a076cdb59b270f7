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
#include "config.h"
#include "hook-config.h"
#include "hook.h"
#include "json.h"
#include "release.h"
#include "sandbox.h"
#include "util.h"

#define PROG "vgpu-hook"

enum {
        OPT_TYPE = VGPU_CLI_FIRST_OPT,
        OPT_PARENT,
        OPT_TIMEOUT,
        OPT_NO_CGROUP,
        OPT_ACCEPT_ENV,
        OPT_UNBOUND_AFTER,
        OPT_LOG,
        OPT_CONFIG,
};

static const struct option long_opts[] = {
        { "type", required_argument, NULL, OPT_TYPE },
        { "parent", required_argument, NULL, OPT_PARENT },
        { "release-timeout-ms", required_argument, NULL, OPT_TIMEOUT },
        { "no-cgroup", no_argument, NULL, OPT_NO_CGROUP },
        { "accept-env", no_argument, NULL, OPT_ACCEPT_ENV },
        { "unbound-after", required_argument, NULL, OPT_UNBOUND_AFTER },
        { "log", required_argument, NULL, OPT_LOG },
        { "config", required_argument, NULL, OPT_CONFIG },
        { NULL, 0, NULL, 0 },
};

typedef struct cmd_opts {
        vgpu_cli_common_t common;
        vgpu_hook_opts_t hook;
        vgpu_hook_config_t flags; /* what the command line set: it wins over the config file */
        const char *config;
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
        case OPT_ACCEPT_ENV: o->flags.accept_env = o->flags.has_accept_env = true; return 0;
        case OPT_CONFIG: o->config = arg; return 0;
        case OPT_LOG:
                if (arg[0] != '/' || strlen (arg) >= sizeof o->flags.log)
                        return vgpu_cli_bad_value (PROG, "log", arg, " is not an absolute path");
                strcpy (o->flags.log, arg);
                return 0;
        case OPT_UNBOUND_AFTER:
                if (vgpu_cli_number (PROG, "unbound-after", arg, 86400, &v) != 0)
                        return 2;
                o->flags.unbound_after_s = (unsigned) v;
                return 0;
        case OPT_TIMEOUT:
                if (vgpu_cli_number (PROG, "release-timeout-ms", arg, 3600000, &v) != 0)
                        return 2;
                o->flags.release_timeout_ms = (unsigned) v;
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
        .summary = "Give the container an Intel vGPU (a fresh GVT-g mdev, or an SR-IOV VF: --type vf)\n"
                   "and release it on poststop.\n"
                   "The request comes from --type, the annotation intel.com/vgpu (+ .parent,\n"
                   ".min-resolution) or env INTEL_VGPU.  Without a STAGE the stage follows the\n"
                   "state's status (hooks.d).",
        .command_word = "stage",
        .options = long_opts,
        .globals = "type parent release-timeout-ms no-cgroup accept-env unbound-after log config",
        .globals_help = "  --type TYPE|auto      request this type (CDI specs pass it; vf: an SR-IOV VF)\n"
                        "  --parent PCI-ADDRESS  restrict to one parent device (a GVT-g GPU or an SR-IOV PF)\n"
                        "  --accept-env          env INTEL_VGPU in the container is a request too\n"
                        "  --unbound-after S     a precreate allocation no later stage bound within S\n"
                        "                        seconds is a failed create's (default 120)\n"
                        "  --release-timeout-ms N  bound on a blocked remove (default 5000)\n"
                        "  --log FILE            failures go there too (default: the kernel log)\n"
                        "  --config FILE         the hook's config (default " VGPU_HOOK_CONFIG ")\n"
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

/* The config file first, then what the command line said. */
static int
configure (cmd_opts_t *o, vgpu_error_t *err)
{
        vgpu_hook_config_t c;
        int r = vgpu_hook_config_load (o->config ? o->config : VGPU_HOOK_CONFIG, o->config != NULL, &c, err);

        if (r < 0)
                return r;
        if (o->flags.has_accept_env)
                c.accept_env = true;
        if (o->flags.unbound_after_s)
                c.unbound_after_s = o->flags.unbound_after_s;
        if (o->flags.release_timeout_ms)
                c.release_timeout_ms = o->flags.release_timeout_ms;
        if (o->flags.log[0])
                strcpy (c.log, o->flags.log);
        o->flags = c;
        o->hook.accept_env = c.accept_env;
        o->hook.unbound_after_s = c.unbound_after_s;
        o->hook.release_timeout_ms = c.release_timeout_ms ? c.release_timeout_ms : VGPU_RELEASE_TIMEOUT_MS;
        return 0;
}

static int
fail (const cmd_opts_t *o, const char *container, const vgpu_error_t *err)
{
        vgpu_error_print (PROG, err);
        vgpu_error_log (PROG, container, err, o->flags.log[0] ? o->flags.log : NULL);
        return 1;
}

int
main (int argc, char **argv)
{
        cmd_opts_t o = { 0 };
        const vgpu_cli_command_t *stage = NULL;
        char container[VGPU_CONTAINER_ID_MAX + 1] = "";
        vgpu_error_t err = { 0 };
        _cleanup_free_ char *input = NULL;
        size_t len = 0;
        int r;

        r = vgpu_cli_parse (&cli, argc, argv, &o, &o.common, &stage, &err);
        if (r)
                return r;
        o.hook.roots = &o.common.roots;
        if (stage != &by_status)
                vgpu_stage_parse (stage->name, &o.hook.stage); /* the table holds only stage names */
        if (!o.common.no_sandbox && vgpu_sandbox_enter (sandbox_profile (o.hook.stage), &err) < 0)
                return fail (&o, container, &err);
        if (configure (&o, &err) < 0)
                return fail (&o, container, &err);
        r = vgpu_read_fd (STDIN_FILENO, VGPU_JSON_MAX_BYTES, &input, &len);
        if (r < 0) {
                vgpu_error_sys (&err, -r, "reading stdin (at most %u bytes)", VGPU_JSON_MAX_BYTES);
                return fail (&o, container, &err);
        }
        if (vgpu_hook_run (&o.hook, input, len, stdout, container, &err) < 0)
                return fail (&o, container, &err);
        return fflush (stdout) == 0 ? 0 : 1;
}
