/* test-sandbox.c — every profile entered for real, in forked children.
 *
 * A child enters the profile and then does one thing; the parent judges by
 * how it ended: exit 0 (it worked), exit 1 (it was refused, as expected:
 * the child checks errno itself) or killed by SIGSYS.  Checked per profile:
 * the capability sets and NoNewPrivs/Seccomp in /proc/self/status; that
 * execve, socket, ptrace, module loads, mount, unshare and setns kill; that
 * an unlisted syscall is EPERM and clone3 ENOSYS; and that the syscalls each
 * profile is for still work: reading, writing the ledger, the helper of
 * task.h, (hook-attach) mknod of a node through /proc/PID/root and a BPF
 * program load, and (device-plugin) a unix socket server and client, epoll, eventfd,
 * inotify, signalfd and a named thread, a TCP socket refused.  Capability
 * checks need root; so does the attach workload.
 *
 * The seccomp programs are compiled at build time: the program a binary
 * loads (vgpu_sandbox_filter, and what the kernel holds after entering,
 * read back with PTRACE_SECCOMP_GET_FILTER) must equal what libseccomp
 * builds at run time from the same rules for the same pid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf.h"
#include "inject.h"
#include "mdev.h"
#include "sandbox.h"
#include "seccomp-rules.h"
#include "task.h"
#include "testutil.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED true
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED true
#endif
#endif
#ifndef SANITIZED
#define SANITIZED false
#endif

#define REFUSED 1  /* child exit: the call was refused as expected */
#define BROKEN 2   /* child exit: something the profile needs failed */
#define NO_ENTRY 3 /* child exit: vgpu_sandbox_enter failed */

static char tmp[64];

typedef int (*child_fn) (void);

/* Run fn in a child that first enters profile; its wait status. */
static int
in_profile (vgpu_sandbox_profile_t profile, child_fn fn)
{
        pid_t pid = fork ();
        int status;

        assert_true (pid >= 0);
        if (pid == 0) {
                vgpu_error_t err = { 0 };

                if (vgpu_sandbox_enter (profile, &err) < 0) {
                        fprintf (stderr, "enter %s: %s\n", vgpu_sandbox_name (profile), err.msg);
                        _exit (NO_ENTRY);
                }
                _exit (fn ());
        }
        assert_int_equal (waitpid (pid, &status, 0), pid);
        return status;
}

