/* seccomp-rules.c — see seccomp-rules.h.
 *
 * The allowlists are built from groups, each the syscalls one concern of the
 * library makes (measured with strace -f over the unit, simulator and
 * runtime tests, then checked against the kernel's log of denials; glibc
 * 2.36 on x86_64 — other arches need their own measuring):
 *
 *   base    every command: stdio, malloc, sysfs and /proc reads, json-c,
 *           libuuid (getrandom), the create poll (clock_nanosleep)
 *   ledger  open and lock the ledger, make spec directories: mkdir, flock
 *   write   atomic writes and deletes: ledger records, CDI specs, mdevctl
 *           definitions (fchmod, fsync, renameat, unlink)
 *   child   the helper the library starts (task.h: the writer of a remove,
 *           an unbind, sriov_numvfs): clone without namespace flags, poll of
 *           its pidfd, wait, close_range, the caller's CPU affinity (getcpu
 *           where the vDSO cannot serve)
 *   attach  into a container, through /proc/PID/root: mknodat, umask
 *   bpf     bpf() for the five commands of the cgroup2 device path (attach,
 *           and vgpuctl release --force's deny)
 *   daemon  the kubelet device plugin (measured with strace -f over the
 *           tests/kubelet suite, gRPC core 1.51, then checked against the
 *           kernel's log of denials): its server and client on unix
 *           sockets, gRPC's threads (clone without CLONE_NEW*, rseq and
 *           set_robust_list as each starts, PR_SET_NAME), gRPC's epoll
 *           poller and eventfd wakeups, the loop's signalfd and inotify,
 *           uname (gRPC's check for the socket error queue logs an error
 *           without it), sched_getparam/sched_getscheduler (absl's mutex
 *           reads its thread's priority) and lseek (absl reads
 *           /etc/localtime when gRPC makes an error)
 *
 * Syscalls with arguments worth pinning are allowed only with them: ioctl
 * TCGETS (stdio's isatty), kill/tgkill of the process itself (abort, the
 * crash-point build), clone without CLONE_NEW* (clone3 answers ENOSYS so
 * glibc falls back to clone, whose flags a filter can see), socket for
 * AF_UNIX only (the daemon; gRPC's probe of AF_INET for SO_REUSEPORT gets
 * EPERM and it does without).
 *
 * Unlisted syscalls fail with EPERM, so a fallback glibc may take still
 * fails cleanly; the calls in `deadly` kill the process instead: none of
 * them has a reason to happen in any command, and each is what an exploit
 * would do next (run a program, reach the network, debug or write another
 * process, load kernel code, mount, change namespaces: no profile calls
 * setns, the hook reaches a container's mount namespace through
 * /proc/PID/root). */
#include "seccomp-rules.h"

#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define VGPU_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VGPU_SANITIZED 1
#endif
#endif

enum {
        G_LEDGER = 1 << 0,
        G_WRITE = 1 << 1,
        G_CHILD = 1 << 2,
        G_ATTACH = 1 << 3, /* mknodat into a container's /dev */
        G_BPF = 1 << 4,    /* the cgroup2 device program commands */
        G_DAEMON = 1 << 5, /* the kubelet device plugin: gRPC on unix sockets, its loop */
};

#define WRITER (G_LEDGER | G_WRITE | G_CHILD)

/* The syscall groups of each profile (sandbox.h names them). */
static const unsigned profile_groups[VGPU_SANDBOX_N_PROFILES] = {
        [VGPU_SANDBOX_VGPUCTL_READ] = G_LEDGER,
        [VGPU_SANDBOX_VGPUCTL_WRITE] = WRITER,
        /* deny in the cgroup, unlink through /proc/PID/root: no setns, no mknod */
        [VGPU_SANDBOX_VGPUCTL_FORCE] = WRITER | G_BPF,
        [VGPU_SANDBOX_HOOK_PRECREATE] = WRITER,
        [VGPU_SANDBOX_HOOK_ATTACH] = WRITER | G_ATTACH | G_BPF,
        [VGPU_SANDBOX_HOOK_POSTSTOP] = WRITER,
        /* hooks.d without a stage: the stage is read after entering, so the union */
        [VGPU_SANDBOX_HOOK_ANY] = WRITER | G_ATTACH | G_BPF,
        /* vgpu-runtime's child for create and run: precreate, config.json, release */
        [VGPU_SANDBOX_RUNTIME] = WRITER,
        [VGPU_SANDBOX_CDI_READ] = G_LEDGER,
        [VGPU_SANDBOX_CDI_GENERATE] = WRITER,
        [VGPU_SANDBOX_CDI_PREPARE] = WRITER,
        [VGPU_SANDBOX_DEVICE_PLUGIN] = WRITER | G_DAEMON,
};

