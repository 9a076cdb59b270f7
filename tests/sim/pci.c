/* vgpu-sim: SR-IOV PCI functions and the PCI drivers that bind them.
 *
 * What kernel 6.1 shows and does for a PF and its VFs (drivers/pci/iov.c,
 * pci-sysfs.c, pci-driver.c; drivers/base/bus.c, dd.c, driver.c):
 * sriov_numvfs enables and disables VFs through the PF driver, each VF gets
 * its IOMMU group and, with sriov_drivers_autoprobe, the PF driver; a VF
 * whose driver_override names vfio-pci is bound by drivers_probe or bind,
 * and vfio-pci's bind makes its VFIO group (groups.c). A release from
 * vfio-pci blocks while the device is held (control.c's block-unbind), with
 * the device lock held: driver_override, drivers_probe, bind and a second
 * unbind of that VF wait, as do sriov_numvfs reads and writes of a PF whose
 * disable waits on such a VF. Removed VFs are kept (marked gone) until exit,
 * so a writer that waited holds no dangling pointer. Runs under sim.lock. */

#include "sim.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sim_pci *graveyard; /* removed VFs, freed at exit */

static void *
xcalloc (size_t n, size_t size)
{
        void *p = calloc (n, size);

        if (p == NULL)
                abort ();
        return p;
}

static struct node *
dir_at (const char *dir, const char *name)
{
        char path[1024];

        snprintf (path, sizeof path, "%s/%s", dir, name);
        return node_mkdir_p (path);
}

/* lib/string.c:sysfs_streq on the NUL-terminated copy kernfs makes. */
static bool
sysfs_streq (const char *s1, const char *s2)
{
        while (*s1 != '\0' && *s1 == *s2) {
                s1++;
                s2++;
        }
        if (*s1 == *s2)
                return true;
        if (*s1 == '\0' && *s2 == '\n' && s2[1] == '\0')
                return true;
        return *s1 == '\n' && s1[1] == '\0' && *s2 == '\0';
}

/* bus_find_device_by_name on the bytes of a write. */
static struct sim_pci *
find_written (const char *buf, size_t len)
{
        char name[SIM_ATTR_SIZE + 1];

        memcpy (name, buf, len);
        name[len] = '\0';
        for (struct sim_pci *d = sim.pcis; d != NULL; d = d->next)
                if (sysfs_streq (d->addr, name))
                        return d;
        return NULL;
}

/* device_lock: wait while a blocked release or disable holds it. */
static int
lock_device (struct sim_pci *dev)
{
        while (dev->locked)
                sim_wait_a_little ();
        return dev->gone ? -ENODEV : 0;
}

static const struct sim_pci *
pf_of (const struct sim_pci *dev)
{
        return dev->pf != NULL ? dev->pf : dev;
}

/* pci_match_device: driver_override wins; vfio-pci has no id table. */
static bool
matches (const struct sim_driver *drv, const struct sim_pci *dev)
{
        if (dev->override != NULL)
                return strcmp (dev->override, drv->name) == 0;
        return !drv->vfio && strcmp (drv->name, pf_of (dev)->native) == 0;
}

/* pci_device_can_probe: a VF only with its PF's autoprobe or an override. */
static bool
can_probe (const struct sim_pci *dev)
{
        return dev->pf == NULL || dev->pf->autoprobe || dev->override != NULL;
}

static int
probe (struct sim_driver *drv, struct sim_pci *dev)
{
        if (!can_probe (dev))
                return -ENODEV;
        if (drv->vfio) {
                int e = control_take_probe_fault (), r;

                if (e != 0)
                        return -e;
                if (dev->group < 0)
                        return -EINVAL; /* vfio_pci_probe without an IOMMU group */
                r = vfio_group_add (dev->group);
                if (r < 0)
                        return r;
                dev->vfio_index = vfio_dev_add (dev->dir, pf_of (dev)->cdev);
        }
        dev->driver = drv;
        node_add_link (dev->dir, "driver", drv->dir);
        node_add_link (drv->dir, dev->addr, dev->dir);
        return 0;
}

