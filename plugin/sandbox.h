/* sandbox.h — least privilege for each command: capabilities and seccomp.
 *
 * Each binary enters one profile right after parsing its arguments and
 * before it reads stdin, config.json or any other input: the capabilities
 * the command needs are kept in the effective, permitted and bounding sets
 * and every other one is dropped (inheritable and ambient cleared), then
 * PR_SET_NO_NEW_PRIVS, then a seccomp allowlist of the syscalls that command
 * makes.  An unlisted syscall fails with EPERM; a short denylist of calls
 * only an exploited process would make (execve, socket, ptrace, module and
 * kexec loads, mount and namespace changes, ...) kills the process.
 *
 * Capabilities kept per profile (all others are gone from every set):
 *
 *   profile            commands                        capabilities
 *   vgpuctl-read       vgpuctl types, list             none
 *   vgpuctl-write      vgpuctl allocate, release, gc   none
 *   hook-precreate     vgpu-hook precreate             none
 *   hook-poststop      vgpu-hook poststop              none
 *   hook-attach        vgpu-hook prestart,             CAP_SYS_ADMIN, CAP_SYS_CHROOT,
 *                      createRuntime                   CAP_MKNOD, CAP_SYS_PTRACE
 *   hook               vgpu-hook without a stage       the union: as hook-attach
 *                      (hooks.d: the input decides)
 *   cdi-read           vgpu-cdi list, check            none
 *   cdi-generate       vgpu-cdi generate, remove       none
 *   cdi-prepare        vgpu-cdi prepare, unprepare     none
 *
 * Why "none" is enough: the toolkit runs as uid 0 and everything it writes
 * outside a container is root's — sysfs `create`/`remove` (mode 0200, and
 * the kernel's mdev code checks no capability), the ledger (0700), CDI spec
 * and mdevctl directories — so the owner's permission bits suffice.
 *
 * Why hook-attach needs each (measured on kernel 6.18):
 *   CAP_SYS_ADMIN     setns() into the container's mount namespace; writing
 *                     cgroup v1 devices.allow/deny (the devices controller
 *                     checks it); BPF_PROG_GET_FD_BY_ID (nothing else will
 *                     do).  It also covers the rest of the cgroup2 path,
 *                     which would otherwise want CAP_BPF + CAP_NET_ADMIN
 *                     (PROG_LOAD), CAP_NET_ADMIN (PROG_QUERY) and CAP_BPF
 *                     (OBJ_GET_INFO_BY_FD with instructions); PROG_ATTACH
 *                     needs none.
 *   CAP_NET_ADMIN     BPF_PROG_QUERY on kernels before 6.4 (Debian 12's
 *                     6.1) checks exactly this capability, SYS_ADMIN does
 *                     not stand in for it (measured in the VM tier: EPERM).
 *   CAP_BPF           BPF_PROG_LOAD and OBJ_GET_INFO_BY_FD there take
 *                     CAP_BPF (or SYS_ADMIN); kept so the set is the same
 *                     on every kernel the toolkit supports.
 *   CAP_SYS_CHROOT    setns(CLONE_NEWNS) checks it besides CAP_SYS_ADMIN.
 *   CAP_MKNOD         mknodat() of the char nodes.
 *   CAP_SYS_PTRACE    opening /proc/PID/ns/mnt of the container's init:
 *                     runc and crun keep it non-dumpable until it execs
 *                     (EACCES without).
 * Not kept: CAP_DAC_OVERRIDE/CAP_FOWNER — the container's /dev is a tmpfs of
 * root's; in a container with a user namespace it belongs to the mapped
 * root, where the hook's unmapped fsuid gets EOVERFLOW with or without them.
 *
 * The seccomp profiles (syscall groups) are listed in sandbox.c.  Builds
 * with AddressSanitizer additionally allow what its runtime needs
 * (LeakSanitizer's exit-time check ptraces the process itself). */
#pragma once

#include <stdint.h>

#include "error.h"

typedef enum vgpu_sandbox_profile {
        VGPU_SANDBOX_VGPUCTL_READ,
        VGPU_SANDBOX_VGPUCTL_WRITE,
        VGPU_SANDBOX_HOOK_PRECREATE,
        VGPU_SANDBOX_HOOK_ATTACH,
        VGPU_SANDBOX_HOOK_POSTSTOP,
        VGPU_SANDBOX_HOOK_ANY,
        VGPU_SANDBOX_CDI_READ,
        VGPU_SANDBOX_CDI_GENERATE,
        VGPU_SANDBOX_CDI_PREPARE,
        VGPU_SANDBOX_N_PROFILES,
} vgpu_sandbox_profile_t;

/* Enter profile: drop capabilities, set no_new_privs, load the seccomp
 * filter.  Irreversible.  Without CAP_SETPCAP (not run as root) the bounding
 * set cannot shrink; no_new_privs and the exec ban make it moot. */
int vgpu_sandbox_enter (vgpu_sandbox_profile_t profile, vgpu_error_t *err);

/* "hook-attach", ... (NULL for an unknown profile). */
const char *vgpu_sandbox_name (vgpu_sandbox_profile_t profile);

/* The capabilities profile keeps, as a mask of CAP_TO_MASK-style bits
 * (1 << CAP_x), as /proc/PID/status prints them. */
uint64_t vgpu_sandbox_caps (vgpu_sandbox_profile_t profile);
