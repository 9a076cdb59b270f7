/* vgpu-device-plugin — the kubelet device plugin of vgpu-toolkit.
 *
 * Parses arguments, enters its sandbox, reads its config file and runs the
 * daemon (plugin/kubelet/daemon.h) in the foreground; every event is one
 * line on stderr.  Exit 0 after SIGTERM/SIGINT, 1 failure, 2 usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "options.h"
#include "sandbox.h"
#include "util.h"

#define PROG "vgpu-device-plugin"
#define MAX_FLAGS 64

static void
usage (FILE *out)
{
        fprintf (out,
                 "Usage: " PROG " [OPTIONS]\n\n"
                 "Offer Intel GVT-g vGPUs to the kubelet (device plugin API v1beta1); runs in the foreground\n"
                 "and logs one line per event to stderr.\n\n"
                 "Options (the config file takes the same names as keys, flags win):\n"
                 "  --plugin-dir DIR        the kubelet's device-plugin directory (default " VGPU_KUBELET_DIR ")\n"
                 "  --mode dynamic|pool     dynamic: a device per instance a GPU holds, Allocate answers the\n"
                 "                          CDI dynamic device; pool: a device per pre-made mdev (default dynamic)\n"
                 "  --type TYPE|auto        the mdev type each GPU offers (default auto, picked per GPU)\n"
                 "  --resource NAME         extended resource name (default " VGPU_KUBELET_RESOURCE ")\n"
                 "  --cdi-kind VENDOR/CLASS the CDI kind of vgpu-cdi's specs (default " VGPU_KUBELET_CDI_KIND ")\n"
                 "  --cdi-dir DIR           where the runtime reads CDI specs (default " VGPU_KUBELET_CDI_DIR ")\n"
                 "  --pool-size N|all       pool: mdevs made per GPU (default all, or 0 with --adopt)\n"
                 "  --adopt                 pool: also offer the mdevs of vgpu-cdi pool specs and of mdevctl\n"
                 "                          definitions the ledger does not know\n"
                 "  --mdevctl-dir DIR       mdevctl's definitions (default " VGPU_KUBELET_MDEVCTL_DIR ")\n"
                 "  --scan-interval-ms N    how often the GPUs and mdevs are read (default %d)\n"
                 "  --config FILE           JSON object of these settings (default " VGPU_KUBELET_CONFIG
                 ", if present)\n"
                 "  --sysfs-root DIR        sysfs root (env VGPU_SYSFS_ROOT, default /sys)\n"
                 "  --dev-root DIR          dev root (env VGPU_DEV_ROOT, default /dev)\n"
                 "  --state-dir DIR         ledger directory (env VGPU_STATE_DIR, default /run/vgpu-toolkit)\n"
                 "  --no-sandbox            debugging only: keep every privilege (README, Privileges)\n"
                 "  --version               print the version\n"
                 "  -h, --help              show this help\n\n"
                 "Its socket is <plugin-dir>/vgpu-toolkit-<resource with / and . as ->.sock.\n",
                 VGPU_KUBELET_SCAN_MS);
}

enum { OPT_CONFIG = 256, OPT_NO_SANDBOX, OPT_VERSION, OPT_ADOPT, OPT_SETTING };

static const struct option long_opts[] = {
        { "plugin-dir", required_argument, NULL, OPT_SETTING },
        { "mode", required_argument, NULL, OPT_SETTING },
        { "type", required_argument, NULL, OPT_SETTING },
        { "resource", required_argument, NULL, OPT_SETTING },
        { "cdi-kind", required_argument, NULL, OPT_SETTING },
        { "cdi-dir", required_argument, NULL, OPT_SETTING },
        { "pool-size", required_argument, NULL, OPT_SETTING },
        { "mdevctl-dir", required_argument, NULL, OPT_SETTING },
        { "scan-interval-ms", required_argument, NULL, OPT_SETTING },
        { "sysfs-root", required_argument, NULL, OPT_SETTING },
        { "dev-root", required_argument, NULL, OPT_SETTING },
        { "state-dir", required_argument, NULL, OPT_SETTING },
        { "adopt", no_argument, NULL, OPT_ADOPT },
        { "config", required_argument, NULL, OPT_CONFIG },
        { "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
        { "version", no_argument, NULL, OPT_VERSION },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
};

typedef struct flags {
        const char *key[MAX_FLAGS], *value[MAX_FLAGS];
        size_t n;
        const char *config;
        bool no_sandbox;
} flags_t;

/* Every flag is tried on a scratch copy here, so a bad value is a usage
 * error before anything runs; they are applied for real over the config
 * file later. */
static int
parse (int argc, char **argv, vgpu_kopts_t *scratch, flags_t *f)
{
        vgpu_error_t err = { 0 };
        int c, idx;

        opterr = 0;
        while ((c = getopt_long (argc, argv, "h", long_opts, &idx)) != -1) {
                switch (c) {
                case 'h': usage (stdout); exit (0);
                case OPT_VERSION: printf (PROG " %s\n", VGPU_VERSION); exit (0);
                case OPT_CONFIG: f->config = optarg; continue;
                case OPT_NO_SANDBOX: f->no_sandbox = true; continue;
                case OPT_ADOPT: f->key[f->n] = "adopt", f->value[f->n] = "true"; break;
                case OPT_SETTING: f->key[f->n] = long_opts[idx].name, f->value[f->n] = optarg; break;
                default:
                        fprintf (stderr,
                                 PROG ": unknown option or missing value in \"%.64s\" (see `" PROG " --help`)\n",
                                 argv[optind - 1]);
                        return 2;
                }
                if (vgpu_kopts_set (scratch, f->key[f->n], f->value[f->n], &err) < 0) {
                        fprintf (stderr, PROG ": --%s\n", err.msg);
                        return 2;
                }
                if (++f->n == MAX_FLAGS) {
                        fprintf (stderr, PROG ": more than %d options\n", MAX_FLAGS);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf (stderr, PROG ": unexpected argument \"%.64s\" (see `" PROG " --help`)\n", argv[optind]);
                return 2;
        }
        return 0;
}

/* The config file (the default one only when present), then the flags;
 * the exit code when that fails: 1 for the file, 2 for settings that do not
 * go together. */
static int
configure (vgpu_kopts_t *o, const flags_t *f, vgpu_error_t *err)
{
        int r = vgpu_kopts_load (o, f->config ? f->config : VGPU_KUBELET_CONFIG, err);

        if (r == -ENOENT && !f->config)
                r = 0;
        for (size_t i = 0; r == 0 && i < f->n; i++)
                r = vgpu_kopts_set (o, f->key[i], f->value[i], err);
        if (r < 0)
                return 1;
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
        static vgpu_kopts_t o, scratch;
        const vgpu_klog_t log = { .line = log_line };
        vgpu_error_t err = { 0 };
        flags_t f = { 0 };
        int r;

        if (vgpu_kopts_init (&o, &err) < 0 || vgpu_kopts_init (&scratch, &err) < 0) {
                vgpu_error_print (PROG, &err);
                return 2;
        }
        r = parse (argc, argv, &scratch, &f);
        if (r)
                return r;
        if (!f.no_sandbox && vgpu_sandbox_enter (VGPU_SANDBOX_DEVICE_PLUGIN, &err) < 0) {
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
