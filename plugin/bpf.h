/* bpf.h — cgroup v2 device access through BPF_PROG_TYPE_CGROUP_DEVICE.
 *
 * Owns the device programs: building them from raw instructions, loading
 * them with the bare bpf() syscall (no libbpf, no RLIMIT_MEMLOCK games: the
 * kernel accounts BPF memory to the memcg), and swapping the runtime's program
 * on a container's cgroup for one that first allows our char nodes and then
 * runs the runtime's own instructions unchanged, so every other decision
 * stays the runtime's.  The swap is atomic (BPF_F_REPLACE) and undoable. */
#pragma once

#include <linux/bpf.h>
#include <stddef.h>

#include "error.h"
#include "plan.h"

#define VGPU_BPF_MAX_PROGS 8     /* programs on one cgroup we will extend */
#define VGPU_BPF_MAX_INSNS 65536 /* cap on a program we copy and extend */

typedef struct vgpu_bpf_swap {
        int old_fd;            /* the runtime's program, kept alive for undo */
        int new_fd;            /* ours: prologue + the old instructions */
        unsigned attach_flags; /* flags the cgroup's programs were attached with */
        unsigned old_id;       /* program id, for messages */
} vgpu_bpf_swap_t;

typedef struct vgpu_bpf_undo {
        int cgroup_fd; /* own fd of the cgroup2 directory, -1 when empty */
        vgpu_bpf_swap_t swaps[VGPU_BPF_MAX_PROGS];
        size_t n;
} vgpu_bpf_undo_t;

/* Build "allow char major:minor of each node, any access" followed by tail
 * (n_tail instructions that start with r1 = ctx, as at program entry); with
 * tail NULL the program denies everything else.  *ret is malloc'ed. */
int vgpu_bpf_build (const vgpu_node_t *nodes, size_t n, const struct bpf_insn *tail, size_t n_tail,
                    struct bpf_insn **ret, size_t *ret_len, vgpu_error_t *err);

/* Load a CGROUP_DEVICE program; returns its fd (O_CLOEXEC) or -errno, the
 * verifier's log in the message when it refuses. */
int vgpu_bpf_load (const struct bpf_insn *insns, size_t len, vgpu_error_t *err);

/* Copy a loaded CGROUP_DEVICE program's (translated) instructions.  Refuses
 * programs that call helpers or reference maps: their instructions cannot be
 * reloaded as they are dumped. */
int vgpu_bpf_prog_insns (int prog_fd, struct bpf_insn **ret, size_t *ret_len, vgpu_error_t *err);

/* BPF_PROG_ATTACH of prog_fd to the cgroup with flags (replace_fd used only
 * with BPF_F_REPLACE). */
int vgpu_bpf_attach (int cgroup_fd, int prog_fd, unsigned flags, int replace_fd, vgpu_error_t *err);

/* Programs attached directly to the cgroup: ids (at most max) and flags. */
int vgpu_bpf_query (int cgroup_fd, unsigned *ids, size_t max, size_t *ret_n, unsigned *ret_flags, vgpu_error_t *err);

/* Allow the nodes (char, any access) in the cgroup2 directory cgroup_fd: each
 * device program attached to it is replaced by prologue + its own
 * instructions.  No program attached means no restriction: nothing to do.
 * undo is always initialised; on failure it is empty and nothing changed. */
int vgpu_bpf_allow (int cgroup_fd, const vgpu_node_t *nodes, size_t n, vgpu_bpf_undo_t *undo, vgpu_error_t *err);

/* Take access back: each device program attached to the cgroup is replaced
 * by a prologue that denies the nodes, then its own instructions, whoever
 * granted them (our prologue, or the runtime's rules from config.json).  No
 * program attached means the cgroup restricts no device: nothing to do. */
int vgpu_bpf_deny (int cgroup_fd, const vgpu_node_t *nodes, size_t n, vgpu_error_t *err);

/* Put the old programs back (BPF_F_REPLACE of ours) and release undo. */
int vgpu_bpf_undo (vgpu_bpf_undo_t *undo, vgpu_error_t *err);

/* Success path: close the fds, our programs stay attached. */
void vgpu_bpf_undo_release (vgpu_bpf_undo_t *undo);
