/* vgpu-runtime — an OCI runtime for engines without CDI or hooks.d (Docker
 * 20.10, containerd 1.6): runc's command line, and a vGPU for a container
 * that asks.
 *
 *   vgpu-runtime [SHIM OPTIONS] [RUNTIME OPTIONS] COMMAND [ARGS]
 *   vgpu-runtime configure docker|containerd [OPTIONS]
 *
 * create and run: a child in the sandbox's "runtime" profile edits the
 * bundle's config.json (oci-hook/shim-edit.c), then the real runtime runs
 * with the same words; when its create fails, another such child releases
 * what was made.  Every other command is an execv of the real runtime.
 * Errors are one line on stderr and, as runc writes them, in the file --log
 * names (what dockerd shows).  Exit 1 for the shim's failures, 2 for usage,
 * else the runtime's status. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "engine.h"
#include "runc-cli.h"
#include "sandbox.h"
#include "shim-config.h"
#include "shim-edit.h"
#include "util.h"

#define PROG "vgpu-runtime"

typedef struct shim {
        const char *config_file; /* --runtime-config */
        const char *runtime;     /* --runtime-path */
        const char *roots[VGPU_N_ROOTS];
        bool no_sandbox;
        vgpu_shim_config_t config;
        char runtime_path[PATH_MAX];
} shim_t;

static const char help[] = "Usage: " PROG " [SHIM OPTIONS] [RUNTIME OPTIONS] COMMAND [ARGS]   (runc's command line)\n"
                           "       " PROG " configure docker|containerd [OPTIONS]\n"
                           "\n"
                           "An OCI runtime for Docker and containerd 1.6: create and run give a container that\n"
                           "asks (annotation intel.com/vgpu, or env INTEL_VGPU=<type>|auto) an Intel GVT-g vGPU,\n"
                           "made with the container and released with it; every other command, and every\n"
                           "container that asks for nothing, goes to the real runtime unchanged.\n"
                           "\n"
                           "Shim options (before everything else):\n"
                           "  --runtime-path RUNTIME  the real runtime: runc (default), crun or an absolute path\n"
                           "  --runtime-config FILE   the shim's config (env " VGPU_SHIM_CONFIG_ENV
                           ", default " VGPU_SHIM_CONFIG_FILE ")\n"
                           "  --sysfs-root DIR, --dev-root DIR, --state-dir DIR   roots (README); also in the config\n"
                           "  --no-sandbox            debugging only: keep every privilege (README, Privileges)\n"
                           "  -h, --help              show this help (`" PROG " configure --help`: registration)\n";

/* --name value or --name=value at argv[*i]; *i moves past it. */
static const char *
option_value (int argc, char **argv, int *i, const char *name)
{
        size_t n = strlen (name);
        const char *a = argv[*i];

        if (strncmp (a, name, n) != 0)
                return NULL;
        if (a[n] == '=') {
                (*i)++;
                return a + n + 1;
        }
        if (a[n] != '\0')
                return NULL;
        if (*i + 1 >= argc) {
                vgpu_cli_usage_error (PROG, "missing value for", a);
                exit (2);
        }
        *i += 2;
        return argv[*i - 1];
}

/* The shim's own options, which lead; *i ends on the first other word.
 * Returns an exit code, or -1 to go on. */
static int
shim_options (int argc, char **argv, int *i, shim_t *s)
{
        while (*i < argc) {
                const char *a = argv[*i], *v;
                size_t k = 0;

                if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
                        fputs (help, stdout);
                        return 0;
                }
                if (strcmp (a, "--no-sandbox") == 0) {
                        s->no_sandbox = true;
                        (*i)++;
                        continue;
                }
                if ((v = option_value (argc, argv, i, "--runtime-path"))) {
                        s->runtime = v;
                        continue;
                }
                if ((v = option_value (argc, argv, i, "--runtime-config"))) {
                        s->config_file = v;
                        continue;
                }
                while (k < VGPU_N_ROOTS && !(v = option_value (argc, argv, i, vgpu_root_infos[k].flag)))
                        k++;
                if (k == VGPU_N_ROOTS)
                        break;
                s->roots[k] = v;
        }
        return -1;
}

/* One line on stderr, in the kernel log (as the hook's failures), and in
 * the runtime's --log file at level (what dockerd shows the user). */
