/* vgpu-sim: mdev parents, types and devices, as drivers/vfio/mdev shows them.
 *
 * Owns the shared budget of each parent (available_instances of every type
 * is computed from what is left, as i915's GVT-g and mtty's get_available
 * do), the create/remove write semantics of kernel 6.1 (mdev_sysfs.c
 * create_store, remove_store), and the IOMMU group + VFIO group node that
 * appear with each device (groups.c). All functions run with sim.lock held. */

#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sim sim = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .cond = PTHREAD_COND_INITIALIZER,
        .dev_fd = -1,
};

static struct node *
dir_at (const char *dir, const char *name)
{
        char path[1024];

        snprintf (path, sizeof path, "%s/%s", dir, name);
        return node_mkdir_p (path);
}

/* min over the resources a type uses of (left / cost): the kernel's
 * intel_gvt_update_vgpu_types arithmetic, and mtty's ports / nr_ports. */
static unsigned
type_available (const struct sim_type *t)
{
        unsigned n = UINT_MAX;

        for (int r = 0; r < SIM_NRES; r++)
                if (t->cost[r] != 0 && t->parent->pool[r] / t->cost[r] < n)
                        n = t->parent->pool[r] / t->cost[r];
        return n == UINT_MAX ? 0 : n;
}

static size_t
available_show (void *ctx, char *buf)
{
        return (size_t) snprintf (buf, SIM_ATTR_SIZE, "%u\n", type_available (ctx));
}

/* lib/uuid.c:uuid_is_valid: 8-4-4-4-12 hex digits, either case. */
bool
uuid_text_valid (const char *s, size_t len)
{
        if (len < SIM_UUID_LEN)
                return false;
        for (int i = 0; i < SIM_UUID_LEN; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return false;
                } else if (!isxdigit ((unsigned char) s[i])) {
                        return false;
                }
        }
        return true;
}

struct sim_device *
mdev_find (const char *uuid)
{
        struct sim_device *d;

        for (d = sim.devices; d != NULL; d = d->next)
                if (strcmp (d->uuid, uuid) == 0)
                        return d;
        return NULL;
}

/* An IOMMU group of one device, as vfio gives an emulated-IOMMU mdev
 * (vfio_noiommu_group_alloc names it vfio-noiommu), with its VFIO side. */
static int
attach_group (struct sim_device *dev)
{
        int n = group_new (), r;

        if (n < 0)
                return n;
        r = vfio_group_add (n);
        if (r < 0) {
                group_free (n);
                return r;
        }
        iommu_group_add (n, dev->dir, dev->uuid, true);
        dev->group = n;
        dev->vfio_index = vfio_dev_add (dev->dir, dev->type->parent->cdev);
        return 0;
}

static void
detach_group (struct sim_device *dev)
{
        vfio_dev_del (dev->dir, dev->vfio_index, dev->type->parent->cdev);
        dev->vfio_index = -1;
        if (dev->group < 0)
                return;
        iommu_group_del (dev->group, dev->dir);
        vfio_group_del (dev->group);
        group_free (dev->group);
        dev->group = -1;
}

void
mdev_hide_group (struct sim_device *dev)
{
        detach_group (dev);
}

static void
destroy_device (struct sim_device *dev)
{
        struct sim_parent *par = dev->type->parent;
        struct sim_device **p;

        detach_group (dev);
        node_remove_child (dev->type->devices_dir, dev->uuid);
        node_remove_child (node_mkdir_p ("bus/mdev/devices"), dev->uuid);
        node_remove_child (dir_at ("bus/mdev/drivers", par->driver), dev->uuid);
        node_remove (dev->dir);
        for (int r = 0; r < SIM_NRES; r++)
                par->pool[r] += dev->type->cost[r];
        for (p = &sim.devices; *p != NULL; p = &(*p)->next)
                if (*p == dev) {
                        *p = dev->next;
                        break;
                }
        free (dev);
}

/* Waits on sim.cond (lock released) for at most 50 ms: blocked writers poll
 * their condition and sim.stopping around it. */
