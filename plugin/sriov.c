/* sriov.c — see sriov.h.  Every path is relative to an fd of the sysfs root
 * and built only from names that passed vgpu_pci_addr_valid() or
 * vgpu_name_valid(). */
#include "sriov.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdev.h"
#include "pf.h"
#include "task.h"
#include "util.h"
#include "vfio.h"

#define POLL_STEP_MS 2
#define VFIO_PCI "vfio-pci"

/* ---- VFs ---- */

typedef enum vf_state {
        VF_FREE,       /* enabled, no override, not under vfio-pci */
        VF_VFIO,       /* under vfio-pci */
        VF_LEAVING,    /* its release from vfio-pci waits on a holder (vfio-dev stays) */
        VF_OVERRIDDEN, /* someone set driver_override */
        VF_GONE,
} vf_state_t;

static vf_state_t
vf_state (int root, const char *addr)
{
        _cleanup_close_ int fd = vgpu_pci_open (root, addr);
        char drv[VGPU_NAME_MAX], over[VGPU_NAME_MAX];

        if (fd < 0)
                return VF_GONE;
        vgpu_pci_driver (fd, drv);
        if (strcmp (drv, VFIO_PCI) == 0)
                return VF_VFIO;
        if (faccessat (fd, "vfio-dev", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return VF_LEAVING; /* before driver_override: reading it would wait */
        if (vgpu_read_attr_at (fd, "driver_override", over, sizeof over) < 0 ||
            (over[0] && strcmp (over, "(null)") != 0))
                return VF_OVERRIDDEN;
        return VF_FREE;
}

/* The VF addresses of a PF, virtfn0 first; their number. */
static size_t
vfs_of (int root, const char *pf, char (*out)[VGPU_PCI_ADDR_LEN + 1], size_t max)
{
        _cleanup_close_ int fd = vgpu_pci_open (root, pf);
        size_t n = 0;

        for (size_t i = 0; fd >= 0 && n < max; i++) {
                char link[32], name[VGPU_NAME_MAX];

                snprintf (link, sizeof link, "virtfn%zu", i);
                if (vgpu_sysfs_link_name (fd, link, 0, name, sizeof name) < 0)
                        break;
                if (vgpu_pci_addr_valid (name))
                        vgpu_copy (out[n++], sizeof out[0], name);
        }
        return n;
}

#define MAX_VFS 256

static void
fill_type (const vgpu_sriov_pf_t *pf, unsigned available, unsigned active, vgpu_type_t *t)
{
        *t = (vgpu_type_t) {
                .backend = VGPU_BACKEND_VF, .available = available, .active = active, .has_description = true
        };
        vgpu_copy (t->id, sizeof t->id, VGPU_VF_TYPE);
        vgpu_copy (t->name, sizeof t->name, "SR-IOV VF");
        vgpu_copy (t->device_api, sizeof t->device_api, "vfio-pci");
        snprintf (t->description, sizeof t->description, "virtual function of %04x:%04x, %u of %u enabled", pf->vendor,
                  pf->device, pf->numvfs, pf->totalvfs);
}

static int
vf_scan (const vgpu_roots_t *roots, vgpu_host_t *host, vgpu_error_t *err)
{
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err);
        _cleanup_free_ vgpu_sriov_pf_t *pfs = NULL;
        size_t n = 0;
        void *p;
        int r;

        if (root < 0)
                return root;
        r = vgpu_sriov_pfs (roots, /* strict= */ false, &pfs, &n, err);
        if (r < 0)
                return r;
        p = realloc (host->parents, (host->n_parents + n + 1) * sizeof *host->parents);
        if (!p)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        host->parents = p;
        for (size_t i = 0; i < n; i++) {
                vgpu_parent_t *par = &host->parents[host->n_parents];
                char vfs[MAX_VFS][VGPU_PCI_ADDR_LEN + 1];
                size_t m = vfs_of (root, pfs[i].address, vfs, MAX_VFS);
                unsigned available = 0, active = 0;

                for (size_t j = 0; j < m; j++) {
                        vf_state_t s = vf_state (root, vfs[j]);

                        available += s == VF_FREE;
                        active += s == VF_VFIO || s == VF_LEAVING;
                }
                *par = (vgpu_parent_t) { .backend = VGPU_BACKEND_VF, .n_types = 1, .active = active };
                vgpu_copy (par->name, sizeof par->name, pfs[i].address);
                par->types = calloc (1, sizeof *par->types);
                if (!par->types)
                        return vgpu_error_set (err, ENOMEM, "out of memory");
                host->n_parents++;
                fill_type (&pfs[i], available, active, &par->types[0]);
        }
        return 0;
}

static int
check_type (const char *type, const char *pf, vgpu_error_t *err)
{
        if (strcmp (type, VGPU_VF_TYPE) != 0)
                return vgpu_error_set (err, ENOENT, "unknown type %s on PF %s (it offers %s)", type, pf, VGPU_VF_TYPE);
        if (!vgpu_pci_addr_valid (pf))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a PF's PCI address", pf);
        return 0;
}

static int
vf_pick (const vgpu_roots_t *roots, const char *parent, const char *type, const char *uuid, vgpu_taken_fn taken,
         void *ctx, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        _cleanup_close_ int root = -1;
        char vfs[MAX_VFS][VGPU_PCI_ADDR_LEN + 1];
        size_t n;
        int r = check_type (type, parent, err);

        if (r < 0)
                return r;
        if (uuid)
                return vgpu_error_set (err, EINVAL,
                                       "a VF's id comes from its PCI address: no UUID can be chosen for it");
        root = vgpu_roots_open_sysfs (roots, err);
        if (root < 0)
                return root;
        n = vfs_of (root, parent, vfs, MAX_VFS);
        for (size_t i = 0; i < n; i++) {
                vgpu_mdev_t m = { .backend = VGPU_BACKEND_VF, .group = -1, .cdev = -1 };

                vgpu_vf_id (vfs[i], m.uuid);
                if (vf_state (root, vfs[i]) != VF_FREE || (taken && taken (m.uuid, ctx)))
                        continue;
                vgpu_copy (m.name, sizeof m.name, vfs[i]);
                vgpu_copy (m.parent, sizeof m.parent, parent);
                vgpu_copy (m.type, sizeof m.type, VGPU_VF_TYPE);
                *ret = m;
                return 0;
        }
        return vgpu_error_set (err, ENOSPC, "no VF left on %s (0 available)", parent);
}

static int
lookup_at (int root, const char *addr, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        _cleanup_close_ int fd = -1;
        vgpu_mdev_t m = { .backend = VGPU_BACKEND_VF, .group = -1, .cdev = -1 };
        char drv[VGPU_NAME_MAX], what[64];
        int r;

        if (!vgpu_pci_addr_valid (addr))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a VF's PCI address", addr);
        fd = vgpu_pci_open (root, addr);
        if (fd < 0)
                return vgpu_error_sys (err, errno, "VF %s", addr);
        if (vgpu_sysfs_link_name (fd, "physfn", 0, m.parent, sizeof m.parent) < 0)
                return vgpu_error_set (err, ENOENT, "%s is not a VF (no physfn)", addr);
        vgpu_pci_driver (fd, drv);
        if (strcmp (drv, VFIO_PCI) != 0 && faccessat (fd, "vfio-dev", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return vgpu_error_set (err, ENOENT, "VF %s is not under vfio-pci", addr);
        vgpu_vf_id (addr, m.uuid);
        vgpu_copy (m.name, sizeof m.name, addr);
        vgpu_copy (m.type, sizeof m.type, VGPU_VF_TYPE);
        snprintf (what, sizeof what, "VF %s", addr);
        r = vgpu_vfio_group (root, fd, what, &m, err);
        if (r < 0)
                return r;
        vgpu_vfio_cdev (fd, &m);
        *ret = m;
        return 0;
}

static int
vf_lookup (const vgpu_roots_t *roots, const char *addr, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err);

        if (root < 0)
                return root;
        return lookup_at (root, addr, ret, err);
}

/* Unbind addr from drv, bounded; 0 also when it was not bound to drv.
 * Errors here and below name no VF: the callers' prefix does. */
static int
unbind (int root, const char *addr, const char *drv, unsigned timeout_ms, vgpu_error_t *err)
{
        _cleanup_close_ int fd = -1;
        char path[VGPU_NAME_MAX + 32];
        int code = 0, r;

        snprintf (path, sizeof path, "bus/pci/drivers/%s/unbind", drv);
        fd = openat (root, path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return vgpu_error_sys (err, errno, "%s", path);
        r = vgpu_task_write_bounded (fd, addr, strlen (addr), timeout_ms, &code);
        if (r == -ETIMEDOUT)
                return vgpu_error_set (err, ETIMEDOUT,
                                       "its unbind from %s is still blocked after %u ms: a process holds the device "
                                       "open",
                                       drv, timeout_ms);
        if (r < 0)
                return vgpu_error_sys (err, -r, "could not run the unbind from %s", drv);
        if (code != 0 && code != ENODEV)
                return vgpu_error_sys (err, code, "unbinding it from %s", drv);
        return 0;
}

static int
write_at (int fd, const char *attr, const char *text, vgpu_error_t *err)
{
        int r = vgpu_write_attr_at (fd, attr, text, strlen (text));

        return r < 0 ? vgpu_error_sys (err, -r, "writing \"%s\" to %s", text[0] == '\n' ? "\\n" : text, attr) : 0;
}

/* driver_override cleared; the VF to drv ("" or "none": left unbound),
 * through an override so that it binds whatever the PF's autoprobe says. */
static int
hand_back (int root, int devfd, const char *addr, const char *drv, vgpu_error_t *err)
{
        int r;

        if (drv[0] && strcmp (drv, VGPU_SRIOV_NONE) != 0) {
                r = write_at (devfd, "driver_override", drv, err);
                if (r == 0)
                        r = write_at (root, "bus/pci/drivers_probe", addr, err);
                if (r < 0)
                        return r;
        }
        return write_at (devfd, "driver_override", "\n", err);
}

/* Where a given-back VF of pf goes: the config's return_driver, else the
 * PF's driver when its autoprobe is on, else nowhere. */
static void
return_driver (int root, const char *pf, char buf[VGPU_NAME_MAX])
{
        vgpu_sriov_conf_t conf;
        vgpu_sriov_pf_t p;

        buf[0] = '\0';
        if (vgpu_sriov_conf_load (&conf, NULL) == 0)
                for (size_t i = 0; i < conf.n_pfs; i++)
                        if (strcmp (conf.pfs[i].address, pf) == 0 && conf.pfs[i].return_driver[0]) {
                                vgpu_copy (buf, VGPU_NAME_MAX, conf.pfs[i].return_driver);
                                return;
                        }
        if (vgpu_sriov_pf_read (root, pf, &p) == 0 && p.autoprobe)
                vgpu_copy (buf, VGPU_NAME_MAX, p.driver);
}

/* drivers_probe probes in the write: vfio-pci has the VF now or never;
 * its VFIO group's node may take a moment more. */
static int
wait_bound (int root, const char *addr, unsigned timeout_ms, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        long long deadline = vgpu_now_ms () + timeout_ms;

        if (vf_state (root, addr) != VF_VFIO)
                return vgpu_error_set (err, ENODEV,
                                       "vfio-pci's probe did not take it (%s; dmesg says why: without an IOMMU it "
                                       "cannot, `vgpuctl doctor`)",
                                       faccessat (root, "bus/pci/drivers/vfio-pci", F_OK, 0) == 0
                                               ? "vfio-pci is loaded"
                                               : "vfio-pci is not loaded");
        for (;;) {
                int r = lookup_at (root, addr, ret, err);

                if (r == 0 && ret->group >= 0)
                        return 0;
                if (vgpu_now_ms () >= deadline)
                        return r < 0 ? r
                                     : vgpu_error_set (err, ENODEV, "vfio-pci gave it no VFIO group within %u ms",
                                                       timeout_ms);
                usleep (POLL_STEP_MS * 1000);
        }
}

static int
claim (int root, int fd, const char *addr, const char *was, unsigned timeout_ms, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        int r = write_at (fd, "driver_override", VFIO_PCI, err);

        if (r == 0 && was[0])
                r = unbind (root, addr, was, timeout_ms, err);
        if (r == 0)
                r = write_at (root, "bus/pci/drivers_probe", addr, err);
        if (r == 0)
                r = wait_bound (root, addr, timeout_ms, ret, err);
        return r;
}

static int
vf_make (const vgpu_roots_t *roots, const vgpu_mdev_t *picked, unsigned timeout_ms, vgpu_mdev_t *ret, vgpu_error_t *err)
{
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err), fd = -1;
        const char *addr = picked->name;
        char was[VGPU_NAME_MAX];
        vgpu_mdev_t m;
        int r;

        if (root < 0)
                return root;
        if (!vgpu_pci_addr_valid (addr) || vf_state (root, addr) != VF_FREE)
                return vgpu_error_set (err, EBUSY, "VF %s of %s is no longer free", addr, picked->parent);
        fd = vgpu_pci_open (root, addr);
        if (fd < 0)
                return vgpu_error_sys (err, errno, "VF %s", addr);
        vgpu_pci_driver (fd, was);
        r = claim (root, fd, addr, was, timeout_ms, &m, err);
        if (r < 0) {
                /* back where it was: off vfio-pci, no override, its old driver */
                if (vf_state (root, addr) == VF_VFIO)
                        unbind (root, addr, VFIO_PCI, timeout_ms, NULL);
                if (vf_state (root, addr) != VF_LEAVING)
                        hand_back (root, fd, addr, was, NULL);
                return vgpu_error_prefix (err, "claiming VF %s of %s", addr, picked->parent);
        }
        *ret = m;
        return 0;
}

static int
vf_give_back (const vgpu_roots_t *roots, const char *addr, unsigned timeout_ms, vgpu_error_t *err)
{
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err), fd = -1;
        char pf[VGPU_NAME_MAX], drv[VGPU_NAME_MAX];
        vf_state_t s;
        int r;

        if (root < 0)
                return root;
        if (!vgpu_pci_addr_valid (addr))
                return vgpu_error_set (err, EINVAL, "\"%s\" is not a VF's PCI address", addr);
        fd = vgpu_pci_open (root, addr);
        if (fd < 0 && errno == ENOENT)
                return 0; /* its VFs were disabled: nothing to give back */
        if (fd < 0)
                return vgpu_error_sys (err, errno, "VF %s", addr);
        s = vf_state (root, addr);
        if (s == VF_VFIO) {
                r = unbind (root, addr, VFIO_PCI, timeout_ms, err);
                if (r < 0)
                        return vgpu_error_prefix (err, "VF %s", addr);
                s = vf_state (root, addr);
        }
        if (s == VF_LEAVING)
                return vgpu_error_set (err, EBUSY,
                                       "the kernel's unbind of VF %s from vfio-pci is still pending: a process holds "
                                       "the device open",
                                       addr);
        if (vgpu_sysfs_link_name (fd, "physfn", 0, pf, sizeof pf) < 0)
                return vgpu_error_set (err, ENOENT, "%s is not a VF (no physfn)", addr);
        vgpu_pci_driver (fd, drv);
        if (drv[0]) /* someone bound it meanwhile: only our override goes */
                r = write_at (fd, "driver_override", "\n", err);
        else {
                return_driver (root, pf, drv);
                r = hand_back (root, fd, addr, drv, err);
        }
        return r < 0 ? vgpu_error_prefix (err, "giving back VF %s", addr) : 0;
}

/* The VFs of the PFs (pf NULL: of every parent) under vfio-pci or leaving it. */
static int
held_vfs (const vgpu_roots_t *roots, const char *pf, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err);
        _cleanup_free_ vgpu_sriov_pf_t *pfs = NULL;
        _cleanup_free_ vgpu_mdev_t *list = NULL;
        size_t n_pfs = 0, n = 0;
        int r;

        if (root < 0)
                return root;
        r = vgpu_sriov_pfs (roots, /* strict= */ false, &pfs, &n_pfs, err);
        for (size_t i = 0; r == 0 && i < n_pfs; i++) {
                char vfs[MAX_VFS][VGPU_PCI_ADDR_LEN + 1];
                size_t m;

                if (pf && strcmp (pfs[i].address, pf) != 0)
                        continue;
                m = vfs_of (root, pfs[i].address, vfs, MAX_VFS);
                for (size_t j = 0; j < m; j++) {
                        vgpu_mdev_t dev;

                        if (lookup_at (root, vfs[j], &dev, NULL) == 0 && vgpu_append (&list, &n, &dev, sizeof dev) < 0)
                                return vgpu_error_set (err, ENOMEM, "out of memory");
                }
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR (list);
        *ret_n = n;
        return 0;
}

static int
vf_list (const vgpu_roots_t *roots, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err)
{
        return held_vfs (roots, NULL, ret, ret_n, err);
}

int
vgpu_sriov_held (const vgpu_roots_t *roots, const char *pf, vgpu_mdev_t **ret, size_t *ret_n, vgpu_error_t *err)
{
        return held_vfs (roots, pf, ret, ret_n, err);
}

const vgpu_backend_t vgpu_backend_vf = {
        .kind = VGPU_BACKEND_VF,
        .scan = vf_scan,
        .pick = vf_pick,
        .make = vf_make,
        .lookup = vf_lookup,
        .give_back = vf_give_back,
        .list = vf_list,
};