static void
assert_exit (int status, int code, vgpu_sandbox_profile_t p, const char *what)
{
        if (!WIFEXITED (status) || WEXITSTATUS (status) != code)
                fail_msg ("%s in profile %s: wanted exit %d, got %s %d", what, vgpu_sandbox_name (p), code,
                          WIFEXITED (status) ? "exit" : "signal",
                          WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
}

static void
assert_killed (int status, vgpu_sandbox_profile_t p, const char *what)
{
        if (!WIFSIGNALED (status) || WTERMSIG (status) != SIGSYS)
                fail_msg ("%s in profile %s: wanted death by SIGSYS, got %s %d", what, vgpu_sandbox_name (p),
                          WIFEXITED (status) ? "exit" : "signal",
                          WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
}

/* A field of /proc/self/status, as text; "" when absent. */
static void
status_field (const char *name, char *out, size_t size)
{
        _cleanup_free_ char *text = NULL;
        size_t len = strlen (name);

        out[0] = '\0';
        if (vgpu_read_file_at (AT_FDCWD, "/proc/self/status", 1 << 16, &text, NULL) < 0)
                return;
        for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n"))
                if (strncmp (line, name, len) == 0 && line[len] == ':') {
                        line += len + 1;
                        line += strspn (line, " \t");
                        snprintf (out, size, "%s", line);
                        return;
                }
}

static uint64_t
status_caps (const char *name)
{
        char v[64];

        status_field (name, v, sizeof v);
        return strtoull (v, NULL, 16);
}

static void
setup_tmp (void)
{
        strcpy (tmp, "/tmp/vgpu-test-sandbox.XXXXXX");
        assert_non_null (mkdtemp (tmp));
}

static int
setup (void **state)
{
        (void) state;
        setup_tmp ();
        return 0;
}

static int
teardown (void **state)
{
        (void) state;
        if (tmp[0])
                test_rm_tree (tmp);
        tmp[0] = '\0';
        return 0;
}

/* --- what the child does --- */

static uint64_t want_caps, want_bnd;
static bool check_bnd;

static int
c_status (void)
{
        char nnp[16], sec[16];

        status_field ("NoNewPrivs", nnp, sizeof nnp);
        status_field ("Seccomp", sec, sizeof sec);
        if (status_caps ("CapEff") != want_caps || status_caps ("CapPrm") != want_caps || status_caps ("CapInh") != 0 ||
            status_caps ("CapAmb") != 0 || (check_bnd && status_caps ("CapBnd") != want_bnd) ||
            strcmp (nnp, "1") != 0 || strcmp (sec, "2") != 0) {
                fprintf (stderr,
                         "CapEff %" PRIx64 " CapPrm %" PRIx64 " CapBnd %" PRIx64 " (want %" PRIx64 "/%" PRIx64
                         ") NoNewPrivs %s Seccomp %s\n",
                         status_caps ("CapEff"), status_caps ("CapPrm"), status_caps ("CapBnd"), want_caps, want_bnd,
                         nnp, sec);
                return BROKEN;
        }
        return 0;
}

static int
c_execve (void)
{
        execl ("/bin/true", "true", (char *) NULL);
        return BROKEN;
}

static int
c_socket (void)
{
        socket (AF_UNIX, SOCK_STREAM, 0);
        return BROKEN;
}

static int
c_ptrace (void)
{
        ptrace (PTRACE_ATTACH, getppid (), NULL, NULL);
        return BROKEN;
}

static int
c_module (void)
{
        syscall (SYS_finit_module, -1, "", 0);
        return BROKEN;
}

static int
c_mount (void)
{
        mount ("none", tmp, "tmpfs", 0, NULL);
        return BROKEN;
}

static int
c_unshare (void)
{
        unshare (CLONE_NEWNS);
        return BROKEN;
}

/* No profile joins a namespace: the hook reaches a container's through
 * /proc/PID/root. */
static int
c_setns (void)
{
        _cleanup_close_ int ns = open ("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);

        if (ns >= 0)
                setns (ns, CLONE_NEWNS);
        return BROKEN;
}

static const struct {
        const char *name;
        child_fn fn;
} deadly[] = {
        { "execve", c_execve }, { "socket", c_socket },   { "ptrace", c_ptrace }, { "finit_module", c_module },
        { "mount", c_mount },   { "unshare", c_unshare }, { "setns", c_setns },
};

/* Not in any allowlist: EPERM, the process lives on. */
static int
c_unlisted (void)
{
        return syscall (SYS_sysinfo, NULL) < 0 && errno == EPERM ? REFUSED : BROKEN;
}

static int
c_clone3 (void)
{
        return syscall (SYS_clone3, NULL, 0) < 0 && errno == ENOSYS ? REFUSED : BROKEN;
}

/* Signals: to itself fine, to anyone else refused. */
static int
c_signals (void)
{
        if (kill (getpid (), 0) < 0)
                return BROKEN;
        return kill (getppid (), 0) < 0 && errno == EPERM ? REFUSED : BROKEN;
}

/* Every profile: sysfs-style reads, ledger open and lock, uuid, sleep. */
static int
c_read (void)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int dfd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC), lock = -1;
        char uuid[VGPU_UUID_LEN + 1], link[64];
        DIR *d;

        if (dfd < 0 || vgpu_read_file_at (AT_FDCWD, "/proc/self/status", 1 << 16, &text, NULL) < 0)
                return BROKEN;
        if (mkdirat (dfd, "ledger", 0700) < 0 || readlinkat (AT_FDCWD, "/proc/self/exe", link, sizeof link) < 0)
                return BROKEN;
        lock = openat (dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock < 0 || flock (lock, LOCK_EX) < 0 || !(d = opendir (tmp)))
                return BROKEN;
        while (readdir (d))
                ;
        closedir (d);
        vgpu_uuid_new (uuid);
        usleep (1000);
        isatty (STDOUT_FILENO);
        return vgpu_uuid_valid (uuid) && vgpu_now_ms () > 0 ? 0 : BROKEN;
}

/* Writers: an atomic record, its removal. */
static int
c_write (void)
{
        _cleanup_close_ int dfd = open (tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (dfd < 0)
                return BROKEN;
        r = vgpu_write_file_atomic (dfd, "rec.json", "{}", 2, 0600);
        if (r < 0)
                return r == -EPERM ? REFUSED : BROKEN;
        return unlinkat (dfd, "rec.json", 0) == 0 ? 0 : BROKEN;
}

/* Writers: the helper of task.h, writing with a bound. */
static int
c_child (void)
{
        _cleanup_close_ int fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
        int code = -1, r;

        r = vgpu_task_write_bounded (fd, "x", 1, 5000, &code);
        if (r == -EPERM)
                return REFUSED;
        return r == 0 && code == 0 ? 0 : BROKEN;
}

/* A namespaced clone is refused even where fork works. */
static int
c_clone_ns (void)
{
        long r = syscall (SYS_clone, (unsigned long) (CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, NULL);

        if (r == 0)
                _exit (0);
        return r < 0 && errno == EPERM ? REFUSED : BROKEN;
}

/* hook-attach: a node through /proc/PID/root + mknodat (and back), a BPF program. */
static int
c_attach (void)
{
        vgpu_node_t node = { .path = "/dev/vfio/7", .major = 1, .minor = 3, .mode = 0666 };
        vgpu_inject_undo_t undo;
        vgpu_error_t err = { 0 };
        _cleanup_free_ struct bpf_insn *insns = NULL;
        char rootfs[96], p[160];
        struct stat st;
        size_t len;
        int fd;

        snprintf (rootfs, sizeof rootfs, "%s/rootfs", tmp);
        snprintf (p, sizeof p, "%s/dev/vfio/7", rootfs);
        if (vgpu_inject_nodes (getpid (), rootfs, &node, 1, &undo, &err) < 0) {
                fprintf (stderr, "inject: %s\n", err.msg);
                return BROKEN;
        }
        if (lstat (p, &st) < 0 || !S_ISCHR (st.st_mode) || st.st_rdev != makedev (1, 3))
                return BROKEN;
        if (vgpu_inject_undo (getpid (), rootfs, &undo, &err) < 0 || lstat (p, &st) == 0)
                return BROKEN;
        if (vgpu_bpf_build (&node, 1, NULL, 0, &insns, &len, &err) < 0 || (fd = vgpu_bpf_load (insns, len, &err)) < 0) {
                fprintf (stderr, "bpf: %s\n", err.msg);
                return BROKEN;
        }
        close (fd);
        return 0;
}

/* hook-attach: bpf() beyond the device path is refused. */
static int
c_attach_limits (void)
{
        union bpf_attr attr = { .map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1 };

        if (syscall (SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr) >= 0 || errno != EPERM)
                return BROKEN;
        return REFUSED;
}

static void *
named_thread (void *arg)
{
        (void) arg;
        return prctl (PR_SET_NAME, "event_engine") == 0 ? NULL : (void *) 1;
}

/* device-plugin: what gRPC and the daemon's loop do — a unix socket served
 * and dialled, epoll, an eventfd, inotify, a signalfd, a named thread. */
static int
c_daemon (void)
{
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        _cleanup_close_ int srv = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), cli = -1, conn = -1, ep = -1;
        _cleanup_close_ int ev = -1, ino = -1, sig = -1;
        struct epoll_event e = { .events = EPOLLIN };
        char buf[4] = { 0 };
        struct iovec out = { .iov_base = "ok", .iov_len = 2 }, in = { .iov_base = buf, .iov_len = sizeof buf };
        struct msghdr m_out = { .msg_iov = &out, .msg_iovlen = 1 }, m_in = { .msg_iov = &in, .msg_iovlen = 1 };
        pthread_t t;
        void *tr = (void *) 1;
        sigset_t set;

        snprintf (addr.sun_path, sizeof addr.sun_path, "%s/d.sock", tmp);
        if (srv < 0 || bind (srv, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (srv, 4) < 0)
                return BROKEN;
        cli = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cli < 0 || connect (cli, (struct sockaddr *) &addr, sizeof addr) < 0 ||
            (conn = accept4 (srv, NULL, NULL, SOCK_CLOEXEC)) < 0 || sendmsg (cli, &m_out, MSG_NOSIGNAL) != 2)
                return BROKEN;
        ep = epoll_create1 (EPOLL_CLOEXEC);
        if (ep < 0 || epoll_ctl (ep, EPOLL_CTL_ADD, conn, &e) < 0 || epoll_wait (ep, &e, 1, 1000) != 1 ||
            recvmsg (conn, &m_in, 0) != 2 || shutdown (conn, SHUT_RDWR) < 0)
                return BROKEN;
        ev = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
        ino = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
        sigemptyset (&set);
        sigaddset (&set, SIGHUP);
        sig = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (ev < 0 || ino < 0 || inotify_add_watch (ino, tmp, IN_CREATE) < 0 || sig < 0)
                return BROKEN;
        if (pthread_create (&t, NULL, named_thread, NULL) != 0 || pthread_join (t, &tr) != 0 || tr != NULL)
                return BROKEN;
        return 0;
}

/* device-plugin: any socket but a unix one is refused (gRPC's AF_INET probe). */
static int
c_inet (void)
{
        return socket (AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM ? REFUSED : BROKEN;
}

static int
c_mknod (void)
{
        char p[96];

        snprintf (p, sizeof p, "%s/node", tmp);
        return mknod (p, S_IFCHR | 0600, makedev (1, 3)) < 0 && errno == EPERM ? REFUSED : BROKEN;
}

/* --- the tests --- */

static bool
writer (vgpu_sandbox_profile_t p)
{
        return p != VGPU_SANDBOX_VGPUCTL_READ && p != VGPU_SANDBOX_CDI_READ;
}

static bool
attacher (vgpu_sandbox_profile_t p)
{
        return p == VGPU_SANDBOX_HOOK_ATTACH || p == VGPU_SANDBOX_HOOK_ANY;
}

static bool
is_daemon (vgpu_sandbox_profile_t p)
{
        return p == VGPU_SANDBOX_DEVICE_PLUGIN;
}

static void
test_names (void **state)
{
        (void) state;
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++)
                assert_non_null (vgpu_sandbox_name (p));
        assert_null (vgpu_sandbox_name (VGPU_SANDBOX_N_PROFILES));
        assert_string_equal (vgpu_sandbox_name (VGPU_SANDBOX_HOOK_ATTACH), "hook-attach");
}

static void
test_unknown_profile (void **state)
{
        vgpu_error_t err = { 0 };

        (void) state;
        assert_int_equal (vgpu_sandbox_enter (VGPU_SANDBOX_N_PROFILES, &err), -EINVAL);
        assert_non_null (strstr (err.msg, "does not exist"));
}

/* The documented table, and /proc/self/status after entering. */
static void
test_status (void **state)
{
        uint64_t prm = status_caps ("CapPrm"), bnd = status_caps ("CapBnd");

        (void) state;
        assert_int_equal (vgpu_sandbox_caps (VGPU_SANDBOX_VGPUCTL_READ), 0);
        assert_int_equal (vgpu_sandbox_caps (VGPU_SANDBOX_HOOK_POSTSTOP), 0);
        assert_int_equal (vgpu_sandbox_caps (VGPU_SANDBOX_HOOK_ATTACH),
                          (1ull << CAP_SYS_ADMIN) | (1ull << CAP_MKNOD) | (1ull << CAP_SYS_PTRACE) |
                                  (1ull << CAP_NET_ADMIN) | (1ull << CAP_BPF));
        assert_int_equal (vgpu_sandbox_caps (VGPU_SANDBOX_HOOK_ANY), vgpu_sandbox_caps (VGPU_SANDBOX_HOOK_ATTACH));
        assert_int_equal (vgpu_sandbox_caps (VGPU_SANDBOX_DEVICE_PLUGIN), 0);
        check_bnd = prm & (1ull << CAP_SETPCAP); /* only then can the bounding set shrink */
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++) {
                want_caps = vgpu_sandbox_caps (p) & prm;
                want_bnd = vgpu_sandbox_caps (p) & bnd;
                assert_exit (in_profile (p, c_status), 0, p, "status");
        }
}

/* The README line of the Privileges table whose first cell names profile
 * (cells may name several: "| cdi-generate, cdi-prepare |"), in row. */
static bool
readme_row (const char *readme, const char *profile, char *row, size_t size)
{
        for (const char *line = readme; line && *line; line = strchr (line, '\n'), line = line ? line + 1 : NULL) {
                size_t len = strcspn (line, "\n"), cell;

                if (strncmp (line, "| ", 2) != 0)
                        continue;
                cell = strcspn (line + 2, "|");
                for (const char *w = line + 2; w < line + 2 + cell; w += strspn (w, ", ")) {
                        size_t wl = strcspn (w, ", |");

                        if (wl == strlen (profile) && strncmp (w, profile, wl) == 0) {
                                snprintf (row, size, "%.*s", (int) len, line);
                                return true;
                        }
                        w += wl;
                }
        }
        return false;
}

/* The README's Privileges row of each profile names exactly the capabilities
 * the profile keeps, and each kept one has its reason in sandbox.c. */
static void
test_readme_caps (void **state)
{
        const char *root = getenv ("VGPU_SOURCE_ROOT");
        _cleanup_free_ char *readme = NULL;
        char path[PATH_MAX];

        (void) state;
        assert_non_null (root);
        snprintf (path, sizeof path, "%s/README.md", root);
        assert_int_equal (vgpu_read_file_at (AT_FDCWD, path, 1 << 20, &readme, NULL), 0);
        for (vgpu_sandbox_profile_t p = 0; p < VGPU_SANDBOX_N_PROFILES; p++) {
                const char *why, *name;
                size_t listed = 0, kept = 0;
                char row[2048];

                assert_true (readme_row (readme, vgpu_sandbox_name (p), row, sizeof row));
                for (const char *c = row; (c = strstr (c, "`CAP_")); c++)
                        listed++;
                for (size_t i = 0; (name = vgpu_sandbox_cap (p, i, &why)); i++, kept++) {
                        char quoted[64];

                        snprintf (quoted, sizeof quoted, "`%s`", name);
                        assert_non_null (strstr (row, quoted));
                        assert_true (strlen (why) > 10);
                }
                assert_int_equal (listed, kept);
        }
}

static void
test_deadly (void **state)
{
        (void) state;
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++)
                for (size_t i = 0; i < ARRAY_SIZE (deadly); i++)
                        /* the daemon's unix sockets are its job; in sanitizer builds LeakSanitizer
                         * ptraces each of its threads, which no filter tells from another process */
                        if (!is_daemon (p) || (deadly[i].fn != c_socket && !(SANITIZED && deadly[i].fn == c_ptrace)))
                                assert_killed (in_profile (p, deadly[i].fn), p, deadly[i].name);
}