static void
report (const vgpu_runc_cmdline_t *c, const char *level, const vgpu_error_t *err)
{
        _cleanup_free_ char *msg = NULL, *line = NULL;
        _cleanup_close_ int fd = -1;

        vgpu_error_print (PROG, err);
        vgpu_error_log (PROG, c && c->id ? c->id : "", err, NULL);
        if (!c || !c->log || asprintf (&msg, PROG ": %s", err->msg) < 0)
                return;
        line = vgpu_runc_log_line (c, level, msg);
        fd = open (c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (line && fd >= 0 && write (fd, line, strlen (line)) < 0)
                return; /* stderr has it already */
}

static int
fail (const vgpu_runc_cmdline_t *c, const vgpu_error_t *err)
{
        report (c, "error", err);
        return 1;
}

/* The shim's config, then its flags. */
static int
load_config (shim_t *s, vgpu_error_t *err)
{
        int r;

        r = vgpu_shim_config_load (&s->config, s->config_file, err);
        for (size_t k = 0; r == 0 && k < VGPU_N_ROOTS; k++)
                if (s->roots[k])
                        r = vgpu_roots_set (&s->config.roots, vgpu_root_infos[k].which, s->roots[k], err);
        if (r == 0)
                r = vgpu_shim_runtime_resolve (s->runtime ? s->runtime : s->config.runtime, s->runtime_path, err);
        return r;
}

/* --- create and run --- */

typedef struct child_report {
        int r;
        bool edited;
        vgpu_error_t err;
} child_report_t;

typedef int (*child_fn) (const vgpu_shim_job_t *job, bool *ret_edited, vgpu_error_t *err);

static int
release_job (const vgpu_shim_job_t *job, bool *ret_edited, vgpu_error_t *err)
{
        *ret_edited = false;
        return vgpu_shim_release (job, err);
}

static int
read_all (int fd, void *buf, size_t size)
{
        size_t off = 0;

        while (off < size) {
                ssize_t n = read (fd, (char *) buf + off, size - off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                off += (size_t) n;
        }
        return off == size ? 0 : -EIO;
}

/* fn in a forked child that first enters the sandbox's runtime profile:
 * the parent, which runs the real runtime, keeps every privilege and never
 * reads the container's config (plugin/sandbox.c says why). */
static int
in_child (const shim_t *s, child_fn fn, const vgpu_shim_job_t *job, bool *ret_edited, vgpu_error_t *err)
{
        child_report_t rep = { 0 };
        _cleanup_close_ int rd = -1, wr = -1;
        int fds[2], status;
        pid_t pid;

        if (pipe2 (fds, O_CLOEXEC) < 0)
                return vgpu_error_sys (err, errno, "pipe");
        rd = fds[0];
        wr = fds[1];
        pid = fork ();
        if (pid < 0)
                return vgpu_error_sys (err, errno, "fork");
        if (pid == 0) {
                rep.r = s->no_sandbox ? 0 : vgpu_sandbox_enter (VGPU_SANDBOX_RUNTIME, &rep.err);
                if (rep.r == 0)
                        rep.r = fn (job, &rep.edited, &rep.err);
                _exit (write (wr, &rep, sizeof rep) == (ssize_t) sizeof rep ? 0 : 1);
        }
        close (TAKE_FD (wr));
        if (read_all (rd, &rep, sizeof rep) < 0)
                rep.r = -EIO;
        while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (rep.r == -EIO && !rep.err.code)
                return vgpu_error_set (err, EIO, "the shim's sandboxed child ended before reporting (wait status 0x%x)",
                                       (unsigned) status);
        *err = rep.err;
        *ret_edited = rep.edited;
        return rep.r;
}

static volatile pid_t runtime_pid;
static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };

/* A signal another process sent the shim goes on to the runtime; one the
 * terminal sent (SI_KERNEL) reached the runtime in the same process group
 * already. */
static void
forward (int sig, siginfo_t *si, void *uc)
{
        (void) uc;
        if (si->si_code <= 0 && runtime_pid > 0)
                kill (runtime_pid, sig);
}

/* Fork and exec the runtime, forwarding signals; its wait status. */
static int
run_runtime (const char *path, char **argv, int *ret_status, vgpu_error_t *err)
{
        struct sigaction sa = { .sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART };
        sigset_t block, old;
        pid_t pid;

        sigemptyset (&block);
        for (size_t i = 0; i < ARRAY_SIZE (forwarded); i++)
                sigaddset (&block, forwarded[i]);
        sigprocmask (SIG_BLOCK, &block, &old);
        pid = fork ();
        if (pid == 0) {
                vgpu_error_t e;

                sigprocmask (SIG_SETMASK, &old, NULL);
                execv (path, argv);
                vgpu_error_sys (&e, errno, "running runtime %s", path);
                vgpu_error_print (PROG, &e);
                _exit (127);
        }
        if (pid < 0) {
                sigprocmask (SIG_SETMASK, &old, NULL);
                return vgpu_error_sys (err, errno, "fork");
        }
        runtime_pid = pid;
        sigemptyset (&sa.sa_mask);
        for (size_t i = 0; i < ARRAY_SIZE (forwarded); i++)
                sigaction (forwarded[i], &sa, NULL);
        sigprocmask (SIG_SETMASK, &old, NULL);
        while (waitpid (pid, ret_status, 0) < 0)
                if (errno != EINTR)
                        return vgpu_error_sys (err, errno, "waiting for runtime %s", path);
        return 0;
}

/* Exit as the runtime did: its code, or its signal. */
static int
exit_like (int status)
{
        if (WIFEXITED (status))
                return WEXITSTATUS (status);
        signal (WTERMSIG (status), SIG_DFL);
        raise (WTERMSIG (status));
        return 128 + WTERMSIG (status);
}

static int
absolute_bundle (const char *bundle, char ret[PATH_MAX], vgpu_error_t *err)
{
        char cwd[PATH_MAX];

        if (bundle && bundle[0] == '/')
                return snprintf (ret, PATH_MAX, "%s", bundle) < PATH_MAX
                               ? 0
                               : vgpu_error_set (err, ENAMETOOLONG, "bundle path is too long");
        if (!getcwd (cwd, sizeof cwd))
                return vgpu_error_sys (err, errno, "working directory");
        if (snprintf (ret, PATH_MAX, "%s/%s", cwd, bundle ? bundle : ".") >= PATH_MAX)
                return vgpu_error_set (err, ENAMETOOLONG, "bundle path is too long");
        return 0;
}

static int
create (const shim_t *s, const vgpu_runc_cmdline_t *c, char **rt_argv)
{
        vgpu_error_t err = { 0 };
        char bundle[PATH_MAX];
        vgpu_shim_job_t job = { .config = &s->config, .id = c->id, .bundle = bundle };
        bool edited = false, released;
        int status = 0, r;

        if (c->config) {
                vgpu_error_set (&err, EINVAL, "--config %s: the shim edits the bundle's config.json, not another file",
                                c->config);
                return fail (c, &err);
        }
        r = absolute_bundle (c->bundle, bundle, &err);
        if (r == 0)
                r = in_child (s, vgpu_shim_prepare, &job, &edited, &err);
        if (r < 0)
                return fail (c, &err); /* nothing was made: prepare undoes its own */
        r = run_runtime (s->runtime_path, rt_argv, &status, &err);
        if (r == 0 && (!edited || (WIFEXITED (status) && WEXITSTATUS (status) == 0)))
                return exit_like (status);
        if (r < 0)
                report (c, "error", &err);
        /* The create failed: whatever the runtime left, the vGPU goes.  A
         * warning, so that dockerd still shows the runtime's own error. */
        if (edited && in_child (s, release_job, &job, &released, &err) < 0)
                report (c, "warning", &err);
        return r < 0 ? 1 : exit_like (status);
}

/* --- configure --- */

enum {
        OPT_CONFIG = VGPU_CLI_FIRST_OPT,
        OPT_DRY_RUN,
        OPT_NAME,
        OPT_PATH,
};

static const struct option configure_options[] = {
        { "config", required_argument, NULL, OPT_CONFIG },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "name", required_argument, NULL, OPT_NAME },
        { "path", required_argument, NULL, OPT_PATH },
        { NULL, 0, NULL, 0 },
};