/* device_attach: the first driver that matches and probes. */
static void
attach (struct sim_pci *dev)
{
        if (dev->driver != NULL)
                return;
        for (struct sim_driver *drv = sim.drivers; drv != NULL; drv = drv->next)
                if (matches (drv, dev) && probe (drv, dev) == 0)
                        return;
}

/* __device_release_driver: the driver links go first (driver_sysfs_remove),
 * then vfio-pci's remove waits for the device's users with the device lock
 * held; the VFIO group and vfio-dev go once it returns. */
static void
release (struct sim_pci *dev)
{
        struct sim_driver *drv = dev->driver;

        if (drv == NULL)
                return;
        dev->locked = true;
        node_remove_child (dev->dir, "driver");
        node_remove_child (drv->dir, dev->addr);
        while (drv->vfio && control_unbind_blocked (dev->addr) && !sim.stopping)
                sim_wait_a_little ();
        if (drv->vfio) {
                vfio_dev_del (dev->dir, dev->vfio_index, pf_of (dev)->cdev);
                dev->vfio_index = -1;
                vfio_group_del (dev->group);
        }
        dev->driver = NULL;
        dev->locked = false;
}

/* ---- attributes of every function ---- */

static size_t
override_show (void *ctx, char *buf)
{
        struct sim_pci *dev = ctx;

        if (lock_device (dev) < 0)
                return 0;
        return (size_t) snprintf (buf, SIM_ATTR_SIZE, "%s\n", dev->override != NULL ? dev->override : "(null)");
}

/* drivers/base/driver.c:driver_set_override: an empty string or a leading
 * newline clears it; otherwise up to the first newline. */
static ssize_t
override_store (void *ctx, const char *buf, size_t len)
{
        struct sim_pci *dev = ctx;
        char s[SIM_ATTR_SIZE + 1], *nl;

        if (len >= SIM_ATTR_SIZE - 1)
                return -EINVAL;
        if (lock_device (dev) < 0)
                return -ENODEV;
        memcpy (s, buf, len);
        s[len] = '\0';
        nl = strchr (s, '\n');
        if (nl != NULL)
                *nl = '\0';
        free (dev->override);
        dev->override = NULL;
        if (s[0] != '\0') {
                dev->override = strdup (s);
                if (dev->override == NULL)
                        abort ();
        }
        return (ssize_t) len;
}

static const struct attr_ops override_ops = { .show = override_show, .store = override_store };

static void
build_function (struct sim_pci *dev)
{
        dev->dir = dir_at ("devices", dev->path);
        node_add_text (dev->dir, "vendor", "0x%04x\n", dev->vendor);
        node_add_text (dev->dir, "device", "0x%04x\n", dev->device);
        node_add_text (dev->dir, "class", "0x%06x\n", dev->class);
        node_add_attr (dev->dir, "driver_override", &override_ops, dev);
        node_add_link (dev->dir, "subsystem", node_mkdir_p ("bus/pci"));
        node_add_link (node_mkdir_p ("bus/pci/devices"), dev->addr, dev->dir);
}

/* ---- VFs ---- */

static void
vf_address (const struct sim_pci *pf, unsigned i, char out[SIM_PCI_ADDR_LEN + 1])
{
        unsigned domain, bus, devfn, rid;

        pci_addr_parse (pf->addr, &domain, &bus, &devfn);
        rid = (bus << 8 | devfn) + pf->offset + i * pf->stride;
        snprintf (out, SIM_PCI_ADDR_LEN + 1, "%04x:%02x:%02x.%x", domain & 0xffffu, (rid >> 8) & 0xffu,
                  (rid & 0xff) >> 3, rid & 7);
}