/* clang-format off */
/* Measured, plus glibc plumbing a rare path needs: signal delivery and
 * return (abort, assert), restart_syscall after a stop, futex for a
 * contended stdio or malloc lock, mremap for realloc of large blocks,
 * clock_gettime/gettimeofday where the vDSO cannot serve. */
static const int sys_base[] = {
        SCMP_SYS (read), SCMP_SYS (write), SCMP_SYS (close), SCMP_SYS (openat), SCMP_SYS (openat2),
        SCMP_SYS (fcntl), SCMP_SYS (getdents64), SCMP_SYS (newfstatat), SCMP_SYS (access), SCMP_SYS (faccessat2),
        SCMP_SYS (readlinkat), SCMP_SYS (mmap), SCMP_SYS (munmap), SCMP_SYS (mremap), SCMP_SYS (mprotect),
        SCMP_SYS (brk), SCMP_SYS (madvise), SCMP_SYS (rt_sigaction), SCMP_SYS (rt_sigprocmask),
        SCMP_SYS (rt_sigreturn), SCMP_SYS (restart_syscall), SCMP_SYS (futex), SCMP_SYS (getrandom),
        SCMP_SYS (clock_gettime), SCMP_SYS (gettimeofday), SCMP_SYS (clock_nanosleep), SCMP_SYS (getpid),
        SCMP_SYS (gettid), SCMP_SYS (getppid), SCMP_SYS (getuid), SCMP_SYS (exit), SCMP_SYS (exit_group),
};

static const int sys_ledger[] = { SCMP_SYS (mkdirat), SCMP_SYS (mkdir), SCMP_SYS (flock) };

static const int sys_write[] = {
        SCMP_SYS (fchmod), SCMP_SYS (fsync), SCMP_SYS (renameat), SCMP_SYS (unlinkat), SCMP_SYS (unlink),
};

static const int sys_child[] = {
        SCMP_SYS (wait4),          SCMP_SYS (poll), SCMP_SYS (close_range), SCMP_SYS (sched_getaffinity),
        SCMP_SYS (sched_setaffinity), SCMP_SYS (getcpu),
};

static const int sys_attach[] = { SCMP_SYS (mknodat), SCMP_SYS (umask) };

static const int sys_daemon[] = {
        SCMP_SYS (bind), SCMP_SYS (listen), SCMP_SYS (accept4), SCMP_SYS (connect), SCMP_SYS (getsockname),
        SCMP_SYS (getpeername), SCMP_SYS (getsockopt), SCMP_SYS (setsockopt), SCMP_SYS (sendmsg), SCMP_SYS (recvmsg),
        SCMP_SYS (shutdown), SCMP_SYS (epoll_create1), SCMP_SYS (epoll_ctl), SCMP_SYS (epoll_wait),
        SCMP_SYS (epoll_pwait), SCMP_SYS (eventfd2), SCMP_SYS (signalfd4), SCMP_SYS (inotify_init1),
        SCMP_SYS (inotify_add_watch), SCMP_SYS (rseq), SCMP_SYS (sched_yield), SCMP_SYS (lseek), SCMP_SYS (uname),
        SCMP_SYS (sched_getparam), SCMP_SYS (sched_getscheduler),
};

/* The cgroup2 device path (bpf.c), nothing else of bpf(). */
static const int bpf_cmds[] = { BPF_PROG_LOAD, BPF_PROG_ATTACH, BPF_PROG_QUERY, BPF_PROG_GET_FD_BY_ID,
                                BPF_OBJ_GET_INFO_BY_FD };

