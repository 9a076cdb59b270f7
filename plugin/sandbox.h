/* sandbox.h — least privilege for each command: capabilities and seccomp.
 *
 * Each binary enters one profile right after parsing its arguments and
 * before it reads stdin, config.json or any other input: the capabilities
 * the command needs are kept in the effective, permitted and bounding sets
 * and every other one is dropped (inheritable and ambient cleared), then
 * PR_SET_NO_NEW_PRIVS, then a seccomp allowlist of the syscalls that command
 * makes.  An unlisted syscall fails with EPERM; a short denylist of calls
 * only an exploited process would make (execve, socket — but AF_UNIX in
 * device-plugin, ptrace, module and kexec loads, mount and namespace
 * changes, ...) kills the process.
 *
 * The profiles, the capabilities each keeps and the reason for each
 * capability are the tables at the top of sandbox.c, in one place; the
 * README's Privileges table says the same (unit-sandbox compares them).
 * The syscalls of each profile are seccomp-rules.c's, compiled to BPF at
 * build time: entering costs a few syscalls, no filter is built at run
 * time and no libcap or libseccomp is linked.
 * Everything else a command writes outside a container is root's — sysfs
 * `create`/`remove` (mode 0200, and the kernel's mdev code checks no
 * capability), the ledger (0700), CDI spec and mdevctl directories — so as
 * uid 0 the owner's permission bits suffice and those profiles keep none.
 *
 * Builds with AddressSanitizer additionally allow what its runtime needs
 * (LeakSanitizer's exit-time check ptraces the process itself). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct sock_filter;

typedef enum vgpu_sandbox_profile {
        VGPU_SANDBOX_VGPUCTL_READ,
        VGPU_SANDBOX_VGPUCTL_WRITE,
        VGPU_SANDBOX_VGPUCTL_FORCE,
        VGPU_SANDBOX_HOOK_PRECREATE,
        VGPU_SANDBOX_HOOK_ATTACH,
        VGPU_SANDBOX_HOOK_POSTSTOP,
        VGPU_SANDBOX_HOOK_ANY,
        VGPU_SANDBOX_RUNTIME,
        VGPU_SANDBOX_CDI_READ,
        VGPU_SANDBOX_CDI_GENERATE,
        VGPU_SANDBOX_CDI_PREPARE,
        VGPU_SANDBOX_DEVICE_PLUGIN,
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

/* The i-th capability profile keeps: its name ("CAP_MKNOD") and why it is
 * kept; NULL past the last. */
const char *vgpu_sandbox_cap (vgpu_sandbox_profile_t profile, size_t i, const char **ret_why);

/* The seccomp program profile loads in process self, as vgpu_sandbox_enter
 * loads it: the build-time BPF with self patched in.  0 or a negative errno;
 * *ret is malloc'd. */
int vgpu_sandbox_filter (vgpu_sandbox_profile_t profile, pid_t self, struct sock_filter **ret, size_t *ret_len);