static void
test_refused (void **state)
{
        (void) state;
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++) {
                assert_exit (in_profile (p, c_unlisted), REFUSED, p, "sysinfo");
                if (is_daemon (p))
                        assert_exit (in_profile (p, c_inet), REFUSED, p, "socket(AF_INET)");
                assert_exit (in_profile (p, c_signals), REFUSED, p, "kill of the parent");
                if (!attacher (p))
                        assert_exit (in_profile (p, c_mknod), REFUSED, p, "mknod");
                if (writer (p)) {
                        assert_exit (in_profile (p, c_clone3), REFUSED, p, "clone3");
                        assert_exit (in_profile (p, c_clone_ns), REFUSED, p, "clone(CLONE_NEWUSER)");
                }
        }
}

static void
test_needed (void **state)
{
        (void) state;
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++) {
                teardown (NULL);
                setup_tmp ();
                assert_exit (in_profile (p, c_read), 0, p, "reading and locking");
                assert_exit (in_profile (p, c_write), writer (p) ? 0 : REFUSED, p, "an atomic write");
                assert_exit (in_profile (p, c_child), writer (p) ? 0 : REFUSED, p, "the helper of task.h");
                if (is_daemon (p))
                        assert_exit (in_profile (p, c_daemon), 0, p,
                                     "unix sockets, epoll, eventfd, inotify, signalfd, a named thread");
        }
}

