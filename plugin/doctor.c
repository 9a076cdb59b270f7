/* doctor.c — see doctor.h.  Each check appends findings to a list; nothing
 * here changes the host (the ledger is only read, under its lock). */
#include "doctor.h"

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "alloc.h"
#include "cgroup.h"
#include "config.h"
#include "json.h"
#include "host.h"
#include "mdev.h"
#include "pf.h"
#include "release.h"
#include "sriov.h"
#include "util.h"

#define HOOKS_FILE_MAX (64 * 1024)
#define GVT_FIX                                                                                                        \
        "load i915 with enable_gvt=1 (kernel command line i915.enable_gvt=1) and the kvmgt module; GVT-g covers "      \
        "Intel GPUs of generations 5 to 10 (Broadwell to Comet Lake), later ones offer SR-IOV instead"

typedef struct findings {
        vgpu_finding_t *f;
        size_t n;
        int oom;
} findings_t;

static void add (findings_t *fs, vgpu_doctor_status_t status, const char *check, const char *fix, const char *fmt, ...)
        __attribute__ ((format (printf, 5, 6)));

static void
add (findings_t *fs, vgpu_doctor_status_t status, const char *check, const char *fix, const char *fmt, ...)
{
        vgpu_finding_t *f;
        void *p = realloc (fs->f, (fs->n + 1) * sizeof *fs->f);
        va_list ap;

        if (!p) {
                fs->oom = -ENOMEM;
                return;
        }
        fs->f = p;
        f = &fs->f[fs->n++];
        memset (f, 0, sizeof *f);
        f->status = status;
        vgpu_copy (f->check, sizeof f->check, check);
        vgpu_copy (f->fix, sizeof f->fix, fix ? fix : "");
        va_start (ap, fmt);
        vsnprintf (f->what, sizeof f->what, fmt, ap);
        va_end (ap);
}

/* --- the kernel --- */

