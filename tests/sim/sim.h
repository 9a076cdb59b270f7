/* vgpu-sim: shared declarations.
 *
 * The simulator keeps one in-memory tree of sysfs nodes (tree.c), a model
 * of mdev parents, types and devices that edits that tree (mdev.c), one of
 * PCI functions with SR-IOV and their drivers (pci.c), the IOMMU groups and
 * VFIO groups both share (groups.c), fault injection state (control.c), real
 * char nodes in a dev directory (devnodes.c), the config parser (config.c)
 * and the FUSE glue (fuse-ops.c).
 * Everything is guarded by one mutex, sim.lock: the kernel serialises
 * create/remove under mdev_list_lock too, and the sizes here are tiny. */
#ifndef VGPU_SIM_H
#define VGPU_SIM_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SIM_UUID_LEN 36
#define SIM_NRES 3          /* GVT-g has three resources: low GM, high GM, fences */
#define SIM_MAX_GROUPS 4096 /* upper bound of ids we hand out (groups, vfio-dev) */
#define SIM_MAX_BLOCKED 64
#define SIM_ATTR_SIZE 4096  /* sysfs shows at most one page, and reports that size */
#define SIM_PCI_ADDR_LEN 12 /* 0000:00:02.1 */

/* ---- tree.c: the sysfs-like node tree ---- */

enum node_kind { NODE_DIR, NODE_ATTR, NODE_LINK };

/* Which fault-injection delay a store goes through before it runs. */
enum attr_delay { DELAY_NONE, DELAY_CREATE, DELAY_REMOVE };

struct attr_ops {
        /* Fills buf (SIM_ATTR_SIZE bytes), returns the length. */
        size_t (*show) (void *ctx, char *buf);
        /* Returns len or a negative errno, like a sysfs store. Called with
         * sim.lock held; may wait on sim.cond. */
        ssize_t (*store) (void *ctx, const char *buf, size_t len);
        enum attr_delay delay;
        mode_t mode; /* 0: from show/store (0444, 0200, 0644) */
};

struct node {
        unsigned long long ino; /* FUSE inode number, never reused */
        char *name;
        enum node_kind kind;
        struct node *parent;
        struct node *child; /* first child, in kernfs readdir order */
        struct node *next;
        char *text;                 /* ATTR with fixed content, or LINK target */
        const struct attr_ops *ops; /* ATTR with computed content */
        void *ctx;
};

struct node *tree_root (void);
struct node *node_child (struct node *dir, const char *name);
struct node *node_by_ino (unsigned long long ino);
struct node *node_mkdir (struct node *dir, const char *name);
struct node *node_mkdir_p (const char *path);
struct node *node_add_text (struct node *dir, const char *name, const char *fmt, ...)
        __attribute__ ((format (printf, 3, 4)));
struct node *node_add_attr (struct node *dir, const char *name, const struct attr_ops *ops, void *ctx);
struct node *node_add_link (struct node *dir, const char *name, struct node *target);
void node_remove (struct node *node);
void node_remove_child (struct node *dir, const char *name);
mode_t node_mode (const struct node *node);
void tree_free (void);

/* ---- config.c / mdev.c: parents, types, devices ---- */

struct sim_parent;

struct sim_type {
        char *id;          /* directory name: i915-GVTg_V5_4 */
        char *name;        /* content of `name` */
        char *description; /* NULL: no description file, as mtty */
        char *device_api;
        unsigned cost[SIM_NRES];
        struct sim_parent *parent;
        struct node *devices_dir;
        struct sim_type *next;
};

struct sim_parent {
        char *name;   /* 0000:00:02.0, or mtty */
        char *path;   /* below devices/: pci0000:00/0000:00:02.0 */
        char *driver; /* mdev driver bound to its devices */
        unsigned pool[SIM_NRES];
        int exhausted_errno; /* ENOSPC (get_available drivers) or EUSERS (max_instances) */
        bool cdev;           /* vfio-dev/vfioN/dev and /dev/vfio/devices/vfioN */
        bool name_attr;      /* its types have `name` (GVT-g before it gave its types one had none) */
        bool removed;        /* unregistered by `remove-parent` until `add-parent` */
        struct sim_type *types;
        struct node *dir;
        struct sim_parent *next;
};

struct sim_device {
        char uuid[SIM_UUID_LEN + 1]; /* lowercase */
        struct sim_type *type;
        int group;      /* iommu group and /dev/vfio minor, -1 if hidden */
        int vfio_index; /* vfio-dev/vfioN index, -1 if none */
        bool removing;  /* a remove write is in progress (maybe blocked) */
        struct node *dir;
        struct sim_device *next;
};

/* A PCI driver under bus/pci/drivers: the PF's own (i915, xe, nvme), whose
 * id table matches its PF and VFs, or vfio-pci, which binds only a device
 * whose driver_override names it. */
struct sim_driver {
        char *name;
        bool vfio; /* vfio-pci: its bind makes the VFIO group; its unbind blocks while held */
        struct node *dir;
        struct sim_driver *next;
};