static const int deadly[] = {
        SCMP_SYS (execve), SCMP_SYS (execveat), SCMP_SYS (socketpair),
        SCMP_SYS (process_vm_readv), SCMP_SYS (process_vm_writev), SCMP_SYS (init_module),
        SCMP_SYS (finit_module), SCMP_SYS (delete_module), SCMP_SYS (kexec_load), SCMP_SYS (kexec_file_load),
        SCMP_SYS (mount), SCMP_SYS (umount2), SCMP_SYS (pivot_root), SCMP_SYS (chroot), SCMP_SYS (move_mount),
        SCMP_SYS (open_tree), SCMP_SYS (fsopen), SCMP_SYS (fsmount), SCMP_SYS (fspick), SCMP_SYS (mount_setattr),
        SCMP_SYS (unshare), SCMP_SYS (setns), SCMP_SYS (reboot),
};

#ifdef VGPU_SANITIZED
/* The AddressSanitizer runtime, measured on its denials (the kernel's log):
 * reports (open, lseek, readlink of /proc/self/exe, sigaltstack), each new
 * thread's stack bounds (pthread_getattr_np: sched_getaffinity) and LeakSanitizer's
 * exit-time check — a clone()d tracer that lists /proc/self/task
 * (getdents), ptrace()s this process and is waited for. */
static const int sys_sanitizer[] = {
        SCMP_SYS (open),  SCMP_SYS (readlink), SCMP_SYS (getdents), SCMP_SYS (sigaltstack), SCMP_SYS (sched_yield),
        SCMP_SYS (wait4), SCMP_SYS (lseek),    SCMP_SYS (sched_getaffinity),
};
static const int prctl_sanitizer[] = { PR_SET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_PTRACER };
#endif

/* clang-format on */

/* Namespace flags clone() must not carry (CLONE_NEWTIME is an exit signal
 * bit for clone(); only clone3/unshare take it). */
#define CLONE_NS_FLAGS                                                                                                 \
        (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

static inline void
vgpu_seccomp_releasep (scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release (*ctx);
}

#define _cleanup_seccomp_ _cleanup_ (vgpu_seccomp_releasep)

/* SCMP_Ax() leave datum_b unset, which clang -Wextra rejects. */
static struct scmp_arg_cmp
arg_is (unsigned arg, scmp_datum_t value)
{
        return (struct scmp_arg_cmp) { .arg = arg, .op = SCMP_CMP_EQ, .datum_a = value, .datum_b = 0 };
}

static struct scmp_arg_cmp
arg_masked_is (unsigned arg, scmp_datum_t mask, scmp_datum_t value)
{
        return (struct scmp_arg_cmp) { .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask, .datum_b = value };
}

/* A syscall the native arch lacks (SCMP_SYS gives a pseudo number) is
 * skipped by libseccomp: the tables can name every arch's spelling. */
static int
add_all (scmp_filter_ctx ctx, uint32_t action, const int *nrs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = seccomp_rule_add (ctx, action, nrs[i], 0);

                if (r < 0)
                        return r;
        }
        return 0;
}

/* Allow nr when argument arg equals one of values. */
static int
add_arg_in (scmp_filter_ctx ctx, int nr, unsigned arg, const int *values, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, nr, 1, arg_is (arg, (unsigned) values[i]));

                if (r < 0)
                        return r;
        }
        return 0;
}

static int
add_self_and_clone (scmp_filter_ctx ctx, pid_t self, bool child)
{
        int r;

        r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (kill), 1, arg_is (0, (scmp_datum_t) self));
        if (r == 0)
                r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (tgkill), 1, arg_is (0, (scmp_datum_t) self));
        if (r == 0)
                r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (ioctl), 1, arg_masked_is (1, 0xffffffffu, TCGETS));
        if (r < 0 || !child)
                return r;
        r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (clone), 1, arg_masked_is (0, CLONE_NS_FLAGS, 0));
        if (r == 0)
                r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (clone3), 0);
        return r;
}

static int
add_attach (scmp_filter_ctx ctx, bool attach, bool bpf)
{
        int r;

        r = attach ? add_all (ctx, SCMP_ACT_ALLOW, sys_attach, ARRAY_SIZE (sys_attach)) : 0;
        if (r == 0 && !bpf)
                r = seccomp_rule_add (ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS (bpf), 0);
        else if (r == 0)
                r = add_arg_in (ctx, SCMP_SYS (bpf), 0, bpf_cmds, ARRAY_SIZE (bpf_cmds));
        return r;
}

