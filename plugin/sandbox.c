/* sandbox.c — see sandbox.h.
 *
 * Run time only: no libcap, no libseccomp.  Capabilities go with capget(),
 * capset() and prctl(); the seccomp program of each profile was compiled at
 * build time (seccomp-gen.c from seccomp-rules.c, into sandbox-filters.h)
 * and is loaded with the raw seccomp() call after the process's own pid is
 * patched into it. */
#include "sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#define CAP(c) ((uint64_t) 1 << (c))

typedef struct compiled_filter {
        const struct sock_filter *insns;
        size_t len;
        const unsigned short *self; /* instructions whose k is the process's own pid */
        size_t n_self;
} compiled_filter_t;

#include "sandbox-filters.h"

typedef struct capability {
        int cap;
        const char *name;
        const char *why; /* the call that needs it, as measured */
} capability_t;

/* Every capability any profile keeps, with the calls that need it, measured
 * on kernel 6.18 and Debian 12's 6.1: attaching a vGPU to a container being
 * created (prestart, createRuntime) and taking it back from a running one
 * (vgpuctl release --force).  Not kept: CAP_DAC_OVERRIDE/CAP_FOWNER — the
 * container's /dev is a tmpfs of root's; in a container with a user namespace
 * it belongs to the mapped root, where the hook's unmapped fsuid gets
 * EOVERFLOW with or without them. */
static const capability_t capabilities[] = {
        { CAP_SYS_ADMIN, "CAP_SYS_ADMIN",
          "cgroup v1 devices.allow/deny (the devices controller checks it); BPF_PROG_GET_FD_BY_ID (nothing else "
          "will do)" },
        { CAP_MKNOD, "CAP_MKNOD", "mknodat() of the char nodes" },
        { CAP_SYS_PTRACE, "CAP_SYS_PTRACE",
          "opening /proc/PID/root of the container's init: runc and crun keep it non-dumpable until it execs (EACCES "
          "without)" },
        { CAP_NET_ADMIN, "CAP_NET_ADMIN",
          "BPF_PROG_QUERY on kernels before 6.4 (Debian 12's 6.1) checks exactly this capability; CAP_SYS_ADMIN "
          "does not stand in for it (EPERM in the VM tier)" },
        { CAP_BPF, "CAP_BPF",
          "BPF_PROG_LOAD and BPF_OBJ_GET_INFO_BY_FD with instructions take CAP_BPF (or CAP_SYS_ADMIN); kept so the "
          "set is the same on every kernel" },
};

typedef struct profile {
        const char *name;
        uint64_t caps;
} profile_t;

#define BPF_CAPS (CAP (CAP_SYS_ADMIN) | CAP (CAP_NET_ADMIN) | CAP (CAP_BPF))
#define ATTACH_CAPS (BPF_CAPS | CAP (CAP_MKNOD) | CAP (CAP_SYS_PTRACE))
#define FORCE_CAPS (BPF_CAPS | CAP (CAP_SYS_PTRACE))

/* vgpu-runtime (oci-hook/) is the one program that must run another: the
 * real OCI runtime, with every privilege it had.  Capabilities dropped here,
 * no_new_privs and a seccomp filter all survive execve, so no profile can be
 * on the process that runs runc: runc needs every capability, mount,
 * unshare and clone with namespaces, and no_new_privs would reach the
 * container and break its setuid programs.  The shim is therefore split by
 * fork: its parent reads only the engine's argv and root's own config file,
 * and execs (passthrough commands: exec, kill, delete, state, ...) or forks
 * and execs (create, run) the one runtime path that config resolved — a
 * fixed list of directories, never PATH, and never the shim itself; a forked
 * child enters the "runtime" profile below before it opens config.json, and
 * does all that touches the container's input, the ledger and sysfs: the
 * precreate stage, the hooks added to config.json, its atomic rewrite, and
 * the release after a failed create.  That child keeps no capability (as
 * hook-precreate and hook-poststop) and, as every profile, dies on execve. */

/* Profiles without capabilities run as uid 0 on root's files (sandbox.h);
 * the syscalls of each are seccomp-rules.c's. */
static const profile_t profiles[VGPU_SANDBOX_N_PROFILES] = {
        [VGPU_SANDBOX_VGPUCTL_READ] = { "vgpuctl-read", 0 },
        [VGPU_SANDBOX_VGPUCTL_WRITE] = { "vgpuctl-write", 0 },
        /* deny in the cgroup, unlink through /proc/PID/root: no setns, no mknod */
        [VGPU_SANDBOX_VGPUCTL_FORCE] = { "vgpuctl-force", FORCE_CAPS },
        [VGPU_SANDBOX_HOOK_PRECREATE] = { "hook-precreate", 0 },
        [VGPU_SANDBOX_HOOK_ATTACH] = { "hook-attach", ATTACH_CAPS },
        [VGPU_SANDBOX_HOOK_POSTSTOP] = { "hook-poststop", 0 },
        /* hooks.d without a stage: the stage is read after entering, so the union */
        [VGPU_SANDBOX_HOOK_ANY] = { "hook", ATTACH_CAPS },
        /* vgpu-runtime's child for create and run: precreate, config.json, release */
        [VGPU_SANDBOX_RUNTIME] = { "runtime", 0 },
        [VGPU_SANDBOX_CDI_READ] = { "cdi-read", 0 },
        [VGPU_SANDBOX_CDI_GENERATE] = { "cdi-generate", 0 },
        [VGPU_SANDBOX_CDI_PREPARE] = { "cdi-prepare", 0 },
        /* pool mode makes mdevs and ledger records (as vgpuctl-write); its
         * socket and the kubelet's are root's files in a root-owned
         * directory: no capability */
        [VGPU_SANDBOX_DEVICE_PLUGIN] = { "device-plugin", 0 },
};

