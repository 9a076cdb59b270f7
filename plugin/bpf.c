/* bpf.c — see bpf.h.
 *
 * The program we attach is a prologue followed by the runtime's program:
 *
 *     r2 = ctx->access_type & 0xffff      (device type)
 *     r4 = ctx->major; r5 = ctx->minor
 *     if r2 != CHAR goto tail
 *     per node: if r4 != MAJ goto +1; if r5 == MIN goto accept
 *     goto tail
 *   accept: r0 = 1; exit               (r0 = 0 when the prologue denies)
 *   tail:   the old program, entered with r1 (ctx) untouched
 *
 * Jumps in the old program are relative and stay inside it, so appending it
 * needs no relocation.  Jump targets in the prologue are labels resolved once
 * the layout is known, not counted by hand. */
#include "bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#define LOG_MAX (1u << 22)

enum { LABEL_NONE, LABEL_ACCEPT, LABEL_TAIL };

typedef struct prog {
        struct bpf_insn *insns;
        size_t len, cap;
        unsigned char *label; /* per insn: jump target still to resolve */
} prog_t;

static int
sys_bpf (int cmd, union bpf_attr *attr)
{
        return (int) syscall (__NR_bpf, cmd, attr, sizeof *attr);
}

static uint64_t
ptr_u64 (const void *p)
{
        return (uint64_t) (uintptr_t) p;
}

