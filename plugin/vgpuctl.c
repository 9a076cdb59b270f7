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
#include "report.h"
#include "sandbox.h"
#include "stage.h"
#include "util.h"

#define PROG "vgpuctl"

typedef struct cmd_opts {
        vgpu_cli_common_t common;
        bool json, force;
        const char *owner, *type, *parent, *uuid, *stage;
        unsigned min_w, min_h;
        unsigned long long count, timeout_ms, pid, unbound_after;
} cmd_opts_t;

typedef vgpu_cli_command_t command_t;

static int
run_types (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        vgpu_host_t host;
        int r = vgpu_host_scan (&o->common.roots, &host, err);

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

        r = vgpu_mdev_list (&o->common.roots, &mdevs, &n, err);
        if (r == 0)
                r = vgpu_ledger_snapshot (&o->common.roots, &recs, &n_recs, err);
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
        vgpu_owner_info_t who = { .owner = { .kind = VGPU_OWNER_VGPUCTL },
                                  .stage = o->stage ? o->stage : vgpu_stage_name (VGPU_STAGE_VGPUCTL),
                                  .pid = (pid_t) o->pid };
        vgpu_mdev_t mdevs[VGPU_ALLOC_MAX];
        size_t n = 0;
        int r;

        vgpu_copy (who.owner.id, sizeof who.owner.id, o->owner);
        r = vgpu_allocate (&o->common.roots, &sel, &who, o->count ? o->count : 1, mdevs, &n, NULL, err);
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
        vgpu_release_mode_t mode = o->force ? VGPU_RELEASE_FORCE : VGPU_RELEASE_ADMIN;
        vgpu_owner_t owner = { .kind = VGPU_OWNER_BY_NAME };

        if (o->uuid)
                return vgpu_release_uuid (&o->common.roots, o->uuid, mode, timeout, err);
        vgpu_copy (owner.id, sizeof owner.id, o->owner);
        return vgpu_release_owner (&o->common.roots, &owner, mode, timeout, NULL, err);
}

static int
run_gc (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        _cleanup_free_ vgpu_gc_action_t *acts = NULL;
        size_t n = 0;
        int r;

        r = vgpu_gc (&o->common.roots, o->timeout_ms ? (unsigned) o->timeout_ms : VGPU_RELEASE_TIMEOUT_MS,
                     (unsigned) o->unbound_after, &acts, &n, err);
        if (r < 0)
                return r;
        if (vgpu_report_gc (stdout, acts, n) > 0)
                return vgpu_error_set (err, EBUSY, "gc could not reclaim every allocation (see above)");
        return 0;
}

static const char json_help[] = "  --json                JSON output (for node agents)\n";

static const command_t commands[] = {
        { "types", "[--json]", "List mdev parents and types (the layout of `mdevctl types`).", "json", json_help,
          run_types },
        { "list", "[--json]", "List active mdevs with their owner in the ledger.", "json", json_help, run_list },
        { "allocate",
          "--owner ID --type TYPE|auto [--parent P] [--min-resolution WxH] [--count N] [--pid PID] [--json]",
          "Create mdevs for an owner through the ledger (node agents); prints their UUIDs.",
          "owner type parent min-resolution count pid stage json",
          "  --owner ID            who holds the mdevs: a container id or another name\n"
          "                        ([A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 bytes)\n"
          "  --type TYPE|auto      a type id (see `vgpuctl types`), or auto: among the types\n"
          "                        that meet --min-resolution, the one with most instances left\n"
          "  --parent P            only this parent (a PCI address such as 0000:00:02.0)\n"
          "  --min-resolution WxH  for auto: the smallest resolution (default 1920x1200)\n"
          "  --count N             how many mdevs (default 1, at most 16)\n"
          "  --pid PID             the container's process: gc reclaims the mdevs once it is gone\n"
          "  --stage NAME          the stage written in the ledger record (default vgpuctl)\n"
          "  --json                print the allocation as JSON\n",
          run_allocate },
        { "release", "--owner ID | --uuid UUID [--force] [--timeout-ms N]",
          "Remove an owner's mdevs (or one mdev the ledger owns); bounded wait.", "owner uuid force timeout-ms",
          "  --owner ID            every mdev this container or vgpuctl owner holds\n"
          "  --uuid UUID           one mdev, which must be in the ledger\n"
          "  --force               also a running container's: its nodes and device cgroup access\n"
          "                        go first, so the group number never reaches it again\n"
          "  --timeout-ms N        bound on a remove the kernel blocks (default 5000)\n",
          run_release },
        { "gc", "[--timeout-ms N] [--unbound-after SECONDS]",
          "Reclaim allocations whose container is gone or never started, or whose release is pending.",
          "timeout-ms unbound-after",
          "  --timeout-ms N        bound on each remove the kernel blocks (default 5000)\n"
          "  --unbound-after S     a container allocation no stage bound to a pid within S seconds\n"
          "                        is one whose runtime create failed (default 120)\n",
          run_gc },
};