static struct sim_pci *
vf_add (struct sim_pci *pf, unsigned i, struct sim_pci **pos)
{
        struct sim_pci *vf = xcalloc (1, sizeof *vf);
        const char *slash = strrchr (pf->path, '/');
        char name[16];

        vf_address (pf, i, vf->addr);
        if (asprintf (&vf->path, "%.*s%s", slash != NULL ? (int) (slash - pf->path + 1) : 0, pf->path, vf->addr) < 0)
                abort ();
        vf->vendor = pf->vendor;
        vf->device = pf->vf_device;
        vf->class = pf->class;
        vf->pf = pf;
        vf->vf_index = (int) i;
        vf->vfio_index = -1;
        build_function (vf);
        node_add_link (vf->dir, "physfn", pf->dir);
        snprintf (name, sizeof name, "virtfn%u", i);
        node_add_link (pf->dir, name, vf->dir);
        vf->group = group_new ();
        if (vf->group >= 0)
                iommu_group_add (vf->group, vf->dir, vf->addr, false);
        vf->next = *pos;
        *pos = vf;
        attach (vf);
        return vf;
}

/* pci_iov_remove_virtfn: the driver is released first (blocking while
 * vfio-pci's device is held), then the function goes. */
static void
vf_remove (struct sim_pci *vf)
{
        char name[16];

        lock_device (vf);
        release (vf);
        snprintf (name, sizeof name, "virtfn%d", vf->vf_index);
        node_remove_child (vf->pf->dir, name);
        node_remove_child (node_mkdir_p ("bus/pci/devices"), vf->addr);
        if (vf->group >= 0) {
                iommu_group_del (vf->group, vf->dir);
                group_free (vf->group);
                vf->group = -1;
        }
        node_remove (vf->dir);
        vf->dir = NULL;
        for (struct sim_pci **p = &sim.pcis; *p != NULL; p = &(*p)->next)
                if (*p == vf) {
                        *p = vf->next;
                        break;
                }
        vf->gone = true;
        vf->next = graveyard;
        graveyard = vf;
}

static void
vfs_enable (struct sim_pci *pf, unsigned n)
{
        struct sim_pci **pos = &pf->next;

        for (unsigned i = 0; i < n; i++)
                pos = &vf_add (pf, i, pos)->next;
        pf->numvfs = n;
}

/* Newest first, as sriov_disable removes them. */
static void
vfs_disable (struct sim_pci *pf)
{
        pf->locked = true;
        while (pf->numvfs > 0) {
                struct sim_pci *vf = pf->next;

                while (vf != NULL && !(vf->pf == pf && vf->vf_index == (int) pf->numvfs - 1))
                        vf = vf->next;
                if (vf != NULL)
                        vf_remove (vf);
                pf->numvfs--;
        }
        pf->locked = false;
}

/* ---- PF attributes ---- */

static size_t
numvfs_show (void *ctx, char *buf)
{
        struct sim_pci *pf = ctx;

        lock_device (pf);
        return (size_t) snprintf (buf, SIM_ATTR_SIZE, "%u\n", pf->numvfs);
}

/* iov.c:sriov_numvfs_store: kstrtou16 (base 0), ERANGE past totalvfs, the
 * same number is a no-op, no PF driver ENOENT, a change without 0 first
 * EBUSY. */
static ssize_t
numvfs_store (void *ctx, const char *buf, size_t len)
{
        struct sim_pci *pf = ctx;
        unsigned long n;

        if (kstrtoul0 (buf, len, &n) < 0)
                return -EINVAL;
        if (n > 0xffff || n > pf->totalvfs)
                return -ERANGE;
        lock_device (pf);
        if (n == pf->numvfs)
                return (ssize_t) len;
        if (pf->driver == NULL || pf->driver->vfio)
                return -ENOENT;
        if (n == 0) {
                vfs_disable (pf);
                return (ssize_t) len;
        }
        if (pf->numvfs != 0)
                return -EBUSY;
        vfs_enable (pf, (unsigned) n);
        return (ssize_t) len;
}

