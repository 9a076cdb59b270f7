/* vfio-probe: what a VMM does first with a vGPU, run inside a container of the VM tier.
 *
 * Opens /dev/vfio/vfio and /dev/vfio/GROUP, walks the VFIO ioctls a VMM needs before it can
 * map a mediated device (API version, IOMMU extension, group viability, container, IOMMU
 * model, device fd, device info) and prints one line per step, so the guest script can check
 * each. Built static on the host: the container rootfs has no libc.
 *
 * Usage: vfio-probe [--hold SECONDS] GROUP|auto [DEVICE]
 *   auto takes the only numeric entry of /dev/vfio (what a container sees after injection);
 *   DEVICE is what GROUP_GET_DEVICE_FD takes: an mdev's UUID or a VF's PCI address; without it
 *   the device is the one named by env VGPU_MDEV_UUID (set by precreate and CDI).
 *   --hold keeps the device fd open that long after the last step: it makes mdev remove block.
 * Exit: 0 every step ok, 1 a step failed, 2 usage. A failed open prints `open PATH: ENAME`.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char *
errno_name (int e)
{
        switch (e) {
        case EPERM: return "EPERM";
        case ENOENT: return "ENOENT";
        case ENXIO: return "ENXIO";
        case ENODEV: return "ENODEV";
        case EBUSY: return "EBUSY";
        case EACCES: return "EACCES";
        case EINVAL: return "EINVAL";
        case ENOTTY: return "ENOTTY";
        default: return "E?";
        }
}

static int
fail (const char *what)
{
        int e = errno;
        printf ("vfio-probe: %s: %s (%s)\n", what, errno_name (e), strerror (e));
        return 1;
}

/* The group a container was given is the one numeric name in its /dev/vfio. */
static int
find_group (char *buf, size_t len)
{
        DIR *d = opendir ("/dev/vfio");
        struct dirent *de;
        int found = 0;

        if (d == NULL)
                return -1;
        while ((de = readdir (d)) != NULL)
                if (de->d_name[0] >= '0' && de->d_name[0] <= '9' &&
                    strspn (de->d_name, "0123456789") == strlen (de->d_name)) {
                        snprintf (buf, len, "%s", de->d_name);
                        found++;
                }
        closedir (d);
        return found == 1 ? 0 : -1;
}

static int
open_node (const char *path)
{
        int fd = open (path, O_RDWR | O_CLOEXEC);
        char what[300];

        if (fd < 0) {
                snprintf (what, sizeof what, "open %s", path);
                fail (what);
                return -1;
        }
        printf ("vfio-probe: open %s ok\n", path);
        return fd;
}

/* TYPE1v2 is what mdev's emulated IOMMU groups accept; no-IOMMU only when the kernel has it. */
static int
pick_iommu (int container)
{
        static const struct {
                int id;
                const char *name;
        } models[] = {
                { VFIO_TYPE1v2_IOMMU, "TYPE1v2" },
                { VFIO_TYPE1_IOMMU, "TYPE1" },
                { VFIO_NOIOMMU_IOMMU, "NOIOMMU" },
        };
        int chosen = -1;

        for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
                int r = ioctl (container, VFIO_CHECK_EXTENSION, models[i].id);
                printf ("vfio-probe: CHECK_EXTENSION %s = %d\n", models[i].name, r);
                if (r > 0 && chosen < 0)
                        chosen = models[i].id;
        }
        return chosen;
}

static int
probe_device (int group, const char *uuid)
{
        struct vfio_device_info info = { .argsz = sizeof info };
        int dev = ioctl (group, VFIO_GROUP_GET_DEVICE_FD, uuid);

        if (dev < 0) {
                fail ("GROUP_GET_DEVICE_FD");
                return -1;
        }
        printf ("vfio-probe: GROUP_GET_DEVICE_FD %s ok\n", uuid);
        if (ioctl (dev, VFIO_DEVICE_GET_INFO, &info) < 0) {
                fail ("DEVICE_GET_INFO");
                close (dev);
                return -1;
        }
        printf ("vfio-probe: DEVICE_GET_INFO flags=0x%x regions=%u irqs=%u%s ok\n", info.flags, info.num_regions,
                info.num_irqs, (info.flags & VFIO_DEVICE_FLAGS_PCI) ? " pci" : "");
        return dev;
}

static int
probe (const char *group_name, const char *uuid, unsigned hold)
{
        struct vfio_group_status status = { .argsz = sizeof status };
        char path[300];
        int container, group, model, dev;

        container = open_node ("/dev/vfio/vfio");
        if (container < 0)
                return 1;
        snprintf (path, sizeof path, "/dev/vfio/%s", group_name);
        group = open_node (path);
        if (group < 0)
                return 1;
        printf ("vfio-probe: GET_API_VERSION = %d\n", ioctl (container, VFIO_GET_API_VERSION));
        model = pick_iommu (container);
        if (ioctl (group, VFIO_GROUP_GET_STATUS, &status) < 0)
                return fail ("GROUP_GET_STATUS");
        printf ("vfio-probe: GROUP_GET_STATUS flags=0x%x %s\n", status.flags,
                (status.flags & VFIO_GROUP_FLAGS_VIABLE) ? "viable" : "not-viable");
        if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
                return 1;
        if (ioctl (group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
                return fail ("GROUP_SET_CONTAINER");
        printf ("vfio-probe: GROUP_SET_CONTAINER ok\n");
        if (model < 0 || ioctl (container, VFIO_SET_IOMMU, model) < 0)
                return fail ("SET_IOMMU");
        printf ("vfio-probe: SET_IOMMU %d ok\n", model);
        dev = probe_device (group, uuid);
        if (dev < 0)
                return 1;
        if (hold > 0) {
                printf ("vfio-probe: holding device fd for %u s\n", hold);
                fflush (stdout);
                sleep (hold);
        }
        printf ("vfio-probe: all ok\n");
        return 0;
}

int
main (int argc, char **argv)
{
        char group[256];
        const char *uuid;
        unsigned hold = 0;
        int i = 1;

        setvbuf (stdout, NULL, _IOLBF, 0);
        if (argc > 2 && strcmp (argv[1], "--hold") == 0) {
                hold = (unsigned) strtoul (argv[2], NULL, 10);
                i = 3;
        }
        uuid = argc - i == 2 ? argv[i + 1] : getenv ("VGPU_MDEV_UUID");
        if (argc - i < 1 || argc - i > 2 || uuid == NULL) {
                fprintf (stderr, "usage: vfio-probe [--hold SECONDS] GROUP|auto [DEVICE]\n"
                                 "       (DEVICE: an mdev UUID or a PCI address; default env VGPU_MDEV_UUID)\n");
                return 2;
        }
        if (strcmp (argv[i], "auto") != 0)
                snprintf (group, sizeof group, "%s", argv[i]);
        else if (find_group (group, sizeof group) < 0) {
                printf ("vfio-probe: no single group in /dev/vfio\n");
                return 1;
        }
        printf ("vfio-probe: group %s device %s\n", group, uuid);
        return probe (group, uuid, hold);
}
