/* vgpu-sim: a FUSE filesystem that behaves like the Linux kernel's mdev
 * sysfs for an Intel GVT-g GPU and its PCI sysfs for an SR-IOV PF (kernel
 * 6.1), plus real VFIO char nodes in a plain dev directory beside it. It is the test bed of vgpu-toolkit and the
 * README demo's stand-in for a GPU.
 *
 *   vgpu-sim [--config FILE] --dev DIR [-f|--foreground] [--pidfile F] MOUNTPOINT
 *
 * Without --config the table is the seed GPU: parent 0000:00:02.0 with
 * i915-GVTg_V5_{1,2,4,8} sharing 640 MB low GM, 2816 MB high GM and 28
 * fences (1/2/5/7 instances). Fault injection: <MOUNTPOINT>/.sim/control.
 *
 * Config format: one keyword and its arguments a line; '#' starts a comment
 * line. Keywords apply to the latest `parent` (and `type`).
 *
 *   parent NAME PATH    a parent device: class/mdev_bus/NAME links to
 *                       devices/PATH (pci0000:00/0000:00:02.0, virtual/mtty/mtty)
 *   driver NAME         mdev driver of its devices (default vfio_mdev)
 *   budget N [N [N]]    resources the parent shares among its types
 *   exhausted ERRNO     errno of a create that does not fit: ENOSPC for
 *                       get_available drivers (GVT-g, mtty, default), EUSERS
 *                       for max_instances drivers (mdpy)
 *   cdev on|off         give devices vfio-dev/vfioN/dev and a node
 *                       DEV/vfio/devices/vfioN (kernel 6.1 has none: off)
 *   name-attr on|off    whether its types have a `name` file (default on;
 *                       off: GVT-g on kernels whose i915 gave types none)
 *   type ID             a type: mdev_supported_types/ID
 *   name TEXT           content of `name` (default ID)
 *   description TEXT    content of `description`, \n for newlines; no
 *                       `description` line means no description file
 *   device_api TEXT     default vfio-pci
 *   cost N [N [N]]      resources one instance takes (default 1); available
 *                       instances = min over used resources of left / cost
 *   gvt-type ID LOW_MB HIGH_MB FENCES WEIGHT WxH
 *                       shorthand for a GVT-g type: name ID without "i915-",
 *                       cost LOW HIGH FENCES, description as i915 shows it
 *
 *   pf ADDR PATH        an SR-IOV PF: devices/PATH (ending in ADDR), bus/pci/devices/ADDR;
 *                       the keywords below apply to the latest pf
 *   driver NAME         the PF's driver (default i915), bound at start; its id table
 *                       also matches the VFs
 *   vendor|device|class 0xHEX   (defaults 0x8086, 0x4680, 0x030000)
 *   totalvfs N, vf-offset N, vf-stride N   (defaults 7, 1, 1)
 *   vf-device 0xHEX     the VFs' device id (default the PF's)
 *   numvfs N            VFs enabled at start (default 0)
 *   autoprobe on|off    sriov_drivers_autoprobe at start (default on)
 *   cdev on|off         VFs bound to vfio-pci get vfio-dev/vfioK/dev and a node
 *   vfio-pci on|off     (anywhere) whether vfio-pci is loaded (default on)
 */

#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct options {
        const char *config;
        const char *dev;
        const char *mountpoint;
        char *pidfile;
        bool foreground;
        bool debug;
};

static void
usage (void)
{
        printf ("Usage: vgpu-sim [--config FILE] --dev DIR [-f|--foreground] [--pidfile FILE] MOUNTPOINT\n"
                "Simulate the kernel's mdev sysfs for an Intel GVT-g GPU and its PCI sysfs for\n"
                "SR-IOV PFs at MOUNTPOINT (FUSE),\n"
                "with VFIO char nodes under DIR/vfio.\n\n"
                "  --config FILE   GPU table (default: the seed GPU 0000:00:02.0)\n"
                "  --dev DIR       directory for vfio/vfio, vfio/N (must exist)\n"
                "  -f, --foreground  do not daemonize\n"
                "  --pidfile FILE  write the simulator's pid there once mounted\n"
                "  -d, --debug     FUSE debug output (implies --foreground)\n"
                "  -h, --help      this text\n\n"
                "Fault injection: write to MOUNTPOINT/.sim/control, one command a line:\n"
                "  fail-create ERRNO [COUNT] | fail-create off\n"
                "  delay-create MS | delay-remove MS\n"
                "  block-remove UUID|all | unblock-remove UUID|all | blocked-view whole|kernel\n"
                "  hide-iommu-group on|off|UUID\n"
                "  block-unbind ADDR|all | unblock-unbind ADDR|all | fail-probe ERRNO [COUNT] | fail-probe off\n"
                "  reset\n");
}

