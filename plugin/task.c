/* task.c — see task.h.
 *
 * The child starts on the caller's CPU: the caller pins itself there for
 * the start (and puts its affinity back after), so the child inherits it.
 * Otherwise the kernel starts a child on an idle CPU, and the caller, who
 * only waits for it, pays a wakeup across CPUs both ways — milliseconds in
 * a VM whose vCPUs the host has to schedule (in the TCG guest the remove
 * took 12.3 ms unpinned and 4.8 ms pinned).
 *
 * The child runs on a stack in this process's bss (it calls nothing and
 * needs a few hundred bytes of it) or, while an earlier writer that
 * outlived its call holds that one, on an mmap'd stack with a guard page
 * below it.  The writer of vgpu_task_write_bounded may outlive the call
 * (and the caller): it keeps its job and stack, never given back, and makes
 * its syscalls raw — glibc's wrappers would set errno, which is the
 * caller's thread-local variable, shared with a CLONE_VM child. */
#include "task.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "util.h"

#define STACK_SIZE (64 * 1024)
#define GUARD_SIZE 4096

/* A syscall that returns -errno instead of setting errno. */
static inline long
raw_syscall3 (long nr, long a, long b, long c)
{
#if defined(__x86_64__)
        long r;

        __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
        return r;
#elif defined(__aarch64__)
        register long x8 __asm__("x8") = nr;
        register long x0 __asm__("x0") = a;
        register long x1 __asm__("x1") = b;
        register long x2 __asm__("x2") = c;

        __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory", "cc");
        return x0;
#else
#error "task.c: raw_syscall3 for this architecture (a CLONE_VM child must not set the caller's errno)"
#endif
}

/* A stack mapping: guard page, then STACK_SIZE bytes; NULL on failure. */
static char *
stack_map (void)
{
        char *m = mmap (NULL, GUARD_SIZE + STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                        -1, 0);

        if (m == MAP_FAILED)
                return NULL;
        if (mprotect (m, GUARD_SIZE, PROT_NONE) < 0) {
                munmap (m, GUARD_SIZE + STACK_SIZE);
                return NULL;
        }
        return m;
}

static void
stack_unmap (char *m)
{
        munmap (m, GUARD_SIZE + STACK_SIZE);
}

/* Pin the caller to the CPU it runs on; *saved gets the affinity to put
 * back (false when none was taken: then there is nothing to restore). */
static bool
pin_here (cpu_set_t *saved)
{
        cpu_set_t here;
        int cpu = sched_getcpu ();

        if (cpu < 0 || sched_getaffinity (0, sizeof *saved, saved) < 0)
                return false;
        CPU_ZERO (&here);
        CPU_SET (cpu, &here);
        return sched_setaffinity (0, sizeof here, &here) == 0;
}

static void
unpin (bool pinned, const cpu_set_t *saved)
{
        if (pinned)
                sched_setaffinity (0, sizeof *saved, saved);
}

/* 16-byte aligned: the child's stack starts right below it */
typedef struct __attribute__ ((aligned (16))) write_job {
        int fd;
        const void *buf;
        size_t len;
        int result; /* errno of the write, 0 when it wrote */
        bool done;
} write_job_t;

static int
write_child (void *arg)
{
        write_job_t *job = arg;
        long r;

        if (job->fd > 0)
                raw_syscall3 (SYS_close_range, 0, job->fd - 1, 0);
        raw_syscall3 (SYS_close_range, job->fd + 1, ~0U, 0);
        r = raw_syscall3 (SYS_write, job->fd, (long) job->buf, (long) job->len);
        job->result = r < 0 ? (int) -r : 0;
        __atomic_store_n (&job->done, true, __ATOMIC_RELEASE);
        return 0;
}

/* Poll pidfd until the child exits or timeout_ms pass: 1, 0, or -errno. */
static int
wait_exit (int pidfd, unsigned timeout_ms)
{
        long long deadline = vgpu_now_ms () + timeout_ms;
        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

        for (;;) {
                long long left = deadline - vgpu_now_ms ();
                int n = poll (&pfd, 1, left > 0 ? (int) left : 0);

                if (n >= 0)
                        return n;
                if (errno != EINTR)
                        return -errno;
        }
}

/* The stack of the usual writer: in this process's bss, so a write costs no
 * mmap, munmap (a TLB shootdown) or fault of a fresh mapping — 1 to 1.5 ms
 * a write in the TCG guest, more than the remove itself.  Taken while a
 * writer runs on it; one that outlived its call keeps it for good, and the
 * next write gets a mapping of its own. */
#define BSS_STACK_SIZE (16 * 1024)
static char bss_stack[BSS_STACK_SIZE] __attribute__ ((aligned (16)));
static bool bss_stack_taken;

/* A stack for one writer: its top (the job goes right below it) and, when
 * it is a mapping, the mapping's start in *ret_map. */
static char *
stack_take (char **ret_map)
{
        *ret_map = NULL;
        if (!bss_stack_taken) {
                bss_stack_taken = true;
                return bss_stack + BSS_STACK_SIZE;
        }
        *ret_map = stack_map ();
        return *ret_map ? *ret_map + GUARD_SIZE + STACK_SIZE : NULL;
}

/* The writer has exited: its stack is free again. */
static void
stack_give (char *map)
{
        if (map)
                stack_unmap (map);
        else
                bss_stack_taken = false;
}

int
vgpu_task_write_bounded (int fd, const void *buf, size_t len, unsigned timeout_ms, int *ret_errno)
{
        char *map, *top = stack_take (&map);
        write_job_t *job;
        cpu_set_t saved;
        bool pinned;
        int pidfd = -1, r;
        pid_t pid;

        if (!top)
                return -errno;
        /* the job at the top of the stack, the stack growing down from it */
        job = (write_job_t *) top - 1;
        *job = (write_job_t) { .fd = fd, .buf = buf, .len = len };
        pinned = pin_here (&saved);
        pid = clone (write_child, job, CLONE_VM | CLONE_PIDFD | SIGCHLD, job, &pidfd);
        if (pid < 0) {
                r = -errno;
                unpin (pinned, &saved);
                stack_give (map);
                return r;
        }
        r = wait_exit (pidfd, timeout_ms);
        unpin (pinned, &saved);
        close (pidfd);
        if (r <= 0)
                return r == 0 ? -ETIMEDOUT : r; /* the child keeps its stack: never given back */
        while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
                ;
        r = __atomic_load_n (&job->done, __ATOMIC_ACQUIRE) ? 0 : -ECHILD;
        if (r == 0)
                *ret_errno = job->result;
        stack_give (map);
        return r;
}
