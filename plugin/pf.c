/* pf.c — see pf.h.  Every path is relative to an fd of the sysfs root and
 * built only from names that passed vgpu_pci_addr_valid(). */
#include "pf.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mdev.h"
#include "task.h"
#include "util.h"

#define CONF_MAX_BYTES (64 * 1024)
#define VFIO_PCI "vfio-pci" /* no return_driver: the VF would never leave it */

/* ---- the config ---- */

static int
conf_pf (json_object *o, size_t i, vgpu_sriov_pf_conf_t *pf, vgpu_error_t *err)
{
        static const vgpu_json_field_t fields[] = {
                { "address", json_type_string, true },
                { "return_driver", json_type_string, false },
        };
        char what[64], q[VGPU_QUOTE_BUF];
        const char *drv;
        int r;

        snprintf (what, sizeof what, "pfs[%zu]", i);
        r = vgpu_json_check (o, fields, ARRAY_SIZE (fields), what, err);
        if (r < 0)
                return r;
        snprintf (what, sizeof what, "pfs[%zu].address", i);
        r = vgpu_pci_addr_normalise (vgpu_json_str (o, "address"), what, pf->address, err);
        if (r < 0)
                return r;
        drv = vgpu_json_str (o, "return_driver");
        if (drv && (!vgpu_name_valid (drv) || strcmp (drv, VFIO_PCI) == 0))
                return vgpu_error_set (err, EINVAL, "pfs[%zu].return_driver \"%s\" is not a driver name (or \"%s\")", i,
                                       vgpu_quote (drv, strlen (drv), q), VGPU_SRIOV_NONE);
        vgpu_copy (pf->return_driver, sizeof pf->return_driver, drv ? drv : "");
        return 0;
}

int
vgpu_sriov_conf_parse (const char *text, size_t len, vgpu_sriov_conf_t *ret, vgpu_error_t *err)
{
        static const vgpu_json_field_t fields[] = { { "pfs", json_type_array, false } };
        _cleanup_json_ json_object *o = NULL;
        json_object *pfs;
        size_t n;
        int r;

        r = vgpu_json_parse (text, len, "SR-IOV config", &o, err);
        if (r == 0)
                r = vgpu_json_check (o, fields, ARRAY_SIZE (fields), "SR-IOV config", err);
        if (r < 0)
                return r;
        ret->n_pfs = 0;
        if (!json_object_object_get_ex (o, "pfs", &pfs))
                return 0;
        n = json_object_array_length (pfs);
        if (n > VGPU_SRIOV_MAX_PFS)
                return vgpu_error_set (err, E2BIG, "pfs: %zu entries, at most %d", n, VGPU_SRIOV_MAX_PFS);
        for (size_t i = 0; i < n; i++) {
                r = conf_pf (json_object_array_get_idx (pfs, i), i, &ret->pfs[i], err);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (strcmp (ret->pfs[j].address, ret->pfs[i].address) == 0)
                                return vgpu_error_set (err, EINVAL, "pfs[%zu].address %s is pfs[%zu]'s too", i,
                                                       ret->pfs[i].address, j);
                ret->n_pfs++;
        }
        return 0;
}