static const profile_t *
profile_of (vgpu_sandbox_profile_t profile)
{
        if ((unsigned) profile >= VGPU_SANDBOX_N_PROFILES)
                return NULL;
        return &profiles[profile];
}

const char *
vgpu_sandbox_name (vgpu_sandbox_profile_t profile)
{
        const profile_t *p = profile_of (profile);

        return p ? p->name : NULL;
}

uint64_t
vgpu_sandbox_caps (vgpu_sandbox_profile_t profile)
{
        const profile_t *p = profile_of (profile);

        return p ? p->caps : 0;
}

const char *
vgpu_sandbox_cap (vgpu_sandbox_profile_t profile, size_t i, const char **ret_why)
{
        const profile_t *p = profile_of (profile);

        for (size_t k = 0; p && k < ARRAY_SIZE (capabilities); k++)
                if ((p->caps & CAP (capabilities[k].cap)) && i-- == 0) {
                        if (ret_why)
                                *ret_why = capabilities[k].why;
                        return capabilities[k].name;
                }
        return NULL;
}

int
vgpu_sandbox_filter (vgpu_sandbox_profile_t profile, pid_t self, struct sock_filter **ret, size_t *ret_len)
{
        const compiled_filter_t *f;
        struct sock_filter *insns;

        if (!profile_of (profile))
                return -EINVAL;
        f = &compiled_filters[profile];
        insns = malloc (f->len * sizeof *insns);
        if (!insns)
                return -ENOMEM;
        memcpy (insns, f->insns, f->len * sizeof *insns);
        for (size_t i = 0; i < f->n_self; i++)
                insns[f->self[i]].k = (uint32_t) self;
        *ret = insns;
        *ret_len = f->len;
        return 0;
}

static int
capget_all (struct __user_cap_data_struct data[2])
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

        return (int) syscall (SYS_capget, &hdr, data);
}

static int
capset_all (const struct __user_cap_data_struct data[2])
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

        return (int) syscall (SYS_capset, &hdr, data);
}

/* Bounding set first (PR_CAPBSET_DROP wants CAP_SETPCAP in effective), then
 * ambient, then effective/permitted/inheritable in one capset. */
static int
drop_caps (const profile_t *p, uint64_t keep, vgpu_error_t *err)
{
        struct __user_cap_data_struct cur[2], next[2] = { { 0 } };
        uint64_t permitted;

        if (capget_all (cur) < 0)
                return vgpu_error_sys (err, errno, "sandbox %s: reading capabilities", p->name);
        permitted = cur[0].permitted | (uint64_t) cur[1].permitted << 32;
        if (permitted & CAP (CAP_SETPCAP)) {
                cur[CAP_TO_INDEX (CAP_SETPCAP)].effective |= CAP_TO_MASK (CAP_SETPCAP);
                if (capset_all (cur) < 0)
                        return vgpu_error_sys (err, errno, "sandbox %s: raising CAP_SETPCAP", p->name);
                for (int c = 0; c < 64; c++) {
                        if (keep & CAP (c) || prctl (PR_CAPBSET_DROP, c, 0, 0, 0) == 0)
                                continue;
                        if (errno == EINVAL) /* past the kernel's last capability */
                                break;
                        return vgpu_error_sys (err, errno, "sandbox %s: dropping capability %d from the bounding set",
                                               p->name, c);
                }
        }
        if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return vgpu_error_sys (err, errno, "sandbox %s: clearing ambient capabilities", p->name);
        keep &= permitted;
        next[0].effective = next[0].permitted = (uint32_t) keep;
        next[1].effective = next[1].permitted = (uint32_t) (keep >> 32);
        if (capset_all (next) < 0)
                return vgpu_error_sys (err, errno, "sandbox %s: setting capabilities", p->name);
        return 0;
}

int
vgpu_sandbox_enter (vgpu_sandbox_profile_t profile, vgpu_error_t *err)
{
        _cleanup_free_ struct sock_filter *insns = NULL;
        const profile_t *p = profile_of (profile);
        struct sock_fprog prog;
        size_t len;
        int r;

        if (!p)
                return vgpu_error_set (err, EINVAL, "sandbox profile %d does not exist", (int) profile);
        r = vgpu_sandbox_filter (profile, getpid (), &insns, &len);
        if (r < 0)
                return vgpu_error_sys (err, -r, "sandbox %s: seccomp program", p->name);
        r = drop_caps (p, p->caps, err);
        if (r < 0)
                return r;
        if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return vgpu_error_sys (err, errno, "sandbox %s: PR_SET_NO_NEW_PRIVS", p->name);
        prog = (struct sock_fprog) { .len = (unsigned short) len, .filter = insns };
        /* SECCOMP_FILTER_FLAG_LOG: denials reach the kernel log (audit type 1326), the trail when a
         * command gets EPERM */
        if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_LOG, &prog) < 0)
                return vgpu_error_sys (err, errno, "sandbox %s: loading the seccomp filter", p->name);
        return 0;
}