/* A PCI function: an SR-IOV PF from the config, or one of its VFs. */
struct sim_pci {
        char addr[SIM_PCI_ADDR_LEN + 1];
        char *path; /* below devices/: pci0000:00/0000:00:02.1 */
        unsigned vendor, device, class;
        struct sim_pci *pf; /* a VF's PF; NULL for a PF */
        int vf_index;       /* N of the PF's virtfnN */
        /* PF only */
        char *native; /* the driver whose id table matches the PF and its VFs */
        unsigned totalvfs, offset, stride, vf_device, start_vfs;
        bool autoprobe; /* sriov_drivers_autoprobe */
        bool cdev;      /* VFs bound to vfio-pci get vfio-dev/vfioK/dev and a node */
        unsigned numvfs;
        /* every function */
        struct sim_driver *driver; /* bound driver, NULL when unbound */
        char *override;            /* driver_override, NULL when unset (shows "(null)") */
        int group;                 /* IOMMU group, from creation to removal */
        int vfio_index;            /* vfio-dev/vfioK while bound to vfio-pci, -1 otherwise */
        bool locked;               /* the device lock, held across a blocked release (VF) or disable (PF) */
        bool gone;                 /* a removed VF, kept until exit for writers that waited on it */
        struct node *dir;
        struct sim_pci *next;
};

struct sim_faults {
        int fail_create_errno;
        unsigned fail_create_count;
        unsigned delay_create_ms;
        unsigned delay_remove_ms;
        bool block_all_removes;
        char blocked[SIM_MAX_BLOCKED][SIM_UUID_LEN + 1];
        unsigned nblocked;
        bool hide_groups;
        bool kernel_view; /* blocked removes show what kernel 6.1 shows, not the whole device */
        bool block_all_unbinds;
        char unbind_blocked[SIM_MAX_BLOCKED][SIM_PCI_ADDR_LEN + 1];
        unsigned n_unbind_blocked;
        int fail_probe_errno;
        unsigned fail_probe_count;
};

struct sim {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* signalled when a blocked remove may go on */
        struct sim_parent *parents;
        struct sim_device *devices;
        struct sim_pci *pcis;       /* PFs in config order, each followed by its VFs */
        struct sim_driver *drivers; /* bus/pci/drivers */
        bool vfio_pci;              /* vfio-pci is loaded (bus/pci/drivers/vfio-pci) */
        struct sim_faults faults;
        unsigned group_major; /* char major of /dev/vfio/N, one no driver owns */
        unsigned cdev_major;  /* char major of /dev/vfio/devices/vfioN */
        int dev_fd;           /* O_PATH fd of the --dev directory */
        volatile sig_atomic_t stopping;
        bool group_used[SIM_MAX_GROUPS];
        bool vfio_index_used[SIM_MAX_GROUPS];
};

extern struct sim sim;

/* config.c: the table's parents and PFs (without VFs: pci.c makes those) */
struct sim_config {
        struct sim_parent *parents;
        struct sim_pci *pfs;
        bool vfio_pci;
};
int config_load_file (const char *path, struct sim_config *ret, char *errbuf, size_t errlen);
int config_load_default (struct sim_config *ret, char *errbuf, size_t errlen);
void config_free (struct sim_parent *parents);
bool pci_addr_parse (const char *s, unsigned *domain, unsigned *bus, unsigned *devfn);

/* groups.c */
int group_new (void);
void group_free (int n);
void iommu_group_add (int n, struct node *dev_dir, const char *dev_name, bool noiommu);
void iommu_group_del (int n, struct node *dev_dir);
int vfio_group_add (int n);
void vfio_group_del (int n);
int vfio_dev_add (struct node *dev_dir, bool cdev);
void vfio_dev_del (struct node *dev_dir, int index, bool cdev);

/* mdev.c */
int mdev_build_tree (void);
int kstrtoul0 (const char *buf, size_t len, unsigned long *ret);
void sim_wait_a_little (void);
bool uuid_text_valid (const char *s, size_t len);
struct sim_device *mdev_find (const char *uuid);
void mdev_hide_group (struct sim_device *dev);
void mdev_remove_all (void);
struct sim_parent *mdev_parent_find (const char *name);
bool mdev_parent_busy (const struct sim_parent *par);
int mdev_parent_remove (struct sim_parent *par);
void mdev_parent_add (struct sim_parent *par);

/* pci.c */
int pci_build_tree (void);
int pci_check_config (struct sim_pci *pf, char *errbuf, size_t errlen);
void pci_remove_all (void);
void pci_free (struct sim_pci *list);

/* control.c */
void control_build_tree (void);
int control_take_create_fault (void);
unsigned control_delay_ms (enum attr_delay delay);
bool control_remove_blocked (const char *uuid);
bool control_unbind_blocked (const char *addr);
int control_take_probe_fault (void);
int errno_from_name (const char *name);

/* devnodes.c */
int devnodes_init (const char *dir, char *errbuf, size_t errlen);
int devnodes_add_group (int group);
void devnodes_del_group (int group);
int devnodes_add_cdev (int index);
void devnodes_del_cdev (int index);
void devnodes_fini (void);

/* fuse-ops.c */
int sim_fuse_main (int argc, char **argv, const char *mountpoint, bool foreground, const char *pidfile);

#endif
