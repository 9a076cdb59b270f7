/* vgpuctl — the admin and node-agent CLI of vgpu-toolkit.
 *
 * Parses arguments and calls the plugin library; every path, rule and output
 * spelling lives there.  Exit 0 success, 1 failure, 2 usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cli.h"
#include "config.h"
#include "oci.h"
#include "report.h"
#include "sandbox.h"
#include "util.h"

#define PROG "vgpuctl"

typedef struct cmd_opts {
        vgpu_roots_t roots;
        bool json, no_sandbox;
        const char *owner, *type, *parent, *uuid, *stage;
        unsigned min_w, min_h;
        unsigned long long count, timeout_ms, pid;
} cmd_opts_t;

typedef vgpu_cli_command_t command_t;

static const char common_help[] =
        "  --sysfs-root DIR   sysfs root (env VGPU_SYSFS_ROOT, default /sys)\n"
        "  --dev-root DIR     dev root (env VGPU_DEV_ROOT, default /dev)\n"
        "  --state-dir DIR    ledger directory (env VGPU_STATE_DIR, default /run/vgpu-toolkit)\n"
        "  --no-sandbox       debugging only: keep every privilege (README, Privileges)\n"
        "  -h, --help         show this help\n";

static int
run_types (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        vgpu_host_t host;
        int r = vgpu_host_scan (&o->roots, &host, err);

        if (r < 0)
                return r;
        if (o->json)
                r = vgpu_report_types_json (stdout, &host);
        else
                vgpu_report_types (stdout, &host);
        vgpu_host_free (&host);
        return r;
}

static int
run_list (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        _cleanup_free_ vgpu_mdev_t *mdevs = NULL;
        _cleanup_free_ vgpu_record_t *recs = NULL;
        size_t n = 0, n_recs = 0;
        int r;

        r = vgpu_mdev_list (&o->roots, &mdevs, &n, err);
        if (r == 0)
                r = vgpu_ledger_snapshot (&o->roots, &recs, &n_recs, err);
        if (r < 0)
                return r;
        if (o->json)
                return vgpu_report_list_json (stdout, mdevs, n, recs, n_recs);
        vgpu_report_list (stdout, mdevs, n, recs, n_recs);
        return 0;
}

static int
run_allocate (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        vgpu_selector_t sel = { .type = o->type, .parent = o->parent, .min_w = o->min_w, .min_h = o->min_h };
        vgpu_owner_info_t who = { .owner = o->owner, .stage = o->stage ? o->stage : "vgpuctl", .pid = (pid_t) o->pid };
        vgpu_mdev_t mdevs[VGPU_ALLOC_MAX];
        size_t n = 0;
        int r;

        r = vgpu_allocate (&o->roots, &sel, &who, o->count ? o->count : 1, mdevs, &n, NULL, err);
        if (r < 0)
                return r;
        if (o->json)
                return vgpu_report_alloc_json (stdout, o->owner, mdevs, n);
        vgpu_report_alloc (stdout, mdevs, n);
        return 0;
}

static int
run_release (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        unsigned timeout = o->timeout_ms ? (unsigned) o->timeout_ms : VGPU_RELEASE_TIMEOUT_MS;

        if (o->uuid)
                return vgpu_release_uuid (&o->roots, o->uuid, timeout, err);
        return vgpu_release_owner (&o->roots, o->owner, timeout, NULL, err);
}

static int
run_gc (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        _cleanup_free_ vgpu_gc_action_t *acts = NULL;
        size_t n = 0;
        int r;

        r = vgpu_gc (&o->roots, o->timeout_ms ? (unsigned) o->timeout_ms : VGPU_RELEASE_TIMEOUT_MS, &acts, &n, err);
        if (r < 0)
                return r;
        if (vgpu_report_gc (stdout, acts, n) > 0)
                return vgpu_error_set (err, EBUSY, "gc could not reclaim every allocation (see above)");
        return 0;
}

static const command_t commands[] = {
        { "types", "[--json]", "List mdev parents and types (the layout of `mdevctl types`).", "json", run_types },
        { "list", "[--json]", "List active mdevs with their owner in the ledger.", "json", run_list },
        { "allocate",
          "--owner ID --type TYPE|auto [--parent P] [--min-resolution WxH] [--count N] [--pid PID] [--json]",
          "Create mdevs for an owner through the ledger (node agents); prints their UUIDs.",
          "owner type parent min-resolution count pid stage json", run_allocate },
        { "release", "--owner ID | --uuid UUID [--timeout-ms N]",
          "Remove an owner's mdevs (or one mdev the ledger owns); bounded wait.", "owner uuid timeout-ms",
          run_release },
        { "gc", "[--timeout-ms N]", "Reclaim allocations whose container is gone or whose release is pending.",
          "timeout-ms", run_gc },
};

static void
print_help (FILE *out, const command_t *c)
{
        if (c) {
                fprintf (out, "Usage: " PROG " [OPTIONS] %s %s\n\n%s\n\nOptions:\n%s", c->name, c->usage, c->help,
                         common_help);
                return;
        }
        fprintf (out, "Usage: " PROG " [OPTIONS] COMMAND [ARGS]\n\nGive containers Intel GVT-g vGPUs: admin and "
                      "node-agent CLI.\n\nCommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
                fprintf (out, "  %-9s %s\n", commands[i].name, commands[i].help);
        fprintf (out,
                 "\nOptions:\n%s  --version          print the version\n\n`" PROG
                 " COMMAND --help` shows a command's options.\n",
                 common_help);
}

enum {
        OPT_SYSFS = 256,
        OPT_DEV,
        OPT_STATE,
        OPT_NO_SANDBOX,
        OPT_JSON,
        OPT_OWNER,
        OPT_TYPE,
        OPT_PARENT,
        OPT_MINRES,
        OPT_COUNT,
        OPT_PID,
        OPT_STAGE,
        OPT_UUID,
        OPT_TIMEOUT,
        OPT_VERSION
};

static const struct option long_opts[] = {
        { "sysfs-root", required_argument, NULL, OPT_SYSFS },
        { "dev-root", required_argument, NULL, OPT_DEV },
        { "state-dir", required_argument, NULL, OPT_STATE },
        { "json", no_argument, NULL, OPT_JSON },
        { "owner", required_argument, NULL, OPT_OWNER },
        { "type", required_argument, NULL, OPT_TYPE },
        { "parent", required_argument, NULL, OPT_PARENT },
        { "min-resolution", required_argument, NULL, OPT_MINRES },
        { "count", required_argument, NULL, OPT_COUNT },
        { "pid", required_argument, NULL, OPT_PID },
        { "stage", required_argument, NULL, OPT_STAGE },
        { "uuid", required_argument, NULL, OPT_UUID },
        { "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, OPT_VERSION },
        { "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
        { NULL, 0, NULL, 0 },
};

/* One option into o; 0, or an exit code for a usage error. */
static int
take_option (void *opaque, int c, const char *arg, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;

        switch (c) {
        case OPT_SYSFS: return vgpu_roots_set (&o->roots, "sysfs", arg, err) < 0 ? 2 : 0;
        case OPT_DEV: return vgpu_roots_set (&o->roots, "dev", arg, err) < 0 ? 2 : 0;
        case OPT_STATE: return vgpu_roots_set (&o->roots, "state", arg, err) < 0 ? 2 : 0;
        case OPT_NO_SANDBOX: o->no_sandbox = true; return 0;
        case OPT_JSON: o->json = true; return 0;
        case OPT_OWNER: o->owner = arg; return 0;
        case OPT_TYPE: o->type = arg; return 0;
        case OPT_PARENT: o->parent = arg; return 0;
        case OPT_STAGE: o->stage = arg; return 0;
        case OPT_UUID: o->uuid = arg; return 0;
        case OPT_COUNT: return vgpu_cli_number (PROG, "count", arg, VGPU_ALLOC_MAX, &o->count);
        case OPT_PID: return vgpu_cli_number (PROG, "pid", arg, 4194304, &o->pid);
        case OPT_TIMEOUT: return vgpu_cli_number (PROG, "timeout-ms", arg, 3600000, &o->timeout_ms);
        case OPT_MINRES:
                if (vgpu_parse_resolution (arg, &o->min_w, &o->min_h) < 0) {
                        fprintf (stderr, PROG ": --min-resolution \"%.64s\" is not WIDTHxHEIGHT\n", arg);
                        return 2;
                }
                return 0;
        default: return 2;
        }
}

