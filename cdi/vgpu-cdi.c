/* vgpu-cdi — the CDI spec generator of vgpu-toolkit.
 *
 * Parses arguments and calls the CDI library (cdi/); every path, JSON key
 * and output spelling lives there.  Exit 0 success, 1 failure (a stale spec
 * for `check`), 2 usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "cdi-claim.h"
#include "cdi-gen.h"
#include "cdi-pool.h"
#include "cdi-spec.h"
#include "cli.h"
#include "config.h"
#include "json.h"
#include "sandbox.h"
#include "util.h"

#define PROG "vgpu-cdi"
#define MAX_POOLS 16
#define STR_(x) #x
#define STR(x) STR_ (x)

typedef struct cmd_opts {
        vgpu_cdi_opts_t cdi;
        const char *output, *claim, *type, *parent;
        vgpu_cdi_pool_req_t pools[MAX_POOLS];
        const char *pool_args[MAX_POOLS];
        size_t n_pools;
        vgpu_cli_common_t common;
        bool adopt;
        unsigned min_w, min_h;
        unsigned long long count;
        char default_output[PATH_MAX];
} cmd_opts_t;

typedef vgpu_cli_command_t command_t;

static const char globals_help[] = "  --kind VENDOR/CLASS   CDI kind (default " VGPU_CDI_KIND ")\n"
                                   "  --spec-dir DIR        CDI spec directory (default " VGPU_CDI_SPEC_DIR ")\n";

static int
usage_error (const char *what, const char *arg)
{
        return vgpu_cli_usage_error (PROG, what, arg);
}

static int
run_generate (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        vgpu_cdi_mode_t mode = o->adopt ? VGPU_CDI_POOL_ADOPT : o->n_pools ? VGPU_CDI_POOL : VGPU_CDI_DYNAMIC;

        /* a type the host lacks is named with the flag that asked for it */
        for (size_t i = 0; i < o->n_pools; i++)
                if (vgpu_cdi_type_known (&o->cdi.roots, o->pools[i].type, NULL, err) < 0)
                        return vgpu_error_prefix (err, "--pool %s", o->pool_args[i]);
        return vgpu_cdi_generate (&o->cdi, mode, o->pools, o->n_pools, o->output, stdout, err);
}

static int
run_prepare (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        vgpu_selector_t sel = { .type = o->type, .parent = o->parent, .min_w = o->min_w, .min_h = o->min_h };

        if (vgpu_cdi_type_known (&o->cdi.roots, o->type, o->parent, err) < 0)
                return o->parent ? vgpu_error_prefix (err, "--type %s --parent %s", o->type, o->parent)
                                 : vgpu_error_prefix (err, "--type %s", o->type);
        return vgpu_cdi_prepare (&o->cdi, o->claim, &sel, o->count ? (unsigned) o->count : 1, stdout, err);
}

static int
run_unprepare (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        return vgpu_cdi_unprepare (&o->cdi, o->claim, err);
}

static int
run_list (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        return vgpu_cdi_list (o->output, stdout, err);
}

static int
run_check (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        return vgpu_cdi_check (&o->cdi, o->output, stdout, err);
}

static int
run_remove (void *opaque, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;
        return vgpu_cdi_remove (&o->cdi, o->output, err);
}

static const char generate_help[] =
        "  --output FILE|-       spec file (default DIR/VENDOR-CLASS.json in --spec-dir, and\n"
        "                        DIR/VENDOR-CLASS-pool.json for a pool), - for stdout\n"
        "  --hook-path PATH      vgpu-hook for dynamic devices (default " VGPU_HOOK_PATH ")\n"
        "  --pool TYPE=N         keep N mdevs of TYPE (or auto; vf: VFs) made for the spec; repeatable\n"
        "  --pool N --type TYPE  the same, the type given apart\n"
        "  --pool-from-existing  name the active mdevs no container or claim holds\n"
        "  --persist             with --pool: also write mdevctl definitions (start auto)\n"
        "  --mdevctl-dir DIR     mdevctl's definitions (default " VGPU_CDI_MDEVCTL_DIR ")\n";