static void
test_attach (void **state)
{
        char p[96];

        (void) state;
        if (geteuid () != 0) {
                print_message ("skipped: mknod and /proc/PID/root of a non-dumpable process need root\n");
                skip ();
        }
        snprintf (p, sizeof p, "%s/rootfs", tmp);
        assert_int_equal (mkdir (p, 0755), 0);
        snprintf (p, sizeof p, "%s/rootfs/dev", tmp);
        assert_int_equal (mkdir (p, 0755), 0);
        for (int pr = 0; pr < VGPU_SANDBOX_N_PROFILES; pr++) {
                if (!attacher (pr))
                        continue;
                assert_exit (in_profile (pr, c_attach), 0, pr, "inject a node, load a BPF program");
                assert_exit (in_profile (pr, c_attach_limits), REFUSED, pr, "BPF_MAP_CREATE");
        }
}

/* The program libseccomp builds at run time from the same rules. */
static struct sock_filter *
runtime_program (vgpu_sandbox_profile_t p, pid_t self, size_t *ret_len)
{
        scmp_filter_ctx ctx = NULL;
        _cleanup_fclose_ FILE *f = tmpfile ();
        struct sock_filter *insns;
        long size;

        assert_non_null (f);
        assert_int_equal (vgpu_seccomp_rules (p, self, &ctx), 0);
        assert_int_equal (seccomp_export_bpf (ctx, fileno (f)), 0);
        seccomp_release (ctx);
        size = lseek (fileno (f), 0, SEEK_END);
        assert_true (size > 0 && size % (long) sizeof *insns == 0);
        insns = malloc ((size_t) size);
        assert_non_null (insns);
        assert_int_equal (pread (fileno (f), insns, (size_t) size, 0), size);
        *ret_len = (size_t) size / sizeof *insns;
        return insns;
}

