/* vgpu-sim: shared declarations.
 *
 * The simulator keeps one in-memory tree of sysfs nodes (tree.c), a model
 * of mdev parents, types and devices that edits that tree (mdev.c), fault
 * injection state (control.c), real char nodes in a dev directory
 * (devnodes.c), the config parser (config.c) and the FUSE glue (fuse-ops.c).
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
#define SIM_ATTR_SIZE 4096 /* sysfs shows at most one page, and reports that size */

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
};

struct sim {
        pthread_mutex_t lock;
        pthread_cond_t cond; /* signalled when a blocked remove may go on */
        struct sim_parent *parents;
        struct sim_device *devices;
        struct sim_faults faults;
        unsigned group_major; /* char major of /dev/vfio/N, one no driver owns */
        unsigned cdev_major;  /* char major of /dev/vfio/devices/vfioN */
        int dev_fd;           /* O_PATH fd of the --dev directory */
        volatile sig_atomic_t stopping;
        bool group_used[SIM_MAX_GROUPS];
        bool vfio_index_used[SIM_MAX_GROUPS];
};

extern struct sim sim;

/* config.c */
int config_load_file (const char *path, struct sim_parent **ret, char *errbuf, size_t errlen);
int config_load_default (struct sim_parent **ret, char *errbuf, size_t errlen);
void config_free (struct sim_parent *parents);

/* mdev.c */
int mdev_build_tree (void);
bool uuid_text_valid (const char *s, size_t len);
struct sim_device *mdev_find (const char *uuid);
void mdev_hide_group (struct sim_device *dev);
void mdev_remove_all (void);
struct sim_parent *mdev_parent_find (const char *name);
bool mdev_parent_busy (const struct sim_parent *par);
int mdev_parent_remove (struct sim_parent *par);
void mdev_parent_add (struct sim_parent *par);

/* control.c */
void control_build_tree (void);
int control_take_create_fault (void);
unsigned control_delay_ms (enum attr_delay delay);
bool control_remove_blocked (const char *uuid);
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