static const char spec_help[] = "  --output FILE         the spec (default DIR/VENDOR-CLASS.json in --spec-dir)\n"
                                "  --claim ID            the claim's spec\n";

static const command_t commands[] = {
        { "generate",
          "[--output FILE|-] [--hook-path PATH] [--pool TYPE=N | --pool N --type TYPE]... [--pool-from-existing] "
          "[--persist] [--mdevctl-dir DIR]",
          "Write the CDI spec: a device per vGPU type and `auto`, or per pool mdev.\n"
          "Dynamic devices run vgpu-hook, which makes the mdev with the container; pool devices\n"
          "name a pre-made mdev, by its index and by its UUID.",
          "output hook-path pool type pool-from-existing persist mdevctl-dir", generate_help, run_generate },
        { "prepare", "--claim ID --type TYPE|auto [--parent P] [--min-resolution WxH] [--count N]",
          "Allocate a claim's mdevs and write its spec; prints the CDI device name (node agents, DRA).",
          "claim type parent min-resolution count",
          "  --claim ID            the claim\n"
          "  --type TYPE|auto      a type id, or auto\n"
          "  --parent P            only this parent\n"
          "  --min-resolution WxH  for auto: the smallest resolution (default 1920x1200)\n"
          "  --count N             how many mdevs (default 1)\n",
          run_prepare },
        { "unprepare", "--claim ID", "Remove a claim's spec and release its mdevs.", "claim",
          "  --claim ID            the claim\n", run_unprepare },
        { "list", "[--output FILE | --claim ID]", "Print the fully qualified device names of a spec.", "output claim",
          spec_help, run_list },
        { "check", "[--output FILE | --claim ID]", "Say whether a spec still matches the host; exit 1 when stale.",
          "output claim", spec_help, run_check },
        { "remove", "[--output FILE] [--mdevctl-dir DIR]",
          "Remove a spec and release the pool mdevs it names (with their mdevctl definitions).", "output mdevctl-dir",
          "  --output FILE         the spec (default DIR/VENDOR-CLASS.json in --spec-dir)\n"
          "  --mdevctl-dir DIR     mdevctl's definitions (default " VGPU_CDI_MDEVCTL_DIR ")\n",
          run_remove },
};

enum {
        OPT_KIND = VGPU_CLI_FIRST_OPT,
        OPT_SPEC_DIR,
        OPT_OUTPUT,
        OPT_HOOK,
        OPT_POOL,
        OPT_ADOPT,
        OPT_PERSIST,
        OPT_MDEVCTL,
        OPT_CLAIM,
        OPT_TYPE,
        OPT_PARENT,
        OPT_MINRES,
        OPT_COUNT,
};

static const struct option long_opts[] = {
        { "kind", required_argument, NULL, OPT_KIND },     { "spec-dir", required_argument, NULL, OPT_SPEC_DIR },
        { "output", required_argument, NULL, OPT_OUTPUT }, { "hook-path", required_argument, NULL, OPT_HOOK },
        { "pool", required_argument, NULL, OPT_POOL },     { "pool-from-existing", no_argument, NULL, OPT_ADOPT },
        { "persist", no_argument, NULL, OPT_PERSIST },     { "mdevctl-dir", required_argument, NULL, OPT_MDEVCTL },
        { "claim", required_argument, NULL, OPT_CLAIM },   { "type", required_argument, NULL, OPT_TYPE },
        { "parent", required_argument, NULL, OPT_PARENT }, { "min-resolution", required_argument, NULL, OPT_MINRES },
        { "count", required_argument, NULL, OPT_COUNT },   { NULL, 0, NULL, 0 },
};

