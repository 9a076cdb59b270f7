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
#include "doctor.h"
#include "libvirt.h"
#include "mdevctl.h"
#include "release.h"
#include "report.h"
#include "pci.h"
#include "sandbox.h"
#include "stage.h"
#include "util.h"
#include "vfs.h"

#define PROG "vgpuctl"

typedef struct cmd_opts {
        vgpu_cli_common_t common;
        bool json, force, autostart;
        const char *owner, *type, *parent, *uuid, *stage, *mdevctl_dir;
        char uuid_buf[VGPU_NAME_MAX];
        bool uuid_is_addr; /* --uuid named a VF by its PCI address (release only) */
        bool sriov_enable;
        char pf[VGPU_PCI_ADDR_LEN + 1];
        unsigned long long numvfs;
        unsigned min_w, min_h;
        unsigned long long count, timeout_ms, pid, unbound_after;
        vgpu_libvirt_opts_t libvirt;
        vgpu_doctor_opts_t doctor;
        vgpu_doctor_cdi_t cdi; /* doctor: what vgpu-cdi check said, before the sandbox */
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

        r = vgpu_device_list (&o->common.roots, &mdevs, &n, err);
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
                                  .pid = (pid_t) o->pid,
                                  .uuid = o->uuid };
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

static int
run_doctor (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        _cleanup_free_ vgpu_finding_t *f = NULL;
        size_t n = 0;
        int r;

        r = vgpu_doctor_run (&o->doctor, &o->cdi, &f, &n, err);
        if (r < 0)
                return r;
        r = o->json ? vgpu_doctor_print_json (stdout, f, n) : vgpu_doctor_print (stdout, f, n);
        if (r < 0)
                return vgpu_error_set (err, -r, "out of memory");
        if (r > 0)
                return vgpu_error_set (err, EIO, "%d of %zu checks failed (see above)", r, n);
        return 0;
}

static int
run_define (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;

        return vgpu_mdevctl_define_mdev (&o->common.roots, o->mdevctl_dir, o->uuid, o->parent, o->type, o->autostart,
                                         err);
}

static int
run_undefine (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;

        return vgpu_mdevctl_undefine (o->mdevctl_dir, /* parent= */ NULL, o->uuid, err);
}

static int
run_sriov (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        unsigned timeout = o->timeout_ms ? (unsigned) o->timeout_ms : VGPU_SRIOV_TIMEOUT_MS;

        if (o->sriov_enable)
                return vgpu_vfs_enable (&o->common.roots, o->pf, (unsigned) o->numvfs, timeout, err);
        return vgpu_vfs_disable (&o->common.roots, o->pf, timeout, err);
}

/* sriov enable PF N | sriov disable PF; no other command takes arguments. */
static int
take_args (void *opaque, const command_t *cmd, int argc, char **argv)
{
        cmd_opts_t *o = opaque;
        vgpu_error_t e = { 0 };

        if (cmd->run != run_sriov)
                return argc ? vgpu_cli_usage_error (PROG, "unexpected argument", argv[0]) : 0;
        if (argc < 1 || (strcmp (argv[0], "enable") != 0 && strcmp (argv[0], "disable") != 0))
                return vgpu_cli_usage_error (PROG, "sriov wants enable PF N or disable PF, not",
                                             argc ? argv[0] : "nothing");
        o->sriov_enable = strcmp (argv[0], "enable") == 0;
        if (argc != (o->sriov_enable ? 3 : 2))
                return vgpu_cli_usage_error (PROG,
                                             o->sriov_enable ? "sriov enable wants PF N:" : "sriov disable wants PF:",
                                             argc > 1 ? argv[argc - 1] : argv[0]);
        if (vgpu_pci_addr_normalise (argv[1], "PF", o->pf, &e) < 0) {
                vgpu_error_print (PROG, &e);
                return 2;
        }
        return o->sriov_enable ? vgpu_cli_number (PROG, "N", argv[2], 255, &o->numvfs) : 0;
}