typedef struct configure_opts {
        vgpu_cli_common_t common;
        const char *config;
        const char *name;
        bool dry_run;
        char path[PATH_MAX];
} configure_opts_t;

static int
take_configure (void *opaque, int c, const char *arg, vgpu_error_t *err)
{
        configure_opts_t *o = opaque;

        switch (c) {
        case OPT_CONFIG: o->config = arg; return 0;
        case OPT_DRY_RUN: o->dry_run = true; return 0;
        case OPT_NAME:
                if (!vgpu_engine_name_valid (arg))
                        return vgpu_cli_usage_error (
                                PROG " configure",
                                "--name is not a DNS label (a-z, 0-9, '-' inside; 63 at most):", arg);
                o->name = arg;
                return 0;
        case OPT_PATH:
                if (arg[0] != '/' || strlen (arg) >= sizeof o->path)
                        return vgpu_cli_usage_error (PROG " configure", "--path is not an absolute path:", arg);
                strcpy (o->path, arg);
                return 0;
        default: return 2;
        }
}

static int
configure_docker (void *opaque, vgpu_error_t *err)
{
        configure_opts_t *o = opaque;
        const char *file = o->config ? o->config : VGPU_ENGINE_DOCKER_CONFIG;
        _cleanup_free_ char *text = NULL;
        bool backup;
        int r;

        r = vgpu_engine_docker_configure (file, o->name, o->path, o->dry_run, &text, &backup, err);
        if (r < 0)
                return r;
        if (o->dry_run)
                fputs (text, stdout);
        else
                printf ("%s: runtime \"%s\" (%s) in %s%s%s%s; restart dockerd, then `docker run --runtime %s`\n", PROG,
                        o->name, o->path, file, backup ? ", the old file kept as " : "", backup ? file : "",
                        backup ? VGPU_ENGINE_BACKUP_SUFFIX : "", o->name);
        return 0;
}