int
vgpu_sriov_conf_load (vgpu_sriov_conf_t *ret, vgpu_error_t *err)
{
        const char *env = getenv (VGPU_SRIOV_CONFIG_ENV);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        *ret = (vgpu_sriov_conf_t) { 0 };
        vgpu_copy (ret->path, sizeof ret->path, env && *env ? env : VGPU_SRIOV_CONFIG);
        r = vgpu_read_regular_at (AT_FDCWD, ret->path, CONF_MAX_BYTES, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return vgpu_error_sys (err, -r, "SR-IOV config %s", ret->path);
        ret->present = true;
        r = vgpu_sriov_conf_parse (text, len, ret, err);
        return r < 0 ? vgpu_error_prefix (err, "SR-IOV config %s", ret->path) : 0;
}

/* ---- PFs ---- */

static int
read_hex (int dirfd, const char *attr, unsigned *ret)
{
        char text[32], *end;
        unsigned long v;
        int r = vgpu_read_attr_at (dirfd, attr, text, sizeof text);

        if (r < 0)
                return r;
        v = strtoul (text, &end, 16);
        if (strncmp (text, "0x", 2) != 0 || *end || v > 0xffffff)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int
read_count (int dirfd, const char *attr, unsigned *ret)
{
        char text[32];
        unsigned long long v;
        int r = vgpu_read_attr_at (dirfd, attr, text, sizeof text);

        if (r < 0)
                return r;
        if (vgpu_parse_uint (text, 65535, &v) < 0)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

/* VFs enabled: the virtfnN links (sriov_numvfs would wait on a disable
 * under way, as the kernel reads it under the device lock). */
static unsigned
count_virtfn (int devfd)
{
        _cleanup_closedir_ DIR *d = vgpu_opendir_at (devfd, ".", 0);
        struct dirent *de;
        unsigned n = 0;

        if (!d)
                return 0;
        while ((de = readdir (d)))
                n += strncmp (de->d_name, "virtfn", 6) == 0;
        return n;
}

int
vgpu_sriov_pf_read (int root, const char *addr, vgpu_sriov_pf_t *pf)
{
        _cleanup_close_ int fd = vgpu_pci_open (root, addr);
        unsigned autoprobe = 0;

        if (fd < 0)
                return -errno;
        *pf = (vgpu_sriov_pf_t) { 0 };
        vgpu_copy (pf->address, sizeof pf->address, addr);
        if (read_count (fd, "sriov_totalvfs", &pf->totalvfs) < 0 || pf->totalvfs == 0)
                return -ENOTTY;
        if (read_hex (fd, "vendor", &pf->vendor) < 0 || read_hex (fd, "device", &pf->device) < 0 ||
            read_hex (fd, "class", &pf->class) < 0)
                return -EINVAL;
        read_count (fd, "sriov_drivers_autoprobe", &autoprobe);
        pf->autoprobe = autoprobe != 0;
        pf->numvfs = count_virtfn (fd);
        vgpu_pci_driver (fd, pf->driver);
        return 0;
}

static bool
intel_display (int root, const char *addr)
{
        _cleanup_close_ int fd = vgpu_pci_open (root, addr);
        unsigned vendor, class, total;

        return fd >= 0 && read_hex (fd, "vendor", &vendor) == 0 && vendor == 0x8086 &&
               read_hex (fd, "class", &class) == 0 && class >> 16 == 0x03 &&
               read_count (fd, "sriov_totalvfs", &total) == 0 && total > 0;
}

static int
discover (int root, vgpu_sriov_pf_t **list, size_t *n)
{
        _cleanup_closedir_ DIR *d = vgpu_opendir_at (root, "bus/pci/devices", 0);
        struct dirent *de;

        if (!d)
                return 0; /* no PCI bus: no PF */
        while ((de = readdir (d))) {
                vgpu_sriov_pf_t pf;

                if (vgpu_pci_addr_valid (de->d_name) && intel_display (root, de->d_name) &&
                    vgpu_sriov_pf_read (root, de->d_name, &pf) == 0 && vgpu_append (list, n, &pf, sizeof pf) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int
cmp_pf (const void *a, const void *b)
{
        return strcmp (((const vgpu_sriov_pf_t *) a)->address, ((const vgpu_sriov_pf_t *) b)->address);
}

static int
configured (int root, const vgpu_sriov_conf_t *conf, bool strict, vgpu_sriov_pf_t **list, size_t *n, vgpu_error_t *err)
{
        for (size_t i = 0; i < conf->n_pfs; i++) {
                vgpu_sriov_pf_t pf;
                int r = vgpu_sriov_pf_read (root, conf->pfs[i].address, &pf);

                if (r < 0 && strict)
                        return vgpu_error_set (err, ENODEV, "PF %s that %s names %s", conf->pfs[i].address, conf->path,
                                               r == -ENOENT   ? "is not in sysfs"
                                               : r == -ENOTTY ? "has no SR-IOV (sriov_totalvfs is 0 or missing)"
                                                              : "has no readable vendor, device or class");
                if (r < 0)
                        continue;
                pf.configured = true;
                if (vgpu_append (list, n, &pf, sizeof pf) < 0)
                        return vgpu_error_set (err, ENOMEM, "out of memory");
        }
        return 0;
}

int
vgpu_sriov_pfs (const vgpu_roots_t *roots, bool strict, vgpu_sriov_pf_t **ret, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_close_ int root = vgpu_roots_open_sysfs (roots, err);
        _cleanup_free_ vgpu_sriov_pf_t *list = NULL;
        vgpu_sriov_conf_t conf;
        size_t n = 0;
        int r;

        if (root < 0)
                return root;
        r = vgpu_sriov_conf_load (&conf, err);
        if (r < 0)
                return r;
        if (conf.n_pfs)
                r = configured (root, &conf, strict, &list, &n, err);
        else if (discover (root, &list, &n) < 0)
                r = vgpu_error_set (err, ENOMEM, "out of memory");
        if (r < 0)
                return r;
        if (n)
                qsort (list, n, sizeof *list, cmp_pf);
        *ret = TAKE_PTR (list);
        *ret_n = n;
        return 0;
}

/* ---- enabling and disabling ---- */

int
vgpu_sriov_set_numvfs (const vgpu_roots_t *roots, const char *pf, unsigned n, unsigned timeout_ms, vgpu_error_t *err)
{
        _cleanup_close_ int root = -1, fd = -1;
        _cleanup_free_ vgpu_sriov_pf_t *pfs = NULL;
        const vgpu_sriov_pf_t *p = NULL;
        char path[64], text[16];
        size_t n_pfs = 0;
        int code = 0, r;

        r = vgpu_sriov_pfs (roots, /* strict= */ true, &pfs, &n_pfs, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_pfs && !p; i++)
                if (strcmp (pfs[i].address, pf) == 0)
                        p = &pfs[i];
        if (!p)
                return vgpu_error_set (err, ENOENT,
                                       "%s is not a PF vgpu-toolkit offers VFs of (an Intel display PF with SR-IOV, "
                                       "or one %s names)",
                                       pf, VGPU_SRIOV_CONFIG);
        if (n > p->totalvfs)
                return vgpu_error_set (err, ERANGE, "PF %s has sriov_totalvfs %u: %u VFs cannot be enabled", pf,
                                       p->totalvfs, n);
        if (n == p->numvfs)
                return 0;
        if (n && p->numvfs)
                return vgpu_error_set (err, EBUSY,
                                       "PF %s has %u VFs enabled: `vgpuctl sriov disable %s` first (the kernel changes "
                                       "the number only from 0)",
                                       pf, p->numvfs, pf);
        if (!p->driver[0])
                return vgpu_error_set (err, ENOENT, "PF %s has no driver: its driver enables and disables VFs", pf);
        root = vgpu_roots_open_sysfs (roots, err);
        if (root < 0)
                return root;
        snprintf (path, sizeof path, "bus/pci/devices/%s/sriov_numvfs", pf);
        fd = openat (root, path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return vgpu_error_sys (err, errno, "PF %s: sriov_numvfs", pf);
        snprintf (text, sizeof text, "%u", n);
        r = vgpu_task_write_bounded (fd, text, strlen (text), timeout_ms, &code);
        if (r == -ETIMEDOUT)
                return vgpu_error_set (err, ETIMEDOUT,
                                       "PF %s: writing %u to sriov_numvfs still blocked after %u ms (a process holds "
                                       "one of its VFs open)",
                                       pf, n, timeout_ms);
        if (r < 0)
                return vgpu_error_sys (err, -r, "PF %s: could not run the write to sriov_numvfs", pf);
        if (code)
                return vgpu_error_sys (err, code, "PF %s: writing %u to sriov_numvfs", pf, n);
        return 0;
}