static void
assert_same_program (const struct sock_filter *a, size_t alen, const struct sock_filter *b, size_t blen,
                     vgpu_sandbox_profile_t p, pid_t self, const char *what)
{
        if (alen != blen)
                fail_msg ("profile %s, pid %ld: %s has %zu instructions, libseccomp builds %zu", vgpu_sandbox_name (p),
                          (long) self, what, alen, blen);
        for (size_t i = 0; i < alen; i++)
                if (memcmp (&a[i], &b[i], sizeof a[i]) != 0)
                        fail_msg ("profile %s, pid %ld: %s differs at instruction %zu: {0x%x %u %u 0x%x}, libseccomp "
                                  "{0x%x %u %u 0x%x}",
                                  vgpu_sandbox_name (p), (long) self, what, i, a[i].code, a[i].jt, a[i].jf, a[i].k,
                                  b[i].code, b[i].jt, b[i].jf, b[i].k);
}

/* Pids up to this one can equal another constant a filter compares on the
 * same argument (a bpf command, a prctl option); libseccomp then shares that
 * comparison and builds a shorter program, which the patched one is
 * equivalent to but not equal. */
#define SHARED_CONSTANT_MAX 16

/* The build-time program with the pid patched in, for several pids. */
static void
test_compiled (void **state)
{
        pid_t pids[] = { getpid () > SHARED_CONSTANT_MAX ? getpid () : 4242, 17, 65536, 4194304 };

        (void) state;
        assert_int_equal (vgpu_sandbox_filter (VGPU_SANDBOX_N_PROFILES, 1, NULL, NULL), -EINVAL);
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++)
                for (size_t i = 0; i < ARRAY_SIZE (pids); i++) {
                        _cleanup_free_ struct sock_filter *built = NULL, *want = NULL;
                        size_t blen, wlen;

                        assert_int_equal (vgpu_sandbox_filter (p, pids[i], &built, &blen), 0);
                        want = runtime_program (p, pids[i], &wlen);
                        assert_same_program (built, blen, want, wlen, p, pids[i], "the compiled program");
                }
}

