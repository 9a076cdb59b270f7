/* vgpu-hook — the OCI runtime hook: a vGPU per container.
 *
 *   vgpu-hook [OPTIONS] [precreate|prestart|createRuntime|poststop] < state-or-config
 *
 * Parses arguments and stdin (capped) and runs the stage from the plugin
 * library.  Exit 0 success, 1 failure, 2 usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "config.h"
#include "hook.h"
#include "json.h"
#include "sandbox.h"
#include "util.h"

#define PROG "vgpu-hook"

static void
usage (FILE *out)
{
        fprintf (out,
                 "Usage: " PROG " [OPTIONS] [STAGE] < OCI-STATE (or config.json for precreate)\n\n"
                 "Give the container an Intel GVT-g vGPU (a fresh mdev) and release it on poststop.\n"
                 "STAGE is precreate, prestart, createRuntime or poststop; without it the stage\n"
                 "follows the state's status (hooks.d).  The request comes from --type, the\n"
                 "annotation intel.com/vgpu (+ .parent, .min-resolution) or env INTEL_VGPU.\n\n"
                 "Options:\n"
                 "  --type TYPE|auto         request this type (CDI specs pass it)\n"
                 "  --parent PCI-ADDRESS     restrict to one parent device\n"
                 "  --release-timeout-ms N   bound on a blocked remove (default %d)\n"
                 "  --sysfs-root DIR         sysfs root (env VGPU_SYSFS_ROOT, default /sys)\n"
                 "  --dev-root DIR           dev root (env VGPU_DEV_ROOT, default /dev)\n"
                 "  --state-dir DIR          ledger (env VGPU_STATE_DIR, default /run/vgpu-toolkit)\n"
                 "  --no-cgroup              skip the device cgroup step (tests only)\n"
                 "  --no-sandbox             debugging only: keep every privilege (README, Privileges)\n"
                 "  -h, --help               show this help\n"
                 "  --version                print the version\n",
                 VGPU_RELEASE_TIMEOUT_MS);
}

enum {
        OPT_TYPE = 256,
        OPT_PARENT,
        OPT_TIMEOUT,
        OPT_SYSFS,
        OPT_DEV,
        OPT_STATE,
        OPT_NO_CGROUP,
        OPT_NO_SANDBOX,
        OPT_VERSION
};

static int
parse_args (int argc, char **argv, vgpu_hook_opts_t *o, bool *no_sandbox, vgpu_error_t *err)
{
        static const struct option opts[] = {
                { "type", required_argument, NULL, OPT_TYPE },
                { "parent", required_argument, NULL, OPT_PARENT },
                { "release-timeout-ms", required_argument, NULL, OPT_TIMEOUT },
                { "sysfs-root", required_argument, NULL, OPT_SYSFS },
                { "dev-root", required_argument, NULL, OPT_DEV },
                { "state-dir", required_argument, NULL, OPT_STATE },
                { "no-cgroup", no_argument, NULL, OPT_NO_CGROUP },
                { "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                { NULL, 0, NULL, 0 },
        };
        unsigned long long v;
        int c;

        opterr = 0;
        while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'h': usage (stdout); exit (0);
                case OPT_VERSION: printf (PROG " " VGPU_VERSION "\n"); exit (0);
                case OPT_TYPE: o->type = optarg; break;
                case OPT_PARENT: o->parent = optarg; break;
                case OPT_NO_CGROUP: o->no_cgroup = true; break;
                case OPT_NO_SANDBOX: *no_sandbox = true; break;
                case OPT_TIMEOUT:
                        if (vgpu_parse_uint (optarg, 3600000, &v) < 0 || v == 0)
                                return vgpu_error_set (err, EINVAL,
                                                       "--release-timeout-ms \"%.32s\" is not a number of milliseconds",
                                                       optarg);
                        o->release_timeout_ms = (unsigned) v;
                        break;
                case OPT_SYSFS:
                case OPT_DEV:
                case OPT_STATE:
                        if (vgpu_roots_set (&o->roots,
                                            c == OPT_SYSFS ? "sysfs"
                                            : c == OPT_DEV ? "dev"
                                                           : "state",
                                            optarg, err) < 0)
                                return -EINVAL;
                        break;
                default:
                        return vgpu_error_set (err, EINVAL,
                                               "unknown option or missing value in \"%.64s\" (see `" PROG " --help`)",
                                               argv[optind - 1]);
                }
        }
        if (optind < argc && vgpu_stage_parse (argv[optind++], &o->stage) < 0)
                return vgpu_error_set (err, EINVAL,
                                       "unknown stage \"%.64s\" (precreate, prestart, createRuntime or poststop)",
                                       argv[optind - 1]);
        if (optind < argc)
                return vgpu_error_set (err, EINVAL, "unexpected argument \"%.64s\"", argv[optind]);
        return 0;
}

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
        vgpu_hook_opts_t o = { .release_timeout_ms = VGPU_RELEASE_TIMEOUT_MS };
        vgpu_error_t err = { 0 };
        _cleanup_free_ char *input = NULL;
        size_t len = 0;
        bool no_sandbox = false;
        int r;

        if (vgpu_roots_init (&o.roots, &err) < 0 || parse_args (argc, argv, &o, &no_sandbox, &err) < 0) {
                vgpu_error_print (PROG, &err);
                return 2;
        }
        if (!no_sandbox && vgpu_sandbox_enter (sandbox_profile (o.stage), &err) < 0) {
                vgpu_error_print (PROG, &err);
                return 1;
        }
        r = vgpu_read_fd (STDIN_FILENO, VGPU_JSON_MAX_BYTES, &input, &len);
        if (r < 0) {
                vgpu_error_sys (&err, -r, "reading stdin (at most %u bytes)", VGPU_JSON_MAX_BYTES);
                vgpu_error_print (PROG, &err);
                return 1;
        }
        r = vgpu_hook_run (&o, input, len, stdout, &err);
        if (r < 0) {
                vgpu_error_print (PROG, &err);
                return 1;
        }
        return fflush (stdout) == 0 ? 0 : 1;
}