static int
take_pool (cmd_opts_t *o, const char *arg)
{
        unsigned long long n;
        int r;

        if (o->n_pools == MAX_POOLS)
                return usage_error ("too many --pool options, at", arg);
        if (vgpu_parse_uint (arg, VGPU_CDI_POOL_MAX, &n) == 0 && n > 0) {
                /* `--pool N --type TYPE`: finish_options fills the type in */
                o->pools[o->n_pools] = (vgpu_cdi_pool_req_t) { .count = (unsigned) n };
                o->pool_args[o->n_pools++] = arg;
                return 0;
        }
        r = vgpu_cdi_pool_req_parse (arg, &o->pools[o->n_pools]);
        if (r == -ERANGE)
                return vgpu_cli_bad_value (PROG, "pool", arg, ": the count must be 1 to " STR (VGPU_CDI_POOL_MAX));
        if (r < 0)
                return vgpu_cli_bad_value (PROG, "pool", arg, " is not TYPE=COUNT (TYPE a type id or auto)");
        o->pool_args[o->n_pools++] = arg;
        return 0;
}

static int
path_option (const char *name, const char *arg, bool absolute, const char **ret)
{
        if (!*arg || (absolute && arg[0] != '/') || strlen (arg) >= PATH_MAX - NAME_MAX - 2)
                return vgpu_cli_bad_value (PROG, name, arg, absolute ? " is not an absolute path" : " is not a path");
        *ret = arg;
        return 0;
}

static int
output_option (cmd_opts_t *o, const char *arg)
{
        size_t len = strlen (arg);

        if (strcmp (arg, "-") == 0) {
                o->output = arg;
                return 0;
        }
        if (len < 6 || strcmp (arg + len - 5, ".json") != 0 || arg[len - 6] == '/')
                return vgpu_cli_bad_value (PROG, "output", arg,
                                           " is not a *.json file (all CDI reads, besides *.yaml)");
        return path_option ("output", arg, false, &o->output);
}

/* One option into o; 0, or an exit code for a usage error. */
static int
take_option (void *opaque, int c, const char *arg, vgpu_error_t *err)
{
        cmd_opts_t *o = opaque;

        switch (c) {
        case OPT_KIND:
                if (vgpu_cdi_kind_check (arg, err) < 0) {
                        char q[VGPU_QUOTE_BUF];

                        vgpu_error_prefix (err, "--kind \"%s\"", vgpu_quote (arg, strlen (arg), q));
                        return 2;
                }
                o->cdi.kind = arg;
                return 0;
        case OPT_SPEC_DIR: return path_option ("spec-dir", arg, false, &o->cdi.spec_dir);
        case OPT_OUTPUT: return output_option (o, arg);
        case OPT_HOOK: return path_option ("hook-path", arg, true, &o->cdi.hook_path);
        case OPT_MDEVCTL: return path_option ("mdevctl-dir", arg, false, &o->cdi.mdevctl_dir);
        case OPT_POOL: return take_pool (o, arg);
        case OPT_ADOPT: o->adopt = true; return 0;
        case OPT_PERSIST: o->cdi.persist = true; return 0;
        case OPT_CLAIM:
                if (!vgpu_cdi_claim_valid (arg))
                        return vgpu_cli_bad_value (PROG, "claim", arg,
                                                   " is not a claim id ([A-Za-z0-9][A-Za-z0-9_.-]*, at most " STR (
                                                           VGPU_CDI_CLAIM_MAX) " bytes, ending in a letter or digit)");
                o->claim = arg;
                return 0;
        case OPT_TYPE: o->type = arg; return 0;
        case OPT_PARENT: o->parent = arg; return 0;
        case OPT_COUNT: return vgpu_cli_number (PROG, "count", arg, VGPU_ALLOC_MAX, &o->count);
        case OPT_MINRES:
                if (vgpu_parse_resolution (arg, &o->min_w, &o->min_h) < 0)
                        return vgpu_cli_bad_value (PROG, "min-resolution", arg, " is not WIDTHxHEIGHT");
                return 0;
        default: return 2;
        }
}