static struct bpf_insn
insn (uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        return (struct bpf_insn) { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

static int
emit (prog_t *p, struct bpf_insn i, unsigned char label)
{
        if (p->len == p->cap) {
                size_t ncap = p->cap ? p->cap * 2 : 64;
                struct bpf_insn *ni = realloc (p->insns, ncap * sizeof *ni);
                unsigned char *nl;

                if (!ni)
                        return -ENOMEM;
                p->insns = ni;
                nl = realloc (p->label, ncap);
                if (!nl)
                        return -ENOMEM;
                p->label = nl;
                p->cap = ncap;
        }
        p->insns[p->len] = i;
        p->label[p->len++] = label;
        return 0;
}

/* Where a field of the program's context is: what the kernel hands a
 * BPF_PROG_TYPE_CGROUP_DEVICE program in r1. */
#define CTX(field) ((int16_t) offsetof (struct bpf_cgroup_dev_ctx, field))

static int
emit_prologue (prog_t *p, const vgpu_node_t *nodes, size_t n, int verdict, size_t *ret_accept)
{
        int r = 0;

        /* r2 = ctx->access_type: device type in the low 16 bits, access above */
        r |= emit (p, insn (BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, CTX (access_type), 0), LABEL_NONE);
        /* r2 &= 0xffff: the type alone (BPF_DEVCG_DEV_CHAR or _BLOCK) */
        r |= emit (p, insn (BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff), LABEL_NONE);
        /* r4 = ctx->major */
        r |= emit (p, insn (BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, CTX (major), 0), LABEL_NONE);
        /* r5 = ctx->minor */
        r |= emit (p, insn (BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, CTX (minor), 0), LABEL_NONE);
        /* not a char device: the runtime's program decides */
        r |= emit (p, insn (BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0, BPF_DEVCG_DEV_CHAR), LABEL_TAIL);
        for (size_t i = 0; i < n; i++) {
                /* another major: skip this node's minor test */
                r |= emit (p, insn (BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 1, (int32_t) nodes[i].major), LABEL_NONE);
                /* major and minor match: the verdict */
                r |= emit (p, insn (BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_5, 0, 0, (int32_t) nodes[i].minor),
                           LABEL_ACCEPT);
        }
        /* none of ours: the runtime's program decides */
        r |= emit (p, insn (BPF_JMP | BPF_JA, 0, 0, 0, 0), LABEL_TAIL);
        *ret_accept = p->len;
        /* verdict: r0 = 1 (allow) or 0 (deny), return */
        r |= emit (p, insn (BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict), LABEL_NONE);
        r |= emit (p, insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0), LABEL_NONE);
        return r < 0 ? -ENOMEM : 0;
}

static int
build (const vgpu_node_t *nodes, size_t n, int verdict, const struct bpf_insn *tail, size_t n_tail,
       struct bpf_insn **ret, size_t *ret_len, vgpu_error_t *err)
{
        prog_t p = { 0 };
        _cleanup_free_ unsigned char *labels = NULL;
        _cleanup_free_ struct bpf_insn *insns = NULL;
        size_t accept, start_tail;
        int r;

        if (n_tail > VGPU_BPF_MAX_INSNS)
                return vgpu_error_set (err, E2BIG, "device program of %zu instructions is too long to extend", n_tail);
        r = emit_prologue (&p, nodes, n, verdict, &accept);
        labels = p.label;
        insns = p.insns;
        if (r < 0)
                return vgpu_error_sys (err, r, "device program for %zu nodes", n);
        start_tail = p.len;
        for (size_t i = 0; i < start_tail; i++) {
                size_t target = labels[i] == LABEL_ACCEPT ? accept : start_tail;

                if (labels[i] != LABEL_NONE)
                        insns[i].off = (int16_t) (target - (i + 1));
        }
        if (!tail) {
                static const struct bpf_insn deny[] = {
                        /* r0 = 0 (deny), return */
                        { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
                        { .code = BPF_JMP | BPF_EXIT },
                };
                tail = deny;
                n_tail = ARRAY_SIZE (deny);
        }
        if (start_tail + n_tail > p.cap) {
                struct bpf_insn *ni = realloc (insns, (start_tail + n_tail) * sizeof *ni);
                if (!ni)
                        return vgpu_error_sys (err, ENOMEM, "device program for %zu nodes", n);
                insns = ni;
        }
        memcpy (insns + start_tail, tail, n_tail * sizeof *tail);
        *ret_len = start_tail + n_tail;
        *ret = TAKE_PTR (insns);
        return 0;
}

int
vgpu_bpf_build (const vgpu_node_t *nodes, size_t n, const struct bpf_insn *tail, size_t n_tail, struct bpf_insn **ret,
                size_t *ret_len, vgpu_error_t *err)
{
        return build (nodes, n, 1, tail, n_tail, ret, ret_len, err);
}

static int
load_with_log (union bpf_attr *attr, vgpu_error_t *err)
{
        _cleanup_free_ char *log = NULL;
        size_t size = 65536;
        int fd;

        for (;;) {
                char *nlog = realloc (log, size);

                if (!nlog)
                        return vgpu_error_sys (err, ENOMEM, "device program verifier log");
                log = nlog;
                log[0] = '\0';
                attr->log_level = 1;
                attr->log_buf = ptr_u64 (log);
                attr->log_size = (uint32_t) size;
                fd = sys_bpf (BPF_PROG_LOAD, attr);
                if (fd >= 0)
                        return fd;
                if (errno != ENOSPC || size >= LOG_MAX)
                        break;
                size *= 2;
        }
        {
                int e = errno;
                size_t len = strlen (log);

                /* The verdict is at the end of the log; keep the message one line. */
                while (len > 0 && log[len - 1] == '\n')
                        log[--len] = '\0';
                for (char *c = log; *c; c++)
                        if (*c == '\n')
                                *c = ';';
                if (len > 400)
                        return vgpu_error_sys (err, e, "device program refused by the verifier: ...%s",
                                               log + len - 400);
                return vgpu_error_sys (err, e, "device program refused by the verifier: %s", log);
        }
}

int
vgpu_bpf_load (const struct bpf_insn *insns, size_t len, vgpu_error_t *err)
{
        union bpf_attr attr;
        int fd;

        memset (&attr, 0, sizeof attr);
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.expected_attach_type = BPF_CGROUP_DEVICE;
        attr.insns = ptr_u64 (insns);
        attr.insn_cnt = (uint32_t) len;
        /* No GPL-only helper is used: the project's licence will do. */
        attr.license = ptr_u64 ("Apache-2.0");
        strncpy (attr.prog_name, "vgpu_devices", sizeof attr.prog_name - 1);
        fd = sys_bpf (BPF_PROG_LOAD, &attr);
        if (fd >= 0)
                return fd;
        if (errno == ENOSYS || errno == EPERM)
                return vgpu_error_sys (err, errno, "loading a device program of %zu instructions", len);
        return load_with_log (&attr, err);
}

static bool
insn_portable (const struct bpf_insn *i)
{
        uint8_t cls = BPF_CLASS (i->code);

        if ((cls == BPF_JMP || cls == BPF_JMP32) && (BPF_OP (i->code) == BPF_CALL || BPF_OP (i->code) == 0xf0))
                return false; /* helper, subprogram or tail call: imm is kernel-relative */
        if (cls == BPF_LD && BPF_MODE (i->code) == BPF_IMM && i->src_reg != 0)
                return false; /* map or BTF reference */
        if (cls == BPF_LD && (BPF_MODE (i->code) == BPF_ABS || BPF_MODE (i->code) == BPF_IND))
                return false;
        return true;
}

static int
prog_info (int prog_fd, struct bpf_prog_info *info, vgpu_error_t *err)
{
        union bpf_attr attr;

        memset (&attr, 0, sizeof attr);
        attr.info.bpf_fd = (uint32_t) prog_fd;
        attr.info.info_len = sizeof *info;
        attr.info.info = ptr_u64 (info);
        if (sys_bpf (BPF_OBJ_GET_INFO_BY_FD, &attr) < 0)
                return vgpu_error_sys (err, errno, "reading device program info");
        return 0;
}

int
vgpu_bpf_prog_insns (int prog_fd, struct bpf_insn **ret, size_t *ret_len, vgpu_error_t *err)
{
        struct bpf_prog_info info;
        _cleanup_free_ struct bpf_insn *insns = NULL;
        size_t len;
        unsigned id;
        int r;

        memset (&info, 0, sizeof info);
        r = prog_info (prog_fd, &info, err);
        if (r < 0)
                return r;
        id = info.id;
        if (info.type != BPF_PROG_TYPE_CGROUP_DEVICE)
                return vgpu_error_set (err, EINVAL, "bpf program id %u is of type %u, not a device program", id,
                                       info.type);
        len = info.xlated_prog_len / sizeof (struct bpf_insn);
        if (len == 0 || len > VGPU_BPF_MAX_INSNS || info.xlated_prog_len % sizeof (struct bpf_insn))
                return vgpu_error_set (err, EINVAL, "device program id %u: %u bytes of instructions", id,
                                       info.xlated_prog_len);
        insns = calloc (len, sizeof *insns);
        if (!insns)
                return vgpu_error_sys (err, ENOMEM, "device program id %u", id);
        memset (&info, 0, sizeof info);
        info.xlated_prog_len = (uint32_t) (len * sizeof *insns);
        info.xlated_prog_insns = ptr_u64 (insns);
        r = prog_info (prog_fd, &info, err);
        if (r < 0)
                return vgpu_error_prefix (err, "device program id %u", id);
        if (info.xlated_prog_insns == 0 || info.xlated_prog_len != len * sizeof *insns)
                return vgpu_error_set (err, EPERM, "device program id %u: the kernel did not dump its instructions",
                                       id);
        for (size_t i = 0; i < len; i++)
                if (!insn_portable (&insns[i]))
                        return vgpu_error_set (err, EOPNOTSUPP,
                                               "device program id %u calls helpers or uses maps (instruction %zu, "
                                               "opcode 0x%02x): cannot extend it",
                                               id, i, insns[i].code);
        *ret_len = len;
        *ret = TAKE_PTR (insns);
        return 0;
}

int
vgpu_bpf_attach (int cgroup_fd, int prog_fd, unsigned flags, int replace_fd, vgpu_error_t *err)
{
        union bpf_attr attr;

        memset (&attr, 0, sizeof attr);
        attr.target_fd = (uint32_t) cgroup_fd;
        attr.attach_bpf_fd = (uint32_t) prog_fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = flags;
        if (flags & BPF_F_REPLACE)
                attr.replace_bpf_fd = (uint32_t) replace_fd;
        if (sys_bpf (BPF_PROG_ATTACH, &attr) < 0)
                return vgpu_error_sys (err, errno, "attaching a device program to the cgroup (flags 0x%x)", flags);
        return 0;
}

int
vgpu_bpf_query (int cgroup_fd, unsigned *ids, size_t max, size_t *ret_n, unsigned *ret_flags, vgpu_error_t *err)
{
        union bpf_attr attr;

        memset (&attr, 0, sizeof attr);
        attr.query.target_fd = (uint32_t) cgroup_fd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = ptr_u64 (ids);
        attr.query.prog_cnt = (uint32_t) max;
        if (sys_bpf (BPF_PROG_QUERY, &attr) < 0) {
                if (errno == ENOSPC)
                        return vgpu_error_set (err, E2BIG, "cgroup has %u device programs, more than %zu",
                                               attr.query.prog_cnt, max);
                return vgpu_error_sys (err, errno, "querying the cgroup's device programs");
        }
        *ret_n = attr.query.prog_cnt;
        *ret_flags = attr.query.attach_flags;
        return 0;
}

static int
prog_fd_by_id (unsigned id, vgpu_error_t *err)
{
        union bpf_attr attr;
        int fd;

        memset (&attr, 0, sizeof attr);
        attr.prog_id = id;
        attr.open_flags = 0;
        fd = sys_bpf (BPF_PROG_GET_FD_BY_ID, &attr);
        if (fd < 0)
                return vgpu_error_sys (err, errno, "opening device program id %u", id);
        return fd;
}

/* Attach `prog` in place of `old` with the flags the cgroup already uses:
 * the kernel refuses other flags once a program is attached. */
static int
swap_in (int cgroup_fd, unsigned flags, int prog, int old, vgpu_error_t *err)
{
        flags &= BPF_F_ALLOW_MULTI | BPF_F_ALLOW_OVERRIDE;
        if (flags & BPF_F_ALLOW_MULTI)
                return vgpu_bpf_attach (cgroup_fd, prog, flags | BPF_F_REPLACE, old, err);
        /* Without multi there is one slot; attaching replaces what is there. */
        return vgpu_bpf_attach (cgroup_fd, prog, flags, -1, err);
}

static int
extend_one (int cgroup_fd, unsigned id, unsigned flags, const vgpu_node_t *nodes, size_t n, int verdict,
            vgpu_bpf_swap_t *ret, vgpu_error_t *err)
{
        _cleanup_close_ int old_fd = -1, new_fd = -1;
        _cleanup_free_ struct bpf_insn *old = NULL, *insns = NULL;
        size_t n_old, len;
        int r;

        old_fd = prog_fd_by_id (id, err);
        if (old_fd < 0)
                return old_fd;
        r = vgpu_bpf_prog_insns (old_fd, &old, &n_old, err);
        if (r < 0)
                return r;
        r = build (nodes, n, verdict, old, n_old, &insns, &len, err);
        if (r < 0)
                return r;
        new_fd = vgpu_bpf_load (insns, len, err);
        if (new_fd < 0)
                return vgpu_error_prefix (err, "extending device program id %u", id);
        r = swap_in (cgroup_fd, flags, new_fd, old_fd, err);
        if (r < 0)
                return vgpu_error_prefix (err, "replacing device program id %u", id);
        *ret = (vgpu_bpf_swap_t) {
                .old_fd = TAKE_FD (old_fd), .new_fd = TAKE_FD (new_fd), .attach_flags = flags, .old_id = id
        };
        return 0;
}

static int
extend_all (int cgroup_fd, const vgpu_node_t *nodes, size_t n, int verdict, vgpu_bpf_undo_t *undo, vgpu_error_t *err)
{
        unsigned ids[VGPU_BPF_MAX_PROGS], flags = 0;
        size_t n_ids = 0;
        int r;

        *undo = (vgpu_bpf_undo_t) { .cgroup_fd = -1 };
        if (n == 0)
                return 0;
        r = vgpu_bpf_query (cgroup_fd, ids, ARRAY_SIZE (ids), &n_ids, &flags, err);
        if (r < 0)
                return r;
        if (n_ids == 0)
                return 0; /* no device program: the cgroup restricts no device */
        undo->cgroup_fd = fcntl (cgroup_fd, F_DUPFD_CLOEXEC, 3);
        if (undo->cgroup_fd < 0)
                return vgpu_error_sys (err, errno, "duplicating the cgroup fd");
        for (size_t i = 0; i < n_ids; i++) {
                r = extend_one (cgroup_fd, ids[i], flags, nodes, n, verdict, &undo->swaps[undo->n], err);
                if (r < 0) {
                        vgpu_error_t ignored;

                        vgpu_bpf_undo (undo, &ignored);
                        return r;
                }
                undo->n++;
        }
        return 0;
}

int
vgpu_bpf_allow (int cgroup_fd, const vgpu_node_t *nodes, size_t n, vgpu_bpf_undo_t *undo, vgpu_error_t *err)
{
        return extend_all (cgroup_fd, nodes, n, 1, undo, err);
}

int
vgpu_bpf_deny (int cgroup_fd, const vgpu_node_t *nodes, size_t n, vgpu_error_t *err)
{
        vgpu_bpf_undo_t undo;
        int r = extend_all (cgroup_fd, nodes, n, 0, &undo, err);

        vgpu_bpf_undo_release (&undo);
        return r;
}

int
vgpu_bpf_undo (vgpu_bpf_undo_t *undo, vgpu_error_t *err)
{
        int ret = 0;

        /* Keep going past a failure: every program put back is one less
         * grant left behind; report the first failure. */
        for (size_t i = undo->n; i-- > 0;) {
                vgpu_bpf_swap_t *s = &undo->swaps[i];
                vgpu_error_t e;

                if (swap_in (undo->cgroup_fd, s->attach_flags, s->old_fd, s->new_fd, &e) < 0 && ret == 0) {
                        ret = -e.code;
                        if (err) {
                                *err = e;
                                vgpu_error_prefix (err, "restoring device program id %u", s->old_id);
                        }
                }
        }
        vgpu_bpf_undo_release (undo);
        return ret;
}

void
vgpu_bpf_undo_release (vgpu_bpf_undo_t *undo)
{
        for (size_t i = 0; i < undo->n; i++) {
                vgpu_closep (&undo->swaps[i].old_fd);
                vgpu_closep (&undo->swaps[i].new_fd);
        }
        vgpu_closep (&undo->cgroup_fd);
        *undo = (vgpu_bpf_undo_t) { .cgroup_fd = -1 };
}