static size_t
autoprobe_show (void *ctx, char *buf)
{
        return (size_t) snprintf (buf, SIM_ATTR_SIZE, "%u\n", ((struct sim_pci *) ctx)->autoprobe ? 1 : 0);
}

/* lib/kstrtox.c:kstrtobool: y/Y/t/T/1, n/N/f/F/0, on/off. */
static ssize_t
autoprobe_store (void *ctx, const char *buf, size_t len)
{
        struct sim_pci *pf = ctx;
        char c0 = buf[0], c1 = len > 1 ? (char) tolower ((unsigned char) buf[1]) : '\0';

        if (strchr ("yYtT1", c0) != NULL && c0 != '\0')
                pf->autoprobe = true;
        else if (strchr ("nNfF0", c0) != NULL && c0 != '\0')
                pf->autoprobe = false;
        else if ((c0 == 'o' || c0 == 'O') && (c1 == 'n' || c1 == 'f'))
                pf->autoprobe = c1 == 'n';
        else
                return -EINVAL;
        return (ssize_t) len;
}

static const struct attr_ops numvfs_ops = { .show = numvfs_show, .store = numvfs_store, .mode = 0664 };
static const struct attr_ops autoprobe_ops = { .show = autoprobe_show, .store = autoprobe_store, .mode = 0664 };

/* ---- bus/pci and its drivers ---- */

static ssize_t
bind_store (void *ctx, const char *buf, size_t len)
{
        struct sim_driver *drv = ctx;
        struct sim_pci *dev = find_written (buf, len);
        int r;

        if (dev == NULL || !matches (drv, dev))
                return -ENODEV;
        if (lock_device (dev) < 0)
                return -ENODEV;
        if (dev->driver != NULL)
                return -EBUSY;
        r = probe (drv, dev);
        return r < 0 ? r : (ssize_t) len;
}

/* bus.c:unbind_store: ENODEV unless the device is bound to this driver; a
 * second unbind while one is blocked waits for it (device lock). */
static ssize_t
unbind_store (void *ctx, const char *buf, size_t len)
{
        struct sim_driver *drv = ctx;
        struct sim_pci *dev = find_written (buf, len);

        if (dev == NULL || dev->driver != drv)
                return -ENODEV;
        if (dev->locked) {
                lock_device (dev);
                return (ssize_t) len;
        }
        release (dev);
        return (ssize_t) len;
}

/* bus.c:drivers_probe_store: ENODEV for an unknown name; otherwise success,
 * whether a driver took the device or not. */
static ssize_t
drivers_probe_store (void *ctx, const char *buf, size_t len)
{
        struct sim_pci *dev = find_written (buf, len);
        (void) ctx;

        if (dev == NULL || lock_device (dev) < 0)
                return -ENODEV;
        attach (dev);
        return (ssize_t) len;
}

static const struct attr_ops bind_ops = { .store = bind_store };
static const struct attr_ops unbind_ops = { .store = unbind_store };
static const struct attr_ops drivers_probe_ops = { .store = drivers_probe_store };

static struct sim_driver *
driver_add (const char *name, bool vfio)
{
        struct sim_driver *drv, **tail;

        for (tail = &sim.drivers; *tail != NULL; tail = &(*tail)->next)
                if (strcmp ((*tail)->name, name) == 0)
                        return *tail;
        drv = xcalloc (1, sizeof *drv);
        drv->name = strdup (name);
        if (drv->name == NULL)
                abort ();
        drv->vfio = vfio;
        drv->dir = dir_at ("bus/pci/drivers", name);
        node_add_attr (drv->dir, "bind", &bind_ops, drv);
        node_add_attr (drv->dir, "unbind", &unbind_ops, drv);
        *tail = drv;
        return drv;
}