/* Combinations getopt cannot see; fills the defaults. */
static int
finish_options (const command_t *cmd, cmd_opts_t *o, vgpu_error_t *err)
{
        const char *name = cmd->name;

        if (o->n_pools && o->adopt)
                return usage_error ("--pool and --pool-from-existing exclude each other, in", name);
        for (size_t i = 0; i < o->n_pools; i++) {
                if (o->pools[i].type[0])
                        continue;
                if (!o->type)
                        return usage_error ("--pool N needs --type TYPE, at --pool", o->pool_args[i]);
                if (strcmp (o->type, "auto") != 0 && !vgpu_name_valid (o->type))
                        return usage_error ("--type is not a type id or auto:", o->type);
                vgpu_copy (o->pools[i].type, sizeof o->pools[i].type, o->type);
        }
        if (!strcmp (name, "generate") && o->type && !o->n_pools)
                return usage_error ("--type of generate goes with --pool N, in", name);
        if (o->cdi.persist && !o->n_pools)
                return usage_error ("--persist needs --pool, in", name);
        if ((!strcmp (name, "prepare") || !strcmp (name, "unprepare")) && !o->claim)
                return usage_error ("this command needs --claim:", name);
        if (!strcmp (name, "prepare") && !o->type)
                return usage_error ("this command needs --type:", name);
        if (o->claim && o->output)
                return usage_error ("--claim and --output exclude each other, in", name);
        if (o->output && strcmp (o->output, "-") == 0 && cmd->run != run_generate)
                return usage_error ("--output - (stdout) is for generate only, not", name);
        if (o->claim && (!strcmp (name, "list") || !strcmp (name, "check"))) {
                if (vgpu_cdi_claim_path (&o->cdi, o->claim, o->default_output, sizeof o->default_output, err) < 0)
                        return 1;
                o->output = o->default_output;
        }
        if (!o->output) {
                bool pool = cmd->run == run_generate && (o->n_pools || o->adopt);
                char file[NAME_MAX + 1];

                if ((pool ? vgpu_cdi_pool_file_name (o->cdi.kind, file, sizeof file, err)
                          : vgpu_cdi_file_name (o->cdi.kind, NULL, file, sizeof file, err)) < 0)
                        return 1;
                snprintf (o->default_output, sizeof o->default_output, "%s/%s", o->cdi.spec_dir, file);
                o->output = o->default_output;
        }
        return 0;
}

/* list and check only read; generate/remove and prepare/unprepare make and
 * release mdevs and write specs. */
static vgpu_sandbox_profile_t
sandbox_profile (const command_t *c)
{
        if (c->run == run_list || c->run == run_check)
                return VGPU_SANDBOX_CDI_READ;
        return c->run == run_prepare || c->run == run_unprepare ? VGPU_SANDBOX_CDI_PREPARE : VGPU_SANDBOX_CDI_GENERATE;
}

static const vgpu_cli_t cli = {
        .prog = PROG,
        .usage = "[OPTIONS] COMMAND [ARGS]",
        .summary = "CDI specs that give containers Intel GVT-g vGPUs.",
        .command_word = "command",
        .options = long_opts,
        .globals = "kind spec-dir",
        .globals_help = globals_help,
        .commands = commands,
        .n_commands = ARRAY_SIZE (commands),
        .take = take_option,
};

int
main (int argc, char **argv)
{
        vgpu_error_t err = { 0 };
        cmd_opts_t o = { .cdi = { .kind = VGPU_CDI_KIND,
                                  .hook_path = VGPU_HOOK_PATH,
                                  .spec_dir = VGPU_CDI_SPEC_DIR,
                                  .mdevctl_dir = VGPU_CDI_MDEVCTL_DIR } };
        const command_t *cmd = NULL;
        int r;

        r = vgpu_cli_parse (&cli, argc, argv, &o, &o.common, &cmd, &err);
        if (r)
                return r;
        o.cdi.roots = o.common.roots;
        r = finish_options (cmd, &o, &err);
        if (r == 0 && !o.common.no_sandbox && vgpu_sandbox_enter (sandbox_profile (cmd), &err) < 0)
                r = 1;
        else if (r == 0)
                r = cmd->run (&o, &err) < 0 ? 1 : 0;
        if (r == 1)
                vgpu_error_print (PROG, &err);
        return r;
}
