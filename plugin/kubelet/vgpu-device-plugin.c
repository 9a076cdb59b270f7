/* vgpu-device-plugin — the kubelet device plugin of vgpu-toolkit.
 *
 *   vgpu-device-plugin [OPTIONS]
 *
 * Parses arguments through the command-line frame (plugin/cli.h: the three
 * roots, --no-sandbox, --help, --version), enters its sandbox, reads its
 * config file and runs the daemon (plugin/kubelet/daemon.h) in the
 * foreground; every event is one line on stderr.  Exit 0 after
 * SIGTERM/SIGINT, 1 failure, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "options.h"
#include "sandbox.h"
#include "util.h"

#define PROG "vgpu-device-plugin"
#define TEXT(x) #x
#define NUMBER(x) TEXT (x)
#define MAX_FLAGS 64

enum {
        OPT_PLUGIN_DIR = VGPU_CLI_FIRST_OPT,
        OPT_MODE,
        OPT_TYPE,
        OPT_RESOURCE,
        OPT_CDI_KIND,
        OPT_CDI_DIR,
        OPT_POOL_SIZE,
        OPT_MDEVCTL_DIR,
        OPT_SCAN,
        OPT_ADOPT,
        OPT_CONFIG,
};

/* The settings' names are options.h's keys, in flags and in the config file. */
static const struct option long_opts[] = {
        { "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR },
        { "mode", required_argument, NULL, OPT_MODE },
        { "type", required_argument, NULL, OPT_TYPE },
        { "resource", required_argument, NULL, OPT_RESOURCE },
        { "cdi-kind", required_argument, NULL, OPT_CDI_KIND },
        { "cdi-dir", required_argument, NULL, OPT_CDI_DIR },
        { "pool-size", required_argument, NULL, OPT_POOL_SIZE },
        { "mdevctl-dir", required_argument, NULL, OPT_MDEVCTL_DIR },
        { "scan-interval-ms", required_argument, NULL, OPT_SCAN },
        { "adopt", no_argument, NULL, OPT_ADOPT },
        { "config", required_argument, NULL, OPT_CONFIG },
        { NULL, 0, NULL, 0 },
};

typedef struct flags {
        vgpu_cli_common_t common;
        vgpu_kopts_t scratch; /* each flag is tried here as it comes: a bad value is a usage error */
        const char *key[MAX_FLAGS], *value[MAX_FLAGS];
        size_t n;
        const char *config;
} flags_t;

/* A setting is kept as key and value, to be applied over the config file. */
static int
take_option (void *opaque, int c, const char *arg, vgpu_error_t *err)
{
        flags_t *f = opaque;
        size_t i;

        if (c == OPT_CONFIG) {
                f->config = arg;
                return 0;
        }
        for (i = 0; long_opts[i].name && long_opts[i].val != c; i++)
                ;
        if (!long_opts[i].name)
                return 2;
        if (f->n == MAX_FLAGS) {
                vgpu_error_set (err, E2BIG, "more than %d options", MAX_FLAGS);
                return 2;
        }
        f->key[f->n] = long_opts[i].name;
        f->value[f->n] = c == OPT_ADOPT ? "true" : arg;
        if (vgpu_kopts_set (&f->scratch, f->key[f->n], f->value[f->n], err) < 0) {
                char msg[VGPU_ERROR_MAX];

                vgpu_copy (msg, sizeof msg, err->msg);
                vgpu_error_set (err, EINVAL, "--%s", msg); /* names the flag as given */
                return 2;
        }
        f->n++;
        return 0;
}

static const vgpu_cli_command_t serve = { "", "", "", "", NULL, NULL };

static const vgpu_cli_t cli = {
        .prog = PROG,
        .usage = "[OPTIONS]",
        .summary = "Offer Intel GVT-g vGPUs to the kubelet (device plugin API v1beta1) on\n"
                   "<plugin-dir>/vgpu-toolkit-<resource with / and . as ->.sock; runs in the foreground\n"
                   "and logs one line per event to stderr.  The config file takes the options' names as\n"
                   "keys; flags win.",
        .command_word = "command",
        .options = long_opts,
        .globals = "plugin-dir mode type resource cdi-kind cdi-dir pool-size mdevctl-dir scan-interval-ms adopt config",
        .globals_help =
                "  --plugin-dir DIR      the kubelet's device-plugin directory (default " VGPU_KUBELET_DIR ")\n"
                "  --mode dynamic|pool   dynamic: a device per instance a GPU holds, Allocate answers the\n"
                "                        CDI dynamic device; pool: a device per pre-made mdev (default dynamic)\n"
                "  --type TYPE|auto      the type each GPU offers (default auto, picked per GPU; vf: SR-IOV\n"
                "                        VFs of a PF)\n"
                "  --resource NAME       extended resource name (default " VGPU_KUBELET_RESOURCE ")\n"
                "  --cdi-kind VENDOR/CLASS  the CDI kind of vgpu-cdi's specs (default " VGPU_KUBELET_CDI_KIND ")\n"
                "  --cdi-dir DIR         where the runtime reads CDI specs (default " VGPU_KUBELET_CDI_DIR ")\n"
                "  --pool-size N|all     pool: mdevs made (VFs claimed) per GPU (default all, or 0 with --adopt)\n"
                "  --adopt               pool: also offer the mdevs of vgpu-cdi pool specs and of mdevctl\n"
                "                        definitions the ledger does not know\n"
                "  --mdevctl-dir DIR     mdevctl's definitions (default " VGPU_KUBELET_MDEVCTL_DIR ")\n"
                "  --scan-interval-ms N  how often GPUs and mdevs are read (default " NUMBER (
                        VGPU_KUBELET_SCAN_MS) ")\n"
                                              "  --config FILE         JSON object of these settings "
                                              "(default " VGPU_KUBELET_CONFIG ", if present)\n",
        .default_command = &serve,
        .take = take_option,
};

/* The config file (the default one only when present), then the flags;
 * the exit code when that fails: 1 for the file, 2 for settings that do not
 * go together. */
static int
configure (vgpu_kopts_t *o, const flags_t *f, vgpu_error_t *err)
{
        int r = vgpu_kopts_init (o, err);

        if (r == 0)
                r = vgpu_kopts_load (o, f->config ? f->config : VGPU_KUBELET_CONFIG, err);
        if (r == -ENOENT && !f->config)
                r = 0;
        for (size_t i = 0; r == 0 && i < f->n; i++)
                r = vgpu_kopts_set (o, f->key[i], f->value[i], err);
        if (r < 0)
                return 1;
        o->roots = f->common.roots;
        return vgpu_kopts_check (o, err) < 0 ? 2 : 0;
}

static void
log_line (void *data, const char *text)
{
        fprintf (stderr, PROG ": %s\n", text);
}

int
main (int argc, char **argv)
{
        static flags_t f;
        static vgpu_kopts_t o;
        const vgpu_klog_t log = { .line = log_line };
        const vgpu_cli_command_t *cmd = NULL;
        vgpu_error_t err = { 0 };
        int r;

        if (vgpu_kopts_init (&f.scratch, &err) < 0) {
                vgpu_error_print (PROG, &err);
                return 2;
        }
        r = vgpu_cli_parse (&cli, argc, argv, &f, &f.common, &cmd, &err);
        if (r)
                return r;
        if (!f.common.no_sandbox && vgpu_sandbox_enter (VGPU_SANDBOX_DEVICE_PLUGIN, &err) < 0) {
                vgpu_error_print (PROG, &err);
                return 1;
        }
        r = configure (&o, &f, &err);
        if (r == 0 && vgpu_kdaemon_run (&o, &log, &err) < 0)
                r = 1;
        if (r)
                vgpu_error_print (PROG, &err);
        return r;
}