void
sim_wait_a_little (void)
{
        struct timespec ts;

        clock_gettime (CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait (&sim.cond, &sim.lock, &ts);
}

/* lib/kstrtox.c:kstrtoul (s, 0, &v) on the NUL-terminated copy kernfs
 * makes: optional '+', 0x/0 prefixes pick the base, one trailing newline. */
int
kstrtoul0 (const char *buf, size_t len, unsigned long *ret)
{
        char s[SIM_ATTR_SIZE + 1], *p, *end;
        int base = 10;

        memcpy (s, buf, len);
        s[len] = '\0';
        p = s[0] == '+' ? s + 1 : s;
        if (p[0] == '0')
                base = (tolower ((unsigned char) p[1]) == 'x' && isxdigit ((unsigned char) p[2])) ? 16 : 8;
        if (!isxdigit ((unsigned char) p[base == 16 ? 2 : 0]))
                return -EINVAL;
        errno = 0;
        *ret = strtoul (p, &end, base);
        if (errno != 0 || end == p)
                return -EINVAL;
        if (*end == '\n')
                end++;
        return *end == '\0' ? 0 : -EINVAL;
}

/* What kernel 6.1 has taken down when a remove blocks in the driver's
 * vfio_unregister_group_dev(), waiting for the device's fds to close:
 * remove_store's device_remove_file_self(), mdev_remove_sysfs_files(),
 * then device_del() up to __device_release_driver()'s driver_sysfs_remove().
 * The dir, iommu_group, vfio-dev, the group and its node stay, and the
 * budget is not given back yet. (From the source, not measured.) */
static void
unpublish_device (struct sim_device *dev)
{
        static const char *const gone[] = { "remove", "mdev_type", "driver", "subsystem", "uevent" };

        for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
                node_remove_child (dev->dir, gone[i]);
        node_remove_child (dev->type->devices_dir, dev->uuid);
        node_remove_child (node_mkdir_p ("bus/mdev/devices"), dev->uuid);
        node_remove_child (dir_at ("bus/mdev/drivers", dev->type->parent->driver), dev->uuid);
}

/* mdev_sysfs.c remove_store: "0" is a no-op, non-numbers are EINVAL. A
 * second writer while one remove is under way returns at once, as
 * device_remove_file_self() fails for it. While blocked the device stays
 * whole, or looks as the kernel leaves it with `blocked-view kernel`. */
static ssize_t
remove_store (void *ctx, const char *buf, size_t len)
{
        struct sim_device *dev = ctx;
        unsigned long val;

        if (kstrtoul0 (buf, len, &val) < 0)
                return -EINVAL;
        if (val == 0 || dev->removing)
                return (ssize_t) len;
        dev->removing = true;
        if (control_remove_blocked (dev->uuid) && sim.faults.kernel_view)
                unpublish_device (dev);
        while (control_remove_blocked (dev->uuid) && !sim.stopping)
                sim_wait_a_little ();
        destroy_device (dev);
        return (ssize_t) len;
}

static const struct attr_ops remove_ops = { .store = remove_store, .delay = DELAY_REMOVE };

static int
create_device (struct sim_type *t, const char *uuid)
{
        struct sim_parent *par = t->parent;
        struct node *drv = dir_at ("bus/mdev/drivers", par->driver);
        struct sim_device *dev = calloc (1, sizeof *dev);

        if (dev == NULL)
                return -ENOMEM;
        memcpy (dev->uuid, uuid, sizeof dev->uuid);
        dev->type = t;
        dev->group = dev->vfio_index = -1;
        dev->dir = node_mkdir (par->dir, uuid);
        node_add_link (dev->dir, "driver", drv);
        node_add_link (dev->dir, "mdev_type", t->devices_dir->parent);
        node_add_attr (dev->dir, "remove", &remove_ops, dev);
        node_add_link (dev->dir, "subsystem", node_mkdir_p ("bus/mdev"));
        node_add_text (dev->dir, "uevent", "DRIVER=%s\nMDEV_TYPE=%s\n", par->driver, t->id);
        dev->next = sim.devices;
        sim.devices = dev;
        node_add_link (t->devices_dir, uuid, dev->dir);
        node_add_link (node_mkdir_p ("bus/mdev/devices"), uuid, dev->dir);
        node_add_link (drv, uuid, dev->dir);
        for (int r = 0; r < SIM_NRES; r++)
                par->pool[r] -= t->cost[r];
        if (!sim.faults.hide_groups) {
                int err = attach_group (dev);

                if (err < 0) {
                        destroy_device (dev);
                        return err;
                }
        }
        return 0;
}

/* mdev_sysfs.c create_store + mdev_core.c mdev_device_create: length,
 * then guid_parse (which looks at 36 characters only), then duplicates on
 * any parent, then the parent's budget. */
static ssize_t
create_store (void *ctx, const char *buf, size_t len)
{
        struct sim_type *t = ctx;
        char uuid[SIM_UUID_LEN + 1];
        int err = control_take_create_fault ();

        if (err != 0)
                return -err;
        if (len < SIM_UUID_LEN || len > SIM_UUID_LEN + 1)
                return -EINVAL;
        if (memchr (buf, '\0', SIM_UUID_LEN) != NULL || !uuid_text_valid (buf, len))
                return -EINVAL;
        for (int i = 0; i < SIM_UUID_LEN; i++)
                uuid[i] = (char) tolower ((unsigned char) buf[i]);
        uuid[SIM_UUID_LEN] = '\0';
        if (mdev_find (uuid) != NULL)
                return -EEXIST;
        if (type_available (t) == 0)
                return -t->parent->exhausted_errno;
        err = create_device (t, uuid);
        return err < 0 ? err : (ssize_t) len;
}

static const struct attr_ops available_ops = { .show = available_show };
static const struct attr_ops create_ops = { .store = create_store, .delay = DELAY_CREATE };

static void
build_type (struct sim_type *t, struct node *types_dir)
{
        struct node *d = node_mkdir (types_dir, t->id);

        node_add_attr (d, "available_instances", &available_ops, t);
        node_add_attr (d, "create", &create_ops, t);
        if (t->description != NULL)
                node_add_text (d, "description", "%s\n", t->description);
        node_add_text (d, "device_api", "%s\n", t->device_api);
        t->devices_dir = node_mkdir (d, "devices");
        if (t->parent->name_attr)
                node_add_text (d, "name", "%s\n", t->name);
}

/* class/mdev_bus/NAME and the types, as mdev_register_parent makes them. */
static void
publish_parent (struct sim_parent *par)
{
        struct node *types;
        struct sim_type *t;

        node_add_link (node_mkdir_p ("class/mdev_bus"), par->name, par->dir);
        dir_at ("bus/mdev/drivers", par->driver);
        types = node_mkdir (par->dir, "mdev_supported_types");
        for (t = par->types; t != NULL; t = t->next)
                build_type (t, types);
}

int
mdev_build_tree (void)
{
        struct sim_parent *par;

        for (par = sim.parents; par != NULL; par = par->next) {
                par->dir = dir_at ("devices", par->path);
                if (node_child (par->dir, "mdev_supported_types") != NULL)
                        return -EEXIST; /* two parents on one path */
                publish_parent (par);
        }
        node_mkdir_p ("class/mdev_bus"); /* the mdev core registers it, parents or not */
        node_mkdir_p ("bus/mdev/devices");
        node_mkdir_p ("kernel/iommu_groups");
        node_mkdir_p ("class/vfio");
        return 0;
}

struct sim_parent *
mdev_parent_find (const char *name)
{
        struct sim_parent *par;

        for (par = sim.parents; par != NULL; par = par->next)
                if (strcmp (par->name, name) == 0)
                        return par;
        return NULL;
}

/* mdev_core.c mdev_unregister_parent (the GPU unbound or unplugged): the
 * class/mdev_bus link goes, every mdev of the parent is removed, then its
 * types.  The kernel waits for a device that is open; here a remove that
 * is blocked makes it EBUSY, and nothing changes.  The PCI device's own
 * directory stays. */
bool
mdev_parent_busy (const struct sim_parent *par)
{
        for (const struct sim_device *d = sim.devices; d != NULL; d = d->next)
                if (d->type->parent == par && d->removing)
                        return true;
        return false;
}

int
mdev_parent_remove (struct sim_parent *par)
{
        struct sim_device *d, *next;
        struct sim_type *t;

        if (par->removed)
                return 0;
        if (mdev_parent_busy (par))
                return -EBUSY;
        node_remove_child (node_mkdir_p ("class/mdev_bus"), par->name);
        for (d = sim.devices; d != NULL; d = next) {
                next = d->next;
                if (d->type->parent == par)
                        destroy_device (d);
        }
        node_remove_child (par->dir, "mdev_supported_types");
        for (t = par->types; t != NULL; t = t->next)
                t->devices_dir = NULL;
        par->removed = true;
        return 0;
}

/* mdev_register_parent again: the types come back with the whole budget
 * (every mdev went with the parent). */
void
mdev_parent_add (struct sim_parent *par)
{
        if (!par->removed)
                return;
        publish_parent (par);
        par->removed = false;
}

void
mdev_remove_all (void)
{
        while (sim.devices != NULL)
                destroy_device (sim.devices);
}