enum {
        OPT_JSON = VGPU_CLI_FIRST_OPT,
        OPT_OWNER,
        OPT_TYPE,
        OPT_PARENT,
        OPT_MINRES,
        OPT_COUNT,
        OPT_PID,
        OPT_STAGE,
        OPT_UUID,
        OPT_TIMEOUT,
        OPT_FORCE,
        OPT_UNBOUND_AFTER,
};

static const struct option long_opts[] = {
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
        { "force", no_argument, NULL, OPT_FORCE },
        { "unbound-after", required_argument, NULL, OPT_UNBOUND_AFTER },
        { NULL, 0, NULL, 0 },
};

/* One option into o; 0, or an exit code for a usage error. */
static int
take_option (void *opaque, int c, const char *arg, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;

        switch (c) {
        case OPT_JSON: o->json = true; return 0;
        case OPT_OWNER: o->owner = arg; return 0;
        case OPT_TYPE: o->type = arg; return 0;
        case OPT_PARENT: o->parent = arg; return 0;
        case OPT_STAGE: o->stage = arg; return 0;
        case OPT_UUID: o->uuid = arg; return 0;
        case OPT_COUNT: return vgpu_cli_number (PROG, "count", arg, VGPU_ALLOC_MAX, &o->count);
        case OPT_PID: return vgpu_cli_number (PROG, "pid", arg, 4194304, &o->pid);
        case OPT_TIMEOUT: return vgpu_cli_number (PROG, "timeout-ms", arg, 3600000, &o->timeout_ms);
        case OPT_FORCE: o->force = true; return 0;
        case OPT_UNBOUND_AFTER: return vgpu_cli_number (PROG, "unbound-after", arg, 86400, &o->unbound_after);
        case OPT_MINRES:
                if (vgpu_parse_resolution (arg, &o->min_w, &o->min_h) < 0)
                        return vgpu_cli_bad_value (PROG, "min-resolution", arg, " is not WIDTHxHEIGHT");
                return 0;
        default: return 2;
        }
}

/* types and list only read; the others make and remove mdevs; a forced
 * release also reaches into a running container. */
static vgpu_sandbox_profile_t
sandbox_profile (const command_t *c, const cmd_opts_t *o)
{
        if (c->run == run_types || c->run == run_list)
                return VGPU_SANDBOX_VGPUCTL_READ;
        return o->force ? VGPU_SANDBOX_VGPUCTL_FORCE : VGPU_SANDBOX_VGPUCTL_WRITE;
}

static const vgpu_cli_t cli = {
        .prog = PROG,
        .usage = "[OPTIONS] COMMAND [ARGS]",
        .summary = "Give containers Intel GVT-g vGPUs: admin and node-agent CLI.",
        .command_word = "command",
        .options = long_opts,
        .commands = commands,
        .n_commands = ARRAY_SIZE (commands),
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

        r = vgpu_cli_parse (&cli, argc, argv, &o, &o.common, &cmd, &err);
        if (r == 0)
                r = check_options (cmd, &o);
        if (r)
                return r;
        if (!o.common.no_sandbox && vgpu_sandbox_enter (sandbox_profile (cmd, &o), &err) < 0) {
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