/* The XML of an mdev that is active, or defined for mdevctl to start. */
static int
run_libvirt_xml (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        vgpu_mdev_t m;

        if (vgpu_mdev_lookup (&o->common.roots, o->uuid, &m, NULL) < 0 &&
            vgpu_mdevctl_find (o->mdevctl_dir, o->uuid, NULL, NULL, NULL) < 0)
                return vgpu_error_set (err, ENOENT,
                                       "no mdev %s: it is neither active nor defined in %s (`vgpuctl allocate --uuid`, "
                                       "`vgpuctl define`)",
                                       o->uuid, o->mdevctl_dir);
        vgpu_copy (o->libvirt.uuid, sizeof o->libvirt.uuid, o->uuid);
        return vgpu_libvirt_xml (stdout, &o->libvirt, err);
}

static const char json_help[] = "  --json                JSON output (for node agents)\n";

static const command_t commands[] = {
        { "types", "[--json]",
          "List parents and types, mdev parents and SR-IOV PFs (type vf) alike (the layout of `mdevctl types`).",
          "json", json_help, run_types },
        { "list", "[--json]", "List active mdevs and VFs under vfio-pci with their owner in the ledger.", "json",
          json_help, run_list },
        { "allocate",
          "--owner ID --type TYPE|auto [--parent P] [--min-resolution WxH] [--count N | --uuid UUID] [--pid PID] "
          "[--stage NAME] [--json]",
          "Create mdevs for an owner through the ledger (node agents); prints their UUIDs.",
          "owner type parent min-resolution count uuid pid stage json",
          "  --owner ID            who holds the mdevs: a container id or another name\n"
          "                        ([A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 bytes)\n"
          "  --type TYPE|auto      a type id (see `vgpuctl types`), or auto: among the types\n"
          "                        that meet --min-resolution, the one with most instances left\n"
          "  --parent P            only this parent (a PCI address such as 0000:00:02.0)\n"
          "  --min-resolution WxH  for auto: the smallest resolution (default 1920x1200)\n"
          "  --count N             how many mdevs (default 1, at most 16)\n"
          "  --uuid UUID           the mdev's UUID (a libvirt domain names it); refused while\n"
          "                        any mdev or ledger record has it\n"
          "  --pid PID             the container's process: gc reclaims the mdevs once it is gone\n"
          "  --stage NAME          the stage written in the ledger record (default vgpuctl)\n"
          "  --json                print the allocation as JSON\n",
          run_allocate },
        { "release", "--owner ID | --uuid UUID|ADDR [--force] [--timeout-ms N]",
          "Give back an owner's vGPUs (or one the ledger owns): remove mdevs, unbind VFs; bounded wait.",
          "owner uuid force timeout-ms",
          "  --owner ID            every mdev and VF this container or vgpuctl owner holds\n"
          "  --uuid UUID|ADDR      one mdev (its UUID) or VF (its PCI address), which must be in\n"
          "                        the ledger\n"
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
        { "doctor", "[--json] [--hooks-dir DIR]... [--vgpu-cdi PATH] [--cdi-spec FILE]",
          "Check that this host can give containers vGPUs; says what to do (exit 1: a check failed).",
          "json hooks-dir vgpu-cdi cdi-spec",
          "  --json                the findings as JSON\n"
          "  --hooks-dir DIR       look for hooks.d files here (repeatable; default podman's,\n"
          "                        CRI-O's and vgpu-toolkit's directories)\n"
          "  --vgpu-cdi PATH       the vgpu-cdi that checks the spec (default " VGPU_CDI_PATH ")\n"
          "  --cdi-spec FILE       the CDI spec to check (default " VGPU_CDI_SPEC ")\n",
          run_doctor },
        { "define", "--uuid UUID [--parent P --type TYPE] [--auto] [--mdevctl-dir DIR]",
          "Make an mdev persistent for mdevctl (`mdevctl list -d` shows it; --auto: started at boot).",
          "uuid parent type auto mdevctl-dir",
          "  --uuid UUID           the mdev\n"
          "  --parent P            its parent, for an mdev that is not active\n"
          "  --type TYPE           its type, for an mdev that is not active\n"
          "  --auto                mdevctl starts it at boot (start auto; default manual)\n"
          "  --mdevctl-dir DIR     mdevctl's definitions (default " VGPU_MDEVCTL_DIR ")\n",
          run_define },
        { "undefine", "--uuid UUID [--mdevctl-dir DIR]", "Remove an mdev's mdevctl definition (the mdev stays).",
          "uuid mdevctl-dir",
          "  --uuid UUID           the mdev\n"
          "  --mdevctl-dir DIR     mdevctl's definitions (default " VGPU_MDEVCTL_DIR ")\n",
          run_undefine },
        { "libvirt-xml", "--uuid UUID [--display on|off] [--ramfb on|off] [--domain] [--mdevctl-dir DIR]",
          "Print the libvirt <hostdev> of an mdev (--domain: a whole domain with it).",
          "uuid display ramfb domain mdevctl-dir",
          "  --uuid UUID           an active mdev, or one defined for mdevctl\n"
          "  --display on|off      the vGPU is the guest's display (default on)\n"
          "  --ramfb on|off        a ramfb display until the guest's driver loads (default on;\n"
          "                        needs --display on)\n"
          "  --domain              a whole <domain> with the hostdev and <video><model type=\"none\"/>\n"
          "  --mdevctl-dir DIR     mdevctl's definitions (default " VGPU_MDEVCTL_DIR ")\n",
          run_libvirt_xml },
        { "sriov", "enable PF N | disable PF [--timeout-ms N]",
          "Enable N VFs on an SR-IOV PF, or disable them (refused while any is held).", "timeout-ms",
          "  enable PF N           write N to the PF's sriov_numvfs (1 to its sriov_totalvfs; the\n"
          "                        kernel wants 0 first: disable a PF that has VFs)\n"
          "  disable PF            write 0; refused while the ledger holds one of its VFs or one\n"
          "                        is under vfio-pci for someone else\n"
          "  --timeout-ms N        bound on the kernel's write (default 10000)\n",
          run_sriov },
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
        OPT_HOOKS_DIR,
        OPT_VGPU_CDI,
        OPT_CDI_SPEC,
        OPT_AUTO,
        OPT_MDEVCTL,
        OPT_DISPLAY,
        OPT_RAMFB,
        OPT_DOMAIN,
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
        { "hooks-dir", required_argument, NULL, OPT_HOOKS_DIR },
        { "vgpu-cdi", required_argument, NULL, OPT_VGPU_CDI },
        { "cdi-spec", required_argument, NULL, OPT_CDI_SPEC },
        { "auto", no_argument, NULL, OPT_AUTO },
        { "mdevctl-dir", required_argument, NULL, OPT_MDEVCTL },
        { "display", required_argument, NULL, OPT_DISPLAY },
        { "ramfb", required_argument, NULL, OPT_RAMFB },
        { "domain", no_argument, NULL, OPT_DOMAIN },
        { NULL, 0, NULL, 0 },
};

static int
on_off (const char *name, const char *arg, bool *ret)
{
        if (strcmp (arg, "on") != 0 && strcmp (arg, "off") != 0) {
                fprintf (stderr, PROG ": --%s \"%.64s\" is not on or off\n", name, arg);
                return 2;
        }
        *ret = strcmp (arg, "on") == 0;
        return 0;
}

static int
path_option (const char *name, const char *arg, const char **ret)
{
        if (arg[0] != '/' || strlen (arg) >= PATH_MAX - NAME_MAX - 2) {
                fprintf (stderr, PROG ": --%s \"%.64s\" is not an absolute path\n", name, arg);
                return 2;
        }
        *ret = arg;
        return 0;
}

static int
uuid_option (cmd_opts_t *o, const char *arg)
{
        char addr[VGPU_PCI_ADDR_LEN + 1];

        if (vgpu_pci_addr_normalise (arg, "--uuid", addr, NULL) == 0) {
                vgpu_copy (o->uuid_buf, sizeof o->uuid_buf, addr);
                o->uuid_is_addr = true;
        } else if (vgpu_uuid_valid (arg)) {
                vgpu_copy (o->uuid_buf, sizeof o->uuid_buf, arg);
                vgpu_uuid_lower (o->uuid_buf);
        } else {
                fprintf (stderr, PROG ": --uuid \"%.64s\" is not a UUID\n", arg);
                return 2;
        }
        o->uuid = o->uuid_buf;
        return 0;
}

static int
hooks_dir_option (cmd_opts_t *o, const char *arg)
{
        if (o->doctor.n_hooks_dirs == VGPU_DOCTOR_MAX_HOOKS_DIRS)
                return vgpu_cli_usage_error (PROG, "too many --hooks-dir options, at", arg);
        return path_option ("hooks-dir", arg, &o->doctor.hooks_dirs[o->doctor.n_hooks_dirs++]);
}

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
        case OPT_UUID: return uuid_option (o, arg);
        case OPT_HOOKS_DIR: return hooks_dir_option (o, arg);
        case OPT_VGPU_CDI: return path_option ("vgpu-cdi", arg, &o->doctor.vgpu_cdi);
        case OPT_CDI_SPEC: return path_option ("cdi-spec", arg, &o->doctor.cdi_spec);
        case OPT_MDEVCTL: return path_option ("mdevctl-dir", arg, &o->mdevctl_dir);
        case OPT_AUTO: o->autostart = true; return 0;
        case OPT_DISPLAY: return on_off ("display", arg, &o->libvirt.display);
        case OPT_RAMFB: return on_off ("ramfb", arg, &o->libvirt.ramfb);
        case OPT_DOMAIN: o->libvirt.domain = true; return 0;
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

/* types, list, doctor and libvirt-xml only read; the others make and
 * remove mdevs or write mdevctl's definitions; a forced release also reaches
 * into a running container. */
static vgpu_sandbox_profile_t
sandbox_profile (const command_t *c, const cmd_opts_t *o)
{
        if (c->run == run_types || c->run == run_list || c->run == run_doctor || c->run == run_libvirt_xml)
                return VGPU_SANDBOX_VGPUCTL_READ;
        return o->force ? VGPU_SANDBOX_VGPUCTL_FORCE : VGPU_SANDBOX_VGPUCTL_WRITE;
}

static const vgpu_cli_t cli = {
        .prog = PROG,
        .usage = "[OPTIONS] COMMAND [ARGS]",
        .summary = "Give containers Intel vGPUs (GVT-g mdevs, SR-IOV VFs): admin and node-agent CLI.",
        .command_word = "command",
        .options = long_opts,
        .commands = commands,
        .n_commands = ARRAY_SIZE (commands),
        .take = take_option,
        .take_args = take_args,
};

/* Combinations getopt cannot see: usage errors before anything runs. */
static int
check_options (const command_t *cmd, const cmd_opts_t *o)
{
        if (cmd->run == run_allocate && (!o->owner || !o->type))
                return vgpu_cli_usage_error (PROG, "this command needs --owner and --type:", cmd->name);
        if (cmd->run == run_release && !!o->owner == !!o->uuid)
                return vgpu_cli_usage_error (PROG, "this command needs exactly one of --owner and --uuid:", cmd->name);
        if (cmd->run == run_allocate && o->uuid && o->count > 1)
                return vgpu_cli_usage_error (PROG, "--uuid names one mdev, so no --count with it, in", cmd->name);
        if ((cmd->run == run_define || cmd->run == run_undefine || cmd->run == run_libvirt_xml) && !o->uuid)
                return vgpu_cli_usage_error (PROG, "this command needs --uuid:", cmd->name);
        if (o->uuid_is_addr && cmd->run != run_release)
                return vgpu_cli_usage_error (PROG, "--uuid takes a PCI address (a VF) only in release, not in",
                                             cmd->name);
        if (cmd->run == run_define && !o->parent != !o->type)
                return vgpu_cli_usage_error (PROG, "--parent and --type go together, in", cmd->name);
        if (cmd->run == run_libvirt_xml && o->libvirt.ramfb && !o->libvirt.display)
                return vgpu_cli_usage_error (PROG, "--ramfb on needs --display on, in", cmd->name);
        return 0;
}

int
main (int argc, char **argv)
{
        vgpu_error_t err = { 0 };
        cmd_opts_t o = { .mdevctl_dir = VGPU_MDEVCTL_DIR,
                         .libvirt = { .display = true, .ramfb = true },
                         .doctor = { .vgpu_cdi = VGPU_CDI_PATH, .cdi_spec = VGPU_CDI_SPEC } };
        const command_t *cmd = NULL;
        int r;

        r = vgpu_cli_parse (&cli, argc, argv, &o, &o.common, &cmd, &err);
        if (r == 0)
                r = check_options (cmd, &o);
        if (r)
                return r;
        o.doctor.roots = o.common.roots;
        if (cmd->run == run_doctor &&
            vgpu_doctor_cdi_run (o.doctor.vgpu_cdi, o.doctor.cdi_spec, &o.doctor.roots, &o.cdi, &err) < 0) {
                vgpu_error_print (PROG, &err);
                return 1;
        }
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
