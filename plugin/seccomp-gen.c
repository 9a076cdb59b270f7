/* seccomp-gen.c — build time: each sandbox profile's allowlist as BPF.
 *
 *   seccomp-gen OUTPUT.h
 *
 * Builds every profile's rules (seccomp-rules.c) with libseccomp and writes
 * its BPF program into OUTPUT.h as data for sandbox.c, which loads it with
 * the raw seccomp() call.  The one process-dependent value, the pid kill
 * and tgkill may signal, is built twice with two stand-in pids: the
 * instructions where the programs differ are exactly those holding the
 * stand-in, and their indices go into the header for sandbox.c to patch.
 * Profiles with the same program share one copy. */
#include <errno.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seccomp-rules.h"
#include "util.h"

/* Never real pids (pid_max is at most 2^22), and no other constant of a
 * filter: syscall numbers, flags and arguments are all far from them. */
#define SELF_A 0x3eadbee1
#define SELF_B 0x3eadbee2

typedef struct program {
        struct sock_filter *insns;
        size_t len;
        unsigned short self[16]; /* indices of the instructions holding the pid */
        size_t n_self;
} program_t;

static int export(vgpu_sandbox_profile_t profile, pid_t self, struct sock_filter **ret, size_t *ret_len)
{
        scmp_filter_ctx ctx = NULL;
        _cleanup_fclose_ FILE *f = tmpfile ();
        long size;
        int r;

        if (!f)
                return -errno;
        r = vgpu_seccomp_rules (profile, self, &ctx);
        if (r == 0)
                r = seccomp_export_bpf (ctx, fileno (f));
        seccomp_release (ctx);
        if (r < 0)
                return r;
        size = lseek (fileno (f), 0, SEEK_END);
        if (size <= 0 || size % (long) sizeof (struct sock_filter) || lseek (fileno (f), 0, SEEK_SET) != 0)
                return -EIO;
        *ret = malloc ((size_t) size);
        if (!*ret || pread (fileno (f), *ret, (size_t) size, 0) != size)
                return -EIO;
        *ret_len = (size_t) size / sizeof (struct sock_filter);
        return 0;
}

/* Build profile with both stand-ins; the differing instructions must be
 * exactly the ones whose k holds the stand-in. */
static int
build (vgpu_sandbox_profile_t profile, program_t *p)
{
        _cleanup_free_ struct sock_filter *b = NULL;
        size_t len_b;
        int r = export(profile, SELF_A, &p->insns, &p->len);

        if (r == 0)
                r = export(profile, SELF_B, &b, &len_b);
        if (r < 0)
                return r;
        if (len_b != p->len)
                return -EPROTO;
        for (size_t i = 0; i < p->len; i++) {
                struct sock_filter x = p->insns[i], y = b[i];

                if (memcmp (&x, &y, sizeof x) == 0) {
                        if (x.k == SELF_A)
                                return -EPROTO;
                        continue;
                }
                if (x.k != SELF_A || y.k != SELF_B || x.code != y.code || x.jt != y.jt || x.jf != y.jf ||
                    p->n_self == ARRAY_SIZE (p->self))
                        return -EPROTO;
                p->self[p->n_self++] = (unsigned short) i;
        }
        return p->n_self > 0 ? 0 : -EPROTO;
}

static bool
same (const program_t *a, const program_t *b)
{
        return a->len == b->len && memcmp (a->insns, b->insns, a->len * sizeof *a->insns) == 0;
}

static void
emit (FILE *out, const program_t *progs, const int *first)
{
        fprintf (out,
                 "/* sandbox-filters.h — generated at build time by plugin/seccomp-gen.c from\n"
                 " * plugin/seccomp-rules.c with libseccomp %u.%u.%u: do not edit.  compiled_filters[P] is\n"
                 " * profile P's BPF program with SECCOMP_GEN_SELF where the process's own pid goes. */\n",
                 seccomp_version ()->major, seccomp_version ()->minor, seccomp_version ()->micro);
        fprintf (out, "#define SECCOMP_GEN_SELF 0x%xu\n", (unsigned) SELF_A);
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++) {
                if (first[p] != p)
                        continue;
                fprintf (out, "\nstatic const struct sock_filter filter_%d[%zu] = {\n", p, progs[p].len);
                for (size_t i = 0; i < progs[p].len; i++) {
                        const struct sock_filter *f = &progs[p].insns[i];

                        fprintf (out, "        { 0x%02x, %u, %u, 0x%08x },\n", f->code, f->jt, f->jf, f->k);
                }
                fprintf (out, "};\nstatic const unsigned short filter_%d_self[%zu] = {", p, progs[p].n_self);
                for (size_t i = 0; i < progs[p].n_self; i++)
                        fprintf (out, "%s%u", i ? ", " : " ", progs[p].self[i]);
                fprintf (out, " };\n");
        }
        fprintf (out, "\nstatic const compiled_filter_t compiled_filters[%d] = {\n", VGPU_SANDBOX_N_PROFILES);
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++)
                fprintf (out, "        [%d] = { filter_%d, %zu, filter_%d_self, %zu },\n", p, first[p], progs[p].len,
                         first[p], progs[p].n_self);
        fprintf (out, "};\n");
}

int
main (int argc, char **argv)
{
        program_t progs[VGPU_SANDBOX_N_PROFILES] = { 0 };
        int first[VGPU_SANDBOX_N_PROFILES];
        FILE *out;

        if (argc != 2) {
                fprintf (stderr, "usage: seccomp-gen OUTPUT.h\n");
                return 2;
        }
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++) {
                int r = build (p, &progs[p]);

                if (r < 0) {
                        fprintf (stderr, "seccomp-gen: profile %d: %s\n", p,
                                 r == -EPROTO ? "the pid is not a plain constant of the program" : strerror (-r));
                        return 1;
                }
                first[p] = p;
                for (int q = 0; q < p; q++)
                        if (first[q] == q && same (&progs[q], &progs[p])) {
                                first[p] = q;
                                break;
                        }
        }
        out = fopen (argv[1], "w");
        if (!out) {
                fprintf (stderr, "seccomp-gen: %s: %s\n", argv[1], strerror (errno));
                return 1;
        }
        emit (out, progs, first);
        if (fclose (out) != 0) {
                fprintf (stderr, "seccomp-gen: %s: %s\n", argv[1], strerror (errno));
                return 1;
        }
        for (int p = 0; p < VGPU_SANDBOX_N_PROFILES; p++)
                free (progs[p].insns);
        return 0;
}
