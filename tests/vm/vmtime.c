/* vmtime: a monotonic clock for busybox shell scripts in the VM tier.
 *
 * busybox date has no sub-second clock and /proc/uptime ticks in 10 ms, too coarse for a
 * sysfs write under TCG. `vmtime now` prints CLOCK_MONOTONIC in ms; `vmtime run N CMD...`
 * runs CMD N times (env VMTIME_I = 0..N-1, stdout/stderr inherited) and prints one summary line:
 *   vmtime: n=N failed=F median=M min=A max=B (ms)
 * timing only the fork/exec/wait of each run, so the caller's own execs are not counted.
 * `vmtime rss CMD...` runs CMD once and prints its peak resident set size (ru_maxrss, which
 * also counts the forked copy of vmtime before the exec: `vmtime rss` of a static no-op is the
 * floor of what it can show):
 *   vmtime: rss=KIB exit=STATUS
 * Exit: 0 all runs exited 0, 1 otherwise, 2 usage.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_ms (void)
{
        struct timespec ts;

        clock_gettime (CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
        double x = *(const double *) a, y = *(const double *) b;

        return (x > y) - (x < y);
}

/* One run: its wall time in ms, or a negative value when it did not exit 0. */
static double
run_once (char **argv, unsigned i)
{
        char idx[16];
        double t0 = now_ms ();
        int status;
        pid_t pid = fork ();

        if (pid < 0)
                return -1;
        if (pid == 0) {
                snprintf (idx, sizeof idx, "%u", i);
                setenv ("VMTIME_I", idx, 1);
                execvp (argv[0], argv);
                _exit (127);
        }
        if (waitpid (pid, &status, 0) < 0)
                return -1;
        t0 = now_ms () - t0;
        return (WIFEXITED (status) && WEXITSTATUS (status) == 0) ? t0 : -t0;
}

static int
run (unsigned n, char **argv)
{
        double *ms = calloc (n, sizeof *ms);
        unsigned failed = 0;

        if (ms == NULL)
                return 1;
        for (unsigned i = 0; i < n; i++) {
                ms[i] = run_once (argv, i);
                if (ms[i] < 0) {
                        failed++;
                        ms[i] = -ms[i];
                }
        }
        qsort (ms, n, sizeof *ms, cmp_double);
        printf ("vmtime: n=%u failed=%u median=%.1f min=%.1f max=%.1f (ms)\n", n, failed,
                n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, ms[0], ms[n - 1]);
        free (ms);
        return failed ? 1 : 0;
}

static int
rss (char **argv)
{
        struct rusage ru;
        int status;
        pid_t pid = fork ();

        if (pid < 0)
                return 1;
        if (pid == 0) {
                execvp (argv[0], argv);
                _exit (127);
        }
        if (wait4 (pid, &status, 0, &ru) < 0)
                return 1;
        printf ("vmtime: rss=%ld exit=%d\n", ru.ru_maxrss,
                WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
        return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : 1;
}

int
main (int argc, char **argv)
{
        char *end;
        unsigned long n;

        if (argc == 2 && strcmp (argv[1], "now") == 0) {
                printf ("%.3f\n", now_ms ());
                return 0;
        }
        if (argc >= 3 && strcmp (argv[1], "rss") == 0)
                return rss (argv + 2);
        if (argc < 4 || strcmp (argv[1], "run") != 0) {
                fprintf (stderr, "usage: vmtime now | vmtime run N CMD [ARG...] | vmtime rss CMD [ARG...]\n");
                return 2;
        }
        n = strtoul (argv[2], &end, 10);
        if (*end != '\0' || n == 0 || n > 100000) {
                fprintf (stderr, "vmtime: bad count `%s`\n", argv[2]);
                return 2;
        }
        return run ((unsigned) n, argv + 3);
}