static bool
exists_at (int fd, const char *path)
{
        return faccessat (fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Names of a directory's entries, comma-separated, "" when none or absent. */
static size_t
list_dir (int root, const char *path, char *buf, size_t size)
{
        _cleanup_closedir_ DIR *d = vgpu_opendir_at (root, path, 0);
        struct dirent *de;
        size_t n = 0;

        buf[0] = '\0';
        if (!d)
                return 0;
        while ((de = readdir (d))) {
                size_t len = strlen (buf);

                if (de->d_name[0] != '.')
                        snprintf (buf + len, size - len, "%s%.63s", n++ > 0 ? ", " : "", de->d_name);
        }
        return n;
}

/* need_mdev: the mdev core too (not on a host that has SR-IOV PFs and no
 * mdev parent). */
static void
check_kernel (int sysfs, bool simulated, bool need_mdev, findings_t *fs)
{
        static const struct {
                const char *module, *path;
        } needed[] = {
                { "vfio", "module/vfio" },
                { "vfio_iommu_type1", "module/vfio_iommu_type1" },
                { "mdev", "bus/mdev" }, /* the mdev core, a module or built in */
        };
        size_t n_needed = need_mdev ? ARRAY_SIZE (needed) : ARRAY_SIZE (needed) - 1;
        char missing[128] = "", units[256];

        if (simulated) {
                add (fs, VGPU_DOCTOR_OK, "kernel", NULL, "simulated (the sysfs root is the GVT-g simulator)");
                add (fs, VGPU_DOCTOR_OK, "iommu", NULL, "simulated (the sysfs root is the GVT-g simulator)");
                return;
        }
        for (size_t i = 0; i < n_needed; i++)
                if (!exists_at (sysfs, needed[i].path))
                        snprintf (missing + strlen (missing), sizeof missing - strlen (missing), "%s%s",
                                  missing[0] ? " " : "", needed[i].module);
        if (missing[0])
                add (fs, VGPU_DOCTOR_FAIL, "kernel",
                     "modprobe them, and list them in /etc/modules-load.d/ to have them at boot", "not loaded: %s",
                     missing);
        else
                add (fs, VGPU_DOCTOR_OK, "kernel", NULL, "vfio, vfio_iommu_type1%s are loaded",
                     need_mdev ? " and mdev" : "");
        if (list_dir (sysfs, "class/iommu", units, sizeof units) > 0)
                add (fs, VGPU_DOCTOR_OK, "iommu", NULL, "on (%s)", units);
        else
                add (fs, VGPU_DOCTOR_WARN, "iommu",
                     "turn VT-d on in the BIOS/UEFI and add intel_iommu=on to the kernel command line",
                     "no IOMMU unit in class/iommu");
}

/* Why a host has no mdev parent, from what i915 and kvmgt show. */
static const char *
no_parent_fix (int sysfs, bool simulated, char *buf, size_t size)
{
        char gvt[8] = "";

        if (simulated || !exists_at (sysfs, "module/i915"))
                return GVT_FIX;
        if (vgpu_read_attr_at (sysfs, "module/i915/parameters/enable_gvt", gvt, sizeof gvt) < 0 || strcmp (gvt, "Y"))
                snprintf (buf, size,
                          "i915 runs with enable_gvt=%s: add i915.enable_gvt=1 to the kernel command line "
                          "and reboot, and load kvmgt",
                          gvt[0] ? gvt : "(none)");
        else if (!exists_at (sysfs, "module/kvmgt"))
                snprintf (buf, size,
                          "i915 has GVT-g on but kvmgt is not loaded: modprobe kvmgt (and list it in "
                          "/etc/modules-load.d/)");
        else
                snprintf (buf, size,
                          "i915 (enable_gvt=1) and kvmgt are loaded but registered no parent: GVT-g covers "
                          "Intel GPUs of generations 5 to 10 only, later ones offer SR-IOV instead (dmesg shows "
                          "i915's gvt lines)");
        return buf;
}

static void
check_parents (int sysfs, bool simulated, const vgpu_host_t *host, size_t n_pfs, findings_t *fs)
{
        char names[256] = "", fix[320];
        size_t n = 0;

        for (size_t i = 0; i < host->n_parents; i++)
                if (host->parents[i].backend == VGPU_BACKEND_MDEV)
                        snprintf (names + strlen (names), sizeof names - strlen (names), "%s%s", n++ ? ", " : "",
                                  host->parents[i].name);
        if (n)
                add (fs, VGPU_DOCTOR_OK, "mdev parents", NULL, "%zu (%s)", n, names);
        else if (n_pfs)
                add (fs, VGPU_DOCTOR_OK, "mdev parents", NULL, "none in class/mdev_bus: the SR-IOV PFs serve");
        else
                add (fs, VGPU_DOCTOR_FAIL, "mdev parents", no_parent_fix (sysfs, simulated, fix, sizeof fix),
                     "none in class/mdev_bus");
}

/* The SR-IOV config, each PF, vfio-pci and the IOMMU it needs; nothing on
 * a host with neither a config nor a PF. */
static void
check_sriov (const vgpu_roots_t *roots, int sysfs, bool simulated, const vgpu_sriov_conf_t *conf,
             const vgpu_sriov_pf_t *pfs, size_t n, findings_t *fs)
{
        vgpu_sriov_pf_t *strict = NULL;
        vgpu_error_t e = { 0 };
        size_t n_strict = 0;

        if (conf->present && vgpu_sriov_pfs (roots, /* strict= */ true, &strict, &n_strict, &e) < 0)
                add (fs, VGPU_DOCTOR_FAIL, "SR-IOV config", "correct it, or take the PF out of it", "%s", e.msg);
        else if (conf->present)
                add (fs, VGPU_DOCTOR_OK, "SR-IOV config", NULL, "%s names %zu PF%s%s", conf->path, conf->n_pfs,
                     conf->n_pfs == 1 ? "" : "s", conf->n_pfs ? "" : ": every Intel display PF with SR-IOV serves");
        free (strict);
        for (size_t i = 0; i < n; i++) {
                char check[sizeof fs->f->check], fix[128];

                snprintf (check, sizeof check, "SR-IOV PF %s", pfs[i].address);
                snprintf (fix, sizeof fix, "`vgpuctl sriov enable %s N` (N up to %u)", pfs[i].address, pfs[i].totalvfs);
                if (!pfs[i].driver[0])
                        add (fs, VGPU_DOCTOR_FAIL, check, "bind the PF to its driver (i915 or xe on Intel GPUs)",
                             "no driver: the PF's driver enables its VFs");
                else if (pfs[i].numvfs == 0)
                        add (fs, VGPU_DOCTOR_WARN, check, fix, "no VF enabled (%u possible), driver %s",
                             pfs[i].totalvfs, pfs[i].driver);
                else
                        add (fs, VGPU_DOCTOR_OK, check, NULL, "%u of %u VFs enabled, driver %s, autoprobe %s",
                             pfs[i].numvfs, pfs[i].totalvfs, pfs[i].driver, pfs[i].autoprobe ? "on" : "off");
        }
        if (n == 0)
                return;
        if (exists_at (sysfs, "bus/pci/drivers/vfio-pci"))
                add (fs, VGPU_DOCTOR_OK, "vfio-pci", NULL, "loaded: it takes the VFs containers get");
        else
                add (fs, VGPU_DOCTOR_FAIL, "vfio-pci", "modprobe vfio-pci, and list it in /etc/modules-load.d/",
                     "not loaded: no VF can be handed to a container");
        if (!simulated && !exists_at (sysfs, "class/iommu"))
                add (fs, VGPU_DOCTOR_FAIL, "iommu for VFs",
                     "turn VT-d on in the BIOS/UEFI and add intel_iommu=on to the kernel command line",
                     "vfio-pci cannot take a VF without an IOMMU");
}

static void
check_vfio_node (const vgpu_roots_t *roots, findings_t *fs)
{
        char path[PATH_MAX + 16];
        struct stat st;

        snprintf (path, sizeof path, "%s/vfio/vfio", roots->dev);
        if (stat (path, &st) < 0)
                add (fs, VGPU_DOCTOR_FAIL, "/dev/vfio/vfio", "modprobe vfio (it makes the node)", "%s: %s", path,
                     strerror (errno));
        else if (!S_ISCHR (st.st_mode) || major (st.st_rdev) != 10 || minor (st.st_rdev) != 196)
                add (fs, VGPU_DOCTOR_FAIL, "/dev/vfio/vfio", "remove it and modprobe vfio",
                     "%s is not the char device 10:196", path);
        else
                add (fs, VGPU_DOCTOR_OK, "/dev/vfio/vfio", NULL, "%s is char 10:196", path);
}

static void
check_types (const vgpu_host_t *host, findings_t *fs)
{
        for (size_t i = 0; i < host->n_parents; i++)
                for (size_t j = 0; j < host->parents[i].n_types; j++) {
                        const vgpu_type_t *t = &host->parents[i].types[j];
                        char check[sizeof fs->f->check];

                        snprintf (check, sizeof check, "type %s on %s", t->id, host->parents[i].name);
                        if (t->available)
                                add (fs, VGPU_DOCTOR_OK, check, NULL, "%u available, %u active", t->available,
                                     t->active);
                        else
                                add (fs, VGPU_DOCTOR_WARN, check,
                                     t->backend == VGPU_BACKEND_VF
                                             ? "release VFs no one uses (`vgpuctl list`, `vgpuctl gc`), or enable "
                                               "more (`vgpuctl sriov`)"
                                     : strncmp (t->id, "i915-", 5) == 0
                                             ? "release mdevs no one uses (`vgpuctl list`, `vgpuctl gc`); a larger "
                                               "GPU aperture set in the BIOS/UEFI gives more instances"
                                             : "release mdevs no one uses (`vgpuctl list`, `vgpuctl gc`)",
                                     "no instance left (%u active)", t->active);
                }
}

static void
check_cgroup (findings_t *fs)
{
        _cleanup_free_ char *mountinfo = NULL;
        vgpu_cgroup_mount_t m;
        size_t len = 0;

        if (vgpu_read_file_at (AT_FDCWD, "/proc/self/mountinfo", 1u << 20, &mountinfo, &len) < 0) {
                add (fs, VGPU_DOCTOR_FAIL, "cgroup", "mount /proc", "/proc/self/mountinfo is unreadable");
                return;
        }
        if (vgpu_cgroup_find_mount (mountinfo, false, &m, NULL) == 0)
                add (fs, VGPU_DOCTOR_OK, "cgroup", NULL,
                     "v1 devices controller at %s: device rules go through devices.allow", m.point);
        else if (vgpu_cgroup_find_mount (mountinfo, true, &m, NULL) == 0)
                add (fs, VGPU_DOCTOR_OK, "cgroup", NULL,
                     "cgroup2 at %s: device rules go through the runtime's eBPF program", m.point);
        else
                add (fs, VGPU_DOCTOR_FAIL, "cgroup", "mount cgroup2 at /sys/fs/cgroup (systemd does at boot)",
                     "no v1 devices hierarchy and no cgroup2 mount");
}

/* --- hooks.d --- */

static const char *const default_hooks_dirs[] = {
        "/usr/share/containers/oci/hooks.d", /* podman's default, and CRI-O's */
        "/etc/containers/oci/hooks.d",       /* CRI-O's too when its hooks_dir is unset (older releases) */
        VGPU_HOOKS_PODMAN_DIR,
        VGPU_HOOKS_CRIO_DIR,
};

static bool
crio_reads (const char *dir)
{
        return strcmp (dir, default_hooks_dirs[0]) == 0 || strcmp (dir, default_hooks_dirs[1]) == 0;
}

static bool
has_stage (json_object *hook, const char *stage)
{
        json_object *stages = NULL;

        if (!json_object_object_get_ex (hook, "stages", &stages) || !json_object_is_type (stages, json_type_array))
                return false;
        for (size_t i = 0; i < json_object_array_length (stages); i++) {
                const char *s = json_object_get_string (json_object_array_get_idx (stages, i));

                if (json_object_is_type (json_object_array_get_idx (stages, i), json_type_string) && !strcmp (s, stage))
                        return true;
        }
        return false;
}

/* One hooks.d file; true when it runs vgpu-hook. */
static bool
check_hooks_file (const char *dir, int dirfd, const char *name, findings_t *fs)
{
        static const vgpu_json_field_t top[] = { { "hook", json_type_object, true },
                                                 { "stages", json_type_array, true } };
        static const vgpu_json_field_t hook[] = { { "path", json_type_string, true } };
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_object *o = NULL;
        char check[sizeof fs->f->check];
        json_object *h = NULL;
        vgpu_error_t e = { 0 };
        const char *path;
        size_t len = 0;

        if (vgpu_read_file_at (dirfd, name, HOOKS_FILE_MAX, &text, &len) < 0 || !strstr (text, "vgpu-hook"))
                return false;
        snprintf (check, sizeof check, "hooks.d %s/%s", dir, name);
        if (vgpu_json_parse (text, len, "the file", &o, &e) < 0 || vgpu_json_check (o, top, 2, "the file", &e) < 0 ||
            !json_object_object_get_ex (o, "hook", &h) || vgpu_json_check (h, hook, 1, "its hook", &e) < 0) {
                add (fs, VGPU_DOCTOR_FAIL, check, "install it again from the package", "%s", e.msg);
                return true;
        }
        path = vgpu_json_str (h, "path");
        if (path[0] != '/' || access (path, X_OK) < 0)
                add (fs, VGPU_DOCTOR_FAIL, check, "install vgpu-hook there, or correct hook.path",
                     "runs %.200s, which is not an executable file", path);
        else if (has_stage (o, "precreate") && crio_reads (dir))
                add (fs, VGPU_DOCTOR_WARN, check,
                     "move it to " VGPU_HOOKS_PODMAN_DIR " (podman reads it through containers.conf hooks_dir)",
                     "names the precreate stage in a directory CRI-O reads, and CRI-O rejects it");
        else
                add (fs, VGPU_DOCTOR_OK, check, NULL, "runs %.200s (%s)", path,
                     has_stage (o, "precreate") ? "precreate" : "prestart");
        return true;
}

static size_t
check_hooks (const vgpu_doctor_opts_t *o, findings_t *fs)
{
        const char *const *dirs = o->n_hooks_dirs ? o->hooks_dirs : default_hooks_dirs;
        size_t n_dirs = o->n_hooks_dirs ? o->n_hooks_dirs : ARRAY_SIZE (default_hooks_dirs), found = 0;

        for (size_t i = 0; i < n_dirs; i++) {
                _cleanup_closedir_ DIR *d = vgpu_opendir_at (AT_FDCWD, dirs[i], 0);
                struct dirent *de;

                if (!d)
                        continue;
                while ((de = readdir (d))) {
                        size_t len = strlen (de->d_name);

                        if (len > 5 && strcmp (de->d_name + len - 5, ".json") == 0 &&
                            check_hooks_file (dirs[i], dirfd (d), de->d_name, fs))
                                found++;
                }
        }
        return found;
}

/* --- CDI, wiring, ledger --- */

/* The child's output on one line, its lines joined with "; ". */
static const char *
one_line (const char *s, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (const char *p = s; *p && len + 3 < size; p++) {
                if (*p != '\n')
                        buf[len++] = *p;
                else if (p[1] && p[1] != '\n') {
                        buf[len++] = ';';
                        buf[len++] = ' ';
                }
        }
        buf[len] = '\0';
        return buf;
}

static void
check_cdi (const vgpu_doctor_opts_t *o, const vgpu_doctor_cdi_t *cdi, size_t hooks, findings_t *fs)
{
        char out[sizeof cdi->output + 64];

        one_line (cdi->output, out, sizeof out);
        if (cdi->spec_absent)
                add (fs, VGPU_DOCTOR_OK, "CDI spec", NULL, "none at %s (CDI not in use)", o->cdi_spec);
        else if (cdi->timed_out)
                add (fs, VGPU_DOCTOR_FAIL, "CDI spec", "run `vgpu-cdi check` by hand to see where it hangs",
                     "%s check did not finish within %d ms", o->vgpu_cdi, VGPU_DOCTOR_CDI_TIMEOUT_MS);
        else if (cdi->exit_code == 127)
                add (fs, VGPU_DOCTOR_WARN, "CDI spec", "install vgpu-cdi, or name it with --vgpu-cdi PATH",
                     "not checked: %s", out);
        else if (cdi->exit_code == 0)
                add (fs, VGPU_DOCTOR_OK, "CDI spec", NULL, "%s", out);
        else
                add (fs, VGPU_DOCTOR_FAIL, "CDI spec",
                     "run `vgpu-cdi generate` again (the vgpu-cdi.service unit does at boot and when a GPU comes)",
                     "%s", out);
        if (cdi->spec_absent && hooks == 0)
                add (fs, VGPU_DOCTOR_WARN, "wiring",
                     "write a CDI spec (`vgpu-cdi generate`) or install the hooks.d files (README, Install)",
                     "no hooks.d file runs vgpu-hook and there is no CDI spec: containers cannot ask for a vGPU");
}

static void
check_ledger (const vgpu_roots_t *roots, findings_t *fs)
{
        _cleanup_free_ vgpu_record_t *recs = NULL;
        vgpu_error_t e = { 0 };
        size_t n = 0, bad = 0;

        if (access (roots->state, F_OK) < 0 && errno == ENOENT) { /* not made here: the doctor changes nothing */
                add (fs, VGPU_DOCTOR_OK, "ledger", NULL, "none at %s yet: nothing allocated", roots->state);
                return;
        }
        if (vgpu_ledger_snapshot (roots, &recs, &n, &e) < 0) {
                add (fs, VGPU_DOCTOR_FAIL, "ledger", "check the state directory's owner and mode (root, 0700)", "%s",
                     e.msg);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                char check[sizeof fs->f->check], who[VGPU_OWNER_DISPLAY_MAX];
                const char *why;

                snprintf (check, sizeof check, "ledger %s", recs[i].uuid);
                if (recs[i].state == VGPU_RECORD_CORRUPT) {
                        add (fs, VGPU_DOCTOR_FAIL, check, "`vgpuctl gc` removes its mdev and the record",
                             "the record is unreadable");
                        bad++;
                } else if ((why = vgpu_gc_reason (roots, &recs[i]))) {
                        add (fs, VGPU_DOCTOR_WARN, check, "`vgpuctl gc` reclaims it", "%s of %s (%s %s)", why,
                             vgpu_owner_display (&recs[i].owner, who), recs[i].type, recs[i].parent);
                        bad++;
                }
        }
        if (bad == 0)
                add (fs, VGPU_DOCTOR_OK, "ledger", NULL, "%zu allocation%s in %s, each with its mdev", n,
                     n == 1 ? "" : "s", roots->state);
}

int
vgpu_doctor_run (const vgpu_doctor_opts_t *o, const vgpu_doctor_cdi_t *cdi, vgpu_finding_t **ret, size_t *ret_n,
                 vgpu_error_t *err)
{
        _cleanup_close_ int sysfs = vgpu_roots_open_sysfs (&o->roots, err);
        _cleanup_free_ vgpu_sriov_pf_t *pfs = NULL;
        vgpu_sriov_conf_t conf = { 0 };
        vgpu_error_t conf_err = { 0 };
        findings_t fs = { 0 };
        vgpu_host_t host = { 0 };
        size_t n_pfs = 0;
        bool simulated;
        int r;

        if (sysfs < 0)
                return sysfs;
        simulated = exists_at (sysfs, ".sim");
        /* a config that does not read is a finding; the mdevs are checked still */
        if (vgpu_sriov_conf_load (&conf, &conf_err) < 0)
                r = vgpu_mdev_scan (&o->roots, &host, err);
        else if ((r = vgpu_sriov_pfs (&o->roots, /* strict= */ false, &pfs, &n_pfs, err)) == 0)
                r = vgpu_host_scan (&o->roots, &host, err);
        if (r < 0) {
                vgpu_host_free (&host);
                return r;
        }
        check_kernel (sysfs, simulated, !n_pfs || host.n_parents > n_pfs, &fs);
        check_parents (sysfs, simulated, &host, n_pfs, &fs);
        if (conf_err.code)
                add (&fs, VGPU_DOCTOR_FAIL, "SR-IOV config", "correct it (README, SR-IOV)", "%s", conf_err.msg);
        else
                check_sriov (&o->roots, sysfs, simulated, &conf, pfs, n_pfs, &fs);
        check_vfio_node (&o->roots, &fs);
        check_types (&host, &fs);
        vgpu_host_free (&host);
        check_cgroup (&fs);
        check_cdi (o, cdi, check_hooks (o, &fs), &fs);
        check_ledger (&o->roots, &fs);
        if (fs.oom) {
                free (fs.f);
                return vgpu_error_set (err, ENOMEM, "out of memory");
        }
        *ret = fs.f;
        *ret_n = fs.n;
        return 0;
}

static const char *const status_names[] = { "ok", "warn", "fail" };

int
vgpu_doctor_print (FILE *out, const vgpu_finding_t *f, size_t n)
{
        int failed = 0;

        for (size_t i = 0; i < n; i++) {
                fprintf (out, "%-4s  %s: %s%s%s\n", status_names[f[i].status], f[i].check, f[i].what,
                         f[i].fix[0] ? "; fix: " : "", f[i].fix);
                failed += f[i].status == VGPU_DOCTOR_FAIL;
        }
        return failed;
}

int
vgpu_doctor_print_json (FILE *out, const vgpu_finding_t *f, size_t n)
{
        _cleanup_json_ json_object *arr = json_object_new_array ();
        const char *text;
        int failed = 0;

        for (size_t i = 0; arr && i < n; i++) {
                json_object *o = json_object_new_object ();

                json_object_object_add (o, "check", json_object_new_string (f[i].check));
                json_object_object_add (o, "status", json_object_new_string (status_names[f[i].status]));
                json_object_object_add (o, "message", json_object_new_string (f[i].what));
                json_object_object_add (o, "fix", f[i].fix[0] ? json_object_new_string (f[i].fix) : NULL);
                json_object_array_add (arr, o);
                failed += f[i].status == VGPU_DOCTOR_FAIL;
        }
        text = arr ? json_object_to_json_string_ext (arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE)
                   : NULL;
        if (!text)
                return -ENOMEM;
        fprintf (out, "%s\n", text);
        return failed;
}
