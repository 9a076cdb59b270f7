/* vgpu-sim: the real char nodes in the --dev directory.
 *
 * /dev/vfio/vfio is the misc 10:196 node; each group gets vfio/N with a
 * char major that no driver registered on this host, so open() of it
 * fails with ENXIO just as a VFIO group node would open (or EPERM where a
 * device cgroup forbids it, which the kernel checks first). This is a
 * plain directory, not part of the FUSE mount: runtimes mknod and bind
 * these like any /dev node. */

#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Reads the "Character devices:" part of /proc/devices into used[]. */
static int
read_char_majors (bool used[4096])
{
        FILE *f = fopen ("/proc/devices", "re");
        char line[256];
        bool in_char = false;

        if (f == NULL)
                return -errno;
        while (fgets (line, sizeof line, f) != NULL) {
                unsigned major;

                if (strncmp (line, "Character devices:", 18) == 0)
                        in_char = true;
                else if (strncmp (line, "Block devices:", 14) == 0)
                        in_char = false;
                else if (in_char && sscanf (line, "%u", &major) == 1 && major < 4096)
                        used[major] = true;
        }
        fclose (f);
        return 0;
}

/* The kernel hands out dynamic char majors from 254 down to 234, then
 * 511 down to 384. We take the lowest free ones of those ranges: the last
 * the kernel would give, so a module loaded later is unlikely to claim
 * them. The second major is for the vfio-dev cdevs. */
static int
pick_majors (void)
{
        static const unsigned ranges[][2] = { { 234, 254 }, { 384, 511 } };
        bool used[4096] = { false };
        unsigned found = 0;
        int r = read_char_majors (used);

        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof ranges / sizeof ranges[0] && found < 2; i++)
                for (unsigned m = ranges[i][0]; m <= ranges[i][1] && found < 2; m++)
                        if (!used[m]) {
                                *(found == 0 ? &sim.group_major : &sim.cdev_major) = m;
                                found++;
                        }
        return found == 2 ? 0 : -ENOSPC;
}

static int
make_node (const char *path, unsigned major, unsigned minor, mode_t mode)
{
        dev_t rdev = makedev (major, minor);

        if (mknodat (sim.dev_fd, path, S_IFCHR | mode, rdev) < 0) {
                if (errno != EEXIST)
                        return -errno;
                /* left over by a simulator that was killed: replace it */
                if (unlinkat (sim.dev_fd, path, 0) < 0 || mknodat (sim.dev_fd, path, S_IFCHR | mode, rdev) < 0)
                        return -errno;
        }
        /* mknod honours the umask; the kernel's nodes do not */
        return fchmodat (sim.dev_fd, path, mode, 0) < 0 ? -errno : 0;
}

int
devnodes_init (const char *dir, char *errbuf, size_t errlen)
{
        int r = pick_majors ();

        if (r < 0) {
                snprintf (errbuf, errlen, "no free char major in /proc/devices: %s", strerror (-r));
                return r;
        }
        sim.dev_fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (sim.dev_fd < 0) {
                r = -errno;
                snprintf (errbuf, errlen, "open %s: %s", dir, strerror (-r));
                return r;
        }
        if (mkdirat (sim.dev_fd, "vfio", 0755) < 0 && errno != EEXIST) {
                r = -errno;
                snprintf (errbuf, errlen, "mkdir %s/vfio: %s", dir, strerror (-r));
                return r;
        }
        r = make_node ("vfio/vfio", 10, 196, 0666);
        if (r < 0)
                snprintf (errbuf, errlen, "mknod %s/vfio/vfio: %s", dir, strerror (-r));
        return r;
}

int
devnodes_add_group (int group)
{
        char path[64];

        snprintf (path, sizeof path, "vfio/%d", group);
        return make_node (path, sim.group_major, (unsigned) group, 0600);
}

void
devnodes_del_group (int group)
{
        char path[64];

        snprintf (path, sizeof path, "vfio/%d", group);
        unlinkat (sim.dev_fd, path, 0);
}

int
devnodes_add_cdev (int index)
{
        char path[64];

        if (mkdirat (sim.dev_fd, "vfio/devices", 0755) < 0 && errno != EEXIST)
                return -errno;
        snprintf (path, sizeof path, "vfio/devices/vfio%d", index);
        return make_node (path, sim.cdev_major, (unsigned) index, 0600);
}

void
devnodes_del_cdev (int index)
{
        char path[64];

        snprintf (path, sizeof path, "vfio/devices/vfio%d", index);
        unlinkat (sim.dev_fd, path, 0);
}

/* Called after every device is gone: removes what init made, and the
 * directories if nothing else lives there. */
void
devnodes_fini (void)
{
        if (sim.dev_fd < 0)
                return;
        unlinkat (sim.dev_fd, "vfio/vfio", 0);
        unlinkat (sim.dev_fd, "vfio/devices", AT_REMOVEDIR);
        unlinkat (sim.dev_fd, "vfio", AT_REMOVEDIR);
        close (sim.dev_fd);
        sim.dev_fd = -1;
}