static void
build_pf (struct sim_pci *pf)
{
        build_function (pf);
        node_add_text (pf->dir, "sriov_totalvfs", "%u\n", pf->totalvfs);
        node_add_attr (pf->dir, "sriov_numvfs", &numvfs_ops, pf);
        node_add_text (pf->dir, "sriov_offset", "%u\n", pf->offset);
        node_add_text (pf->dir, "sriov_stride", "%u\n", pf->stride);
        node_add_text (pf->dir, "sriov_vf_device", "%x\n", pf->vf_device);
        node_add_attr (pf->dir, "sriov_drivers_autoprobe", &autoprobe_ops, pf);
        pf->group = group_new ();
        if (pf->group >= 0)
                iommu_group_add (pf->group, pf->dir, pf->addr, false);
}

int
pci_check_config (struct sim_pci *pf, char *errbuf, size_t errlen)
{
        unsigned domain, bus, devfn, last;

        if (pf->vf_device == UINT_MAX)
                pf->vf_device = pf->device;
        pci_addr_parse (pf->addr, &domain, &bus, &devfn);
        last = (bus << 8 | devfn) + pf->offset + (pf->totalvfs - 1) * pf->stride;
        if (pf->totalvfs == 0 || pf->offset == 0 || pf->stride == 0)
                snprintf (errbuf, errlen, "pf %s: totalvfs, vf-offset and vf-stride must be > 0", pf->addr);
        else if (last >> 8 != bus)
                snprintf (errbuf, errlen, "pf %s: VFs past bus %02x are not simulated", pf->addr, bus);
        else if (pf->start_vfs > pf->totalvfs)
                snprintf (errbuf, errlen, "pf %s: numvfs %u is more than totalvfs %u", pf->addr, pf->start_vfs,
                          pf->totalvfs);
        else
                return 0;
        return -EINVAL;
}

/* The PFs of the table, each bound to its driver with its start VFs; the
 * drivers (the PFs' own, then vfio-pci unless the table says it is not
 * loaded). -EEXIST when a PF sits where an mdev parent does. */
int
pci_build_tree (void)
{
        struct sim_pci *pf;

        if (sim.pcis == NULL)
                return 0;
        node_add_attr (node_mkdir_p ("bus/pci"), "drivers_probe", &drivers_probe_ops, NULL);
        node_mkdir_p ("bus/pci/devices");
        for (pf = sim.pcis; pf != NULL; pf = pf->next)
                driver_add (pf->native, false);
        if (sim.vfio_pci)
                driver_add ("vfio-pci", true);
        for (pf = sim.pcis; pf != NULL; pf = pf->next) {
                if (pf->pf != NULL)
                        continue;
                if (node_child (dir_at ("devices", pf->path), "mdev_supported_types") != NULL)
                        return -EEXIST;
                build_pf (pf);
                attach (pf);
                if (pf->start_vfs > 0)
                        vfs_enable (pf, pf->start_vfs);
        }
        return 0;
}

/* At exit: every VFIO group node goes (devnodes_fini removes the dir). */
void
pci_remove_all (void)
{
        for (struct sim_pci *d = sim.pcis; d != NULL; d = d->next)
                if (d->driver != NULL && d->driver->vfio) {
                        vfio_dev_del (d->dir, d->vfio_index, pf_of (d)->cdev);
                        vfio_group_del (d->group);
                        d->driver = NULL;
                }
        pci_free (graveyard);
        graveyard = NULL;
        pci_free (sim.pcis);
        sim.pcis = NULL;
        while (sim.drivers != NULL) {
                struct sim_driver *drv = sim.drivers;

                sim.drivers = drv->next;
                free (drv->name);
                free (drv);
        }
}

void
pci_free (struct sim_pci *list)
{
        while (list != NULL) {
                struct sim_pci *next = list->next;

                free (list->path);
                free (list->native);
                free (list->override);
                free (list);
                list = next;
        }
}