/* socket(): deadly, except AF_UNIX ones for the daemon (others EPERM, as
 * gRPC probes AF_INET once). */
static int
add_daemon (scmp_filter_ctx ctx, bool daemon)
{
        int r;

        if (!daemon)
                return seccomp_rule_add (ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS (socket), 0);
        r = add_all (ctx, SCMP_ACT_ALLOW, sys_daemon, ARRAY_SIZE (sys_daemon));
        if (r == 0)
                r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (socket), 1, arg_is (0, AF_UNIX));
        if (r == 0)
                r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (prctl), 1, arg_is (0, PR_SET_NAME));
        return r;
}

/* ptrace: deadly, except (sanitizer builds) LeakSanitizer's tracer
 * attaching to this very process — to each of its threads in the daemon,
 * whose thread ids no filter can tell from other processes' pids. */
static int
add_ptrace_and_prctl (scmp_filter_ctx ctx, pid_t self, bool child, bool daemon)
{
#ifdef VGPU_SANITIZED
        struct scmp_arg_cmp other = arg_is (1, (scmp_datum_t) self);
        int r;

        other.op = SCMP_CMP_NE;
        if (daemon)
                r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (ptrace), 0);
        else {
                r = seccomp_rule_add (ctx, SCMP_ACT_ALLOW, SCMP_SYS (ptrace), 1, arg_is (1, (scmp_datum_t) self));
                if (r == 0)
                        r = seccomp_rule_add (ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS (ptrace), 1, other);
        }
        if (r == 0)
                r = add_all (ctx, SCMP_ACT_ALLOW, sys_sanitizer, ARRAY_SIZE (sys_sanitizer));
        if (r == 0 && !child) /* the tracer: clone(CLONE_VM | CLONE_UNTRACED | ...), never a plain fork */
                r = seccomp_rule_add (
                        ctx, SCMP_ACT_ALLOW, SCMP_SYS (clone), 1,
                        arg_masked_is (0, CLONE_NS_FLAGS | CLONE_VM | CLONE_UNTRACED, CLONE_VM | CLONE_UNTRACED));
        return r == 0 ? add_arg_in (ctx, SCMP_SYS (prctl), 0, prctl_sanitizer, ARRAY_SIZE (prctl_sanitizer)) : r;
#else
        (void) self;
        (void) child;
        (void) daemon;
        return seccomp_rule_add (ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS (ptrace), 0);
#endif
}

int
vgpu_seccomp_rules (vgpu_sandbox_profile_t profile, pid_t self, scmp_filter_ctx *ret)
{
        _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
        unsigned groups;
        bool child;
        int r;

        if ((unsigned) profile >= VGPU_SANDBOX_N_PROFILES)
                return -EINVAL;
        groups = profile_groups[profile];
        child = groups & G_CHILD;
        ctx = seccomp_init (SCMP_ACT_ERRNO (EPERM));
        if (!ctx)
                return -ENOMEM;
        r = seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r == 0) /* a binary tree of syscall numbers, not a linear list */
                r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r == 0)
                r = add_all (ctx, SCMP_ACT_ALLOW, sys_base, ARRAY_SIZE (sys_base));
        if (r == 0 && (groups & G_LEDGER))
                r = add_all (ctx, SCMP_ACT_ALLOW, sys_ledger, ARRAY_SIZE (sys_ledger));
        if (r == 0 && (groups & G_WRITE))
                r = add_all (ctx, SCMP_ACT_ALLOW, sys_write, ARRAY_SIZE (sys_write));
        if (r == 0 && child)
                r = add_all (ctx, SCMP_ACT_ALLOW, sys_child, ARRAY_SIZE (sys_child));
        if (r == 0)
                r = add_self_and_clone (ctx, self, child);
        if (r == 0)
                r = add_attach (ctx, groups & G_ATTACH, groups & G_BPF);
        if (r == 0)
                r = add_daemon (ctx, groups & G_DAEMON);
        if (r == 0)
                r = add_ptrace_and_prctl (ctx, self, child, groups & G_DAEMON);
        if (r == 0)
                r = add_all (ctx, SCMP_ACT_KILL_PROCESS, deadly, ARRAY_SIZE (deadly));
        if (r < 0)
                return r;
        *ret = TAKE_PTR (ctx);
        return 0;
}