/* types and list only read; the others make and remove mdevs. */
static vgpu_sandbox_profile_t
sandbox_profile (const command_t *c)
{
        return c->run == run_types || c->run == run_list ? VGPU_SANDBOX_VGPUCTL_READ : VGPU_SANDBOX_VGPUCTL_WRITE;
}

static const vgpu_cli_t cli = {
        .prog = PROG,
        .options = long_opts,
        .first_command_opt = OPT_JSON,
        .version_opt = OPT_VERSION,
        .commands = commands,
        .n_commands = ARRAY_SIZE (commands),
        .help = print_help,
        .take = take_option,
};

/* Combinations getopt cannot see: usage errors before anything runs. */
static int
check_options (const command_t *cmd, const cmd_opts_t *o)
{
        if (cmd->run == run_allocate && (!o->owner || !o->type))
                return vgpu_cli_usage_error (PROG, "this command needs --owner and --type:", cmd->name);
        if (cmd->run == run_release && !!o->owner == !!o->uuid)
                return vgpu_cli_usage_error (PROG, "this command needs exactly one of --owner and --uuid:", cmd->name);
        return 0;
}

int
main (int argc, char **argv)
{
        vgpu_error_t err = { 0 };
        cmd_opts_t o = { 0 };
        const command_t *cmd = NULL;
        int r;

        if (vgpu_roots_init (&o.roots, &err) < 0) {
                vgpu_error_print (PROG, &err);
                return 2;
        }
        r = vgpu_cli_parse (&cli, argc, argv, &o, &cmd, &err);
        if (r == 0)
                r = check_options (cmd, &o);
        if (r)
                return r;
        if (!o.no_sandbox && vgpu_sandbox_enter (sandbox_profile (cmd), &err) < 0) {
                vgpu_error_print (PROG, &err);
                return 1;
        }
        r = cmd->run (&o, &err);
        if (r < 0) {
                vgpu_error_print (PROG, &err);
                return 1;
        }
        return 0;
}