static int
configure_containerd (void *opaque, vgpu_error_t *err)
{
        configure_opts_t *o = opaque;
        _cleanup_free_ char *text = NULL;
        int r;

        r = vgpu_engine_containerd_snippet (o->name, o->path, &text, err);
        if (r == 0)
                fputs (text, stdout);
        return r;
}

static const vgpu_cli_command_t engines[] = {
        { "docker", "[--config FILE] [--dry-run]",
          "Add the runtime to dockerd's daemon.json (other keys kept, the old file kept as FILE.bak, atomic).",
          "config dry-run",
          "  --config FILE         daemon.json (default " VGPU_ENGINE_DOCKER_CONFIG ")\n"
          "  --dry-run             print the new daemon.json, write nothing\n",
          configure_docker },
        { "containerd", "", "Print containerd 1.6's CRI runtime handler for the shim and its Kubernetes RuntimeClass.",
          "", NULL, configure_containerd },
};

static const vgpu_cli_t configure_cli = {
        .prog = PROG " configure",
        .usage = "[OPTIONS] docker|containerd [OPTIONS]",
        .summary = "Register vgpu-runtime with an engine.",
        .command_word = "command",
        .options = configure_options,
        .globals = "name path",
        .globals_help = "  --name NAME           the runtime's name (default " VGPU_ENGINE_RUNTIME_NAME ")\n"
                        "  --path PATH           the shim the engine runs (default: this program)\n",
        .commands = engines,
        .n_commands = ARRAY_SIZE (engines),
        .take = take_configure,
};

static int
configure (int argc, char **argv)
{
        configure_opts_t o = { .name = VGPU_ENGINE_RUNTIME_NAME };
        const vgpu_cli_command_t *cmd = NULL;
        vgpu_error_t err = { 0 };
        int r;

        r = vgpu_cli_parse (&configure_cli, argc, argv, &o, &o.common, &cmd, &err);
        if (r)
                return r;
        r = o.path[0] ? 0 : vgpu_engine_self_path (o.path, &err);
        if (r == 0 && !o.common.no_sandbox)
                r = vgpu_sandbox_enter (VGPU_SANDBOX_RUNTIME, &err);
        if (r == 0)
                r = cmd->run (&o, &err);
        if (r < 0) {
                vgpu_error_print (PROG, &err);
                return 1;
        }
        return fflush (stdout) == 0 ? 0 : 1;
}

int
main (int argc, char **argv)
{
        shim_t s = { 0 };
        vgpu_runc_cmdline_t c;
        vgpu_error_t err = { 0 };
        _cleanup_free_ char **rt_argv = NULL;
        int i = 1, r;

        r = shim_options (argc, argv, &i, &s);
        if (r >= 0)
                return r;
        if (i < argc && strcmp (argv[i], "configure") == 0)
                return configure (argc - i, argv + i);
        vgpu_runc_cmdline_parse (argc - i, argv + i, &c);
        if (load_config (&s, &err) < 0)
                return fail (&c, &err);
        rt_argv = calloc ((size_t) (argc - i) + 2, sizeof *rt_argv);
        if (!rt_argv) {
                vgpu_error_set (&err, ENOMEM, "out of memory");
                return fail (&c, &err);
        }
        rt_argv[0] = s.runtime_path;
        memcpy (rt_argv + 1, argv + i, (size_t) (argc - i) * sizeof *rt_argv);
        if (c.version && printf ("%s %s\n", PROG, VGPU_VERSION) > 0)
                fflush (stdout);
        if (vgpu_runc_cmdline_creates (&c) && c.id)
                return create (&s, &c, rt_argv);
        execv (s.runtime_path, rt_argv);
        vgpu_error_sys (&err, errno, "running runtime %s", s.runtime_path);
        return fail (&c, &err);
}