/* The daemon chdirs to /, so a relative pidfile is made absolute first. */
static char *
absolute (const char *path)
{
        char cwd[PATH_MAX], *out;

        if (path[0] == '/' || getcwd (cwd, sizeof cwd) == NULL)
                return strdup (path);
        if (asprintf (&out, "%s/%s", cwd, path) < 0)
                return NULL;
        return out;
}

static int
parse_options (int argc, char **argv, struct options *o)
{
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "dev", required_argument, NULL, 'D' },
                { "foreground", no_argument, NULL, 'f' },
                { "pidfile", required_argument, NULL, 'p' },
                { "debug", no_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int c;

        opterr = 0; /* one line of our own instead of getopt's */
        while ((c = getopt_long (argc, argv, "fdh", longopts, NULL)) != -1) {
                switch (c) {
                case 'c': o->config = optarg; break;
                case 'D': o->dev = optarg; break;
                case 'f': o->foreground = true; break;
                case 'd': o->debug = o->foreground = true; break;
                case 'p':
                        free (o->pidfile);
                        o->pidfile = absolute (optarg);
                        break;
                case 'h': usage (); exit (0);
                default: fprintf (stderr, "vgpu-sim: bad option '%s' (see --help)\n", argv[optind - 1]); return -EINVAL;
                }
        }
        if (optind != argc - 1 || o->dev == NULL) {
                fprintf (stderr, "vgpu-sim: %s (see --help)\n",
                         o->dev == NULL ? "--dev DIR is required" : "one MOUNTPOINT is required");
                return -EINVAL;
        }
        o->mountpoint = argv[optind];
        return 0;
}

static int
setup (const struct options *o)
{
        struct sim_config cfg;
        char err[512] = "";
        struct stat st;
        int r;

        if (stat (o->mountpoint, &st) < 0 || !S_ISDIR (st.st_mode)) {
                fprintf (stderr, "vgpu-sim: mount point %s is not a directory\n", o->mountpoint);
                return -ENOTDIR;
        }
        r = o->config != NULL ? config_load_file (o->config, &cfg, err, sizeof err)
                              : config_load_default (&cfg, err, sizeof err);
        if (r < 0) {
                fprintf (stderr, "vgpu-sim: %s\n", err);
                return r;
        }
        sim.parents = cfg.parents;
        sim.pcis = cfg.pfs;
        sim.vfio_pci = cfg.vfio_pci;
        r = devnodes_init (o->dev, err, sizeof err);
        if (r < 0) {
                fprintf (stderr, "vgpu-sim: %s\n", err);
                return r;
        }
        r = mdev_build_tree ();
        if (r < 0) {
                fprintf (stderr, "vgpu-sim: %s: two parents share one path\n", o->config ? o->config : "config");
                return r;
        }
        r = pci_build_tree ();
        if (r < 0) {
                fprintf (stderr, "vgpu-sim: %s: a PF and an mdev parent share one path\n",
                         o->config ? o->config : "config");
                return r;
        }
        control_build_tree ();
        return 0;
}

int
main (int argc, char **argv)
{
        struct options o = { 0 };
        char *fargv[] = { argv[0], (char *) "-o",
                          (char *) "default_permissions,allow_other,fsname=vgpu-sim,subtype=vgpu-sim", (char *) "-d",
                          NULL };
        int r;

        if (parse_options (argc, argv, &o) < 0)
                return 2;
        umask (022);
        r = setup (&o);
        if (r == 0) {
                r = sim_fuse_main (o.debug ? 4 : 3, fargv, o.mountpoint, o.foreground, o.pidfile);
                if (r < 0)
                        fprintf (stderr, "vgpu-sim: cannot serve %s: %s\n", o.mountpoint, strerror (-r));
        }
        pthread_mutex_lock (&sim.lock);
        mdev_remove_all ();
        pci_remove_all ();
        pthread_mutex_unlock (&sim.lock);
        devnodes_fini ();
        tree_free ();
        config_free (sim.parents);
        if (o.pidfile != NULL && r == 0)
                unlink (o.pidfile);
        free (o.pidfile);
        return r < 0 ? 1 : 0;
}