/* What the kernel holds after a child entered the profile (it stops itself
 * with SIGSTOP, which the profiles allow: kill of itself). */
static void
test_loaded (void **state)
{
        (void) state;
        if (geteuid () != 0) {
                print_message ("skipped: PTRACE_SECCOMP_GET_FILTER needs root\n");
                skip ();
        }
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++) {
                _cleanup_free_ struct sock_filter *loaded = NULL, *want = NULL;
                size_t wlen;
                long n;
                int status;
                pid_t pid = fork ();

                assert_true (pid >= 0);
                if (pid == 0) {
                        vgpu_error_t err = { 0 };

                        if (ptrace (PTRACE_TRACEME, 0, NULL, NULL) < 0 || vgpu_sandbox_enter (p, &err) < 0)
                                _exit (NO_ENTRY);
                        raise (SIGSTOP);
                        _exit (0);
                }
                assert_int_equal (waitpid (pid, &status, 0), pid);
                assert_true (WIFSTOPPED (status));
                n = ptrace (PTRACE_SECCOMP_GET_FILTER, pid, 0, NULL);
                if (n < 0 && errno == EINVAL) {
                        kill (pid, SIGKILL);
                        waitpid (pid, &status, 0);
                        print_message ("skipped: this kernel has no PTRACE_SECCOMP_GET_FILTER "
                                       "(CONFIG_CHECKPOINT_RESTORE)\n");
                        skip ();
                }
                assert_true (n > 0);
                loaded = calloc ((size_t) n, sizeof *loaded);
                assert_non_null (loaded);
                assert_int_equal (ptrace (PTRACE_SECCOMP_GET_FILTER, pid, 0, loaded), n);
                kill (pid, SIGKILL);
                assert_int_equal (waitpid (pid, &status, 0), pid);
                if (pid <= SHARED_CONSTANT_MAX) {
                        print_message ("profile %s: child pid %ld is too small to compare\n", vgpu_sandbox_name (p),
                                       (long) pid);
                        continue;
                }
                want = runtime_program (p, pid, &wlen);
                assert_same_program (loaded, (size_t) n, want, wlen, p, pid, "the loaded program");
        }
}

int
main (void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test (test_names),
                cmocka_unit_test (test_unknown_profile),
                cmocka_unit_test (test_status),
                cmocka_unit_test (test_readme_caps),
                cmocka_unit_test (test_compiled),
                cmocka_unit_test (test_loaded),
                cmocka_unit_test_setup_teardown (test_deadly, setup, teardown),
                cmocka_unit_test_setup_teardown (test_refused, setup, teardown),
                cmocka_unit_test_setup_teardown (test_needed, setup, teardown),
                cmocka_unit_test_setup_teardown (test_attach, setup, teardown),
        };

        return cmocka_run_group_tests (tests, NULL, NULL);
}
