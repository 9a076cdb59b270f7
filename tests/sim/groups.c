/* vgpu-sim: IOMMU groups and their VFIO side, shared by mdevs and PCI functions.
 *
 * An IOMMU group (kernel/iommu_groups/N with the device's link) exists as long
 * as its device: an mdev gets one when it is created (vfio's emulated-IOMMU
 * group, named vfio-noiommu), a PCI function when it appears (a real IOMMU's
 * group, type DMA-FQ). The VFIO side — class/vfio/N, dev/char/MAJ:N, the node
 * DEV/vfio/N and the device's vfio-dev/vfioK — exists while a VFIO driver has
 * the device: from create to remove for an mdev, from bind to unbind of
 * vfio-pci for a PCI function. Numbers are the lowest free, reused like the
 * kernel's ida. All functions run with sim.lock held. */

#include "sim.h"

#include <errno.h>
#include <stdio.h>

static int
lowest_free (bool *used)
{
        for (int i = 0; i < SIM_MAX_GROUPS; i++)
                if (!used[i])
                        return i;
        return -1;
}

int
group_new (void)
{
        int n = lowest_free (sim.group_used);

        if (n < 0)
                return -ENOSPC;
        sim.group_used[n] = true;
        return n;
}

void
group_free (int n)
{
        if (n >= 0 && n < SIM_MAX_GROUPS)
                sim.group_used[n] = false;
}

void
iommu_group_add (int n, struct node *dev_dir, const char *dev_name, bool noiommu)
{
        char num[16];
        struct node *g;

        snprintf (num, sizeof num, "%d", n);
        g = node_mkdir (node_mkdir_p ("kernel/iommu_groups"), num);
        node_add_link (node_mkdir (g, "devices"), dev_name, dev_dir);
        if (noiommu)
                node_add_text (g, "name", "vfio-noiommu\n");
        node_add_text (g, "reserved_regions", "%s", noiommu ? "" : "0x00000000fee00000 0x00000000feefffff msi\n");
        node_add_text (g, "type", noiommu ? "unknown\n" : "DMA-FQ\n");
        node_add_link (dev_dir, "iommu_group", g);
}

void
iommu_group_del (int n, struct node *dev_dir)
{
        char num[16];

        snprintf (num, sizeof num, "%d", n);
        node_remove_child (dev_dir, "iommu_group");
        node_remove_child (node_mkdir_p ("kernel/iommu_groups"), num);
}

int
vfio_group_add (int n)
{
        char num[16], chr[32];
        struct node *v;
        int r = devnodes_add_group (n);

        if (r < 0)
                return r;
        snprintf (num, sizeof num, "%d", n);
        snprintf (chr, sizeof chr, "%u:%d", sim.group_major, n);
        v = node_mkdir (node_mkdir_p ("devices/virtual/vfio"), num);
        node_add_text (v, "dev", "%s\n", chr);
        node_add_text (v, "uevent", "MAJOR=%u\nMINOR=%d\nDEVNAME=vfio/%d\n", sim.group_major, n, n);
        node_add_link (v, "subsystem", node_mkdir_p ("class/vfio"));
        node_add_link (node_mkdir_p ("class/vfio"), num, v);
        node_add_link (node_mkdir_p ("dev/char"), chr, v);
        return 0;
}

void
vfio_group_del (int n)
{
        char num[16], chr[32];

        snprintf (num, sizeof num, "%d", n);
        snprintf (chr, sizeof chr, "%u:%d", sim.group_major, n);
        node_remove_child (node_mkdir_p ("class/vfio"), num);
        node_remove_child (node_mkdir_p ("dev/char"), chr);
        node_remove_child (node_mkdir_p ("devices/virtual/vfio"), num);
        devnodes_del_group (n);
}

/* vfio-dev/vfioK under the device (kernel 6.1 registers one per vfio_device),
 * with a dev file and DEV/vfio/devices/vfioK when cdev is on. -1 when none. */
int
vfio_dev_add (struct node *dev_dir, bool cdev)
{
        struct node *vd;
        char name[32];
        int k = lowest_free (sim.vfio_index_used);

        if (k < 0)
                return -1;
        snprintf (name, sizeof name, "vfio%d", k);
        vd = node_mkdir (node_mkdir (dev_dir, "vfio-dev"), name);
        if (cdev) {
                if (devnodes_add_cdev (k) < 0)
                        return -1;
                node_add_text (vd, "dev", "%u:%d\n", sim.cdev_major, k);
        }
        sim.vfio_index_used[k] = true;
        return k;
}

void
vfio_dev_del (struct node *dev_dir, int index, bool cdev)
{
        if (index >= 0) {
                if (cdev)
                        devnodes_del_cdev (index);
                sim.vfio_index_used[index] = false;
        }
        node_remove_child (dev_dir, "vfio-dev");
}
