/* cgroup.h — a container's device cgroup: find it, allow nodes in it, undo.
 *
 * Owns reading /proc/PID/cgroup and /proc/self/mountinfo (as pure parsers
 * over text, so they are tested without a kernel), choosing the hierarchy the
 * way runtimes do (a visible v1 `devices` mount wins: hybrid hosts enforce
 * devices through v1 only; else the cgroup2 mount), and granting "c MAJ:MIN
 * rwm": v1 by writing devices.allow, v2 by extending the runtime's BPF device
 * program (bpf.h).  Paths from /proc are checked before they reach a path. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "bpf.h"
#include "error.h"
#include "plan.h"

typedef enum vgpu_cgroup_kind {
        VGPU_CGROUP_NONE, /* nothing was changed */
        VGPU_CGROUP_V1,
        VGPU_CGROUP_V2,
} vgpu_cgroup_kind_t;

/* What /proc/PID/cgroup says. */
typedef struct vgpu_cgroup_proc {
        char devices[PATH_MAX]; /* v1 path of the devices controller, "" if none */
        char unified[PATH_MAX]; /* v2 path from the "0::" line, "" if none */
} vgpu_cgroup_proc_t;

/* A cgroup mount from mountinfo. */
typedef struct vgpu_cgroup_mount {
        char point[PATH_MAX]; /* where it is mounted */
        char root[PATH_MAX];  /* which cgroup is at the mount point ("/" normally) */
} vgpu_cgroup_mount_t;

typedef struct vgpu_cgroup_undo {
        vgpu_cgroup_kind_t kind;
        int dir_fd;                               /* v1: the container's devices cgroup, -1 when none */
        unsigned allowed[VGPU_PLAN_MAX_NODES][2]; /* v1: major, minor of rules we wrote */
        size_t n_allowed;
        vgpu_bpf_undo_t bpf; /* v2 */
        char path[PATH_MAX]; /* the cgroup directory, for messages */
} vgpu_cgroup_undo_t;

/* Parse the text of /proc/PID/cgroup.  Paths must be absolute without "."
 * or ".." components (-EINVAL otherwise). */
int vgpu_cgroup_parse_proc (const char *text, vgpu_cgroup_proc_t *ret, vgpu_error_t *err);

/* Find in mountinfo text the v1 hierarchy with the devices controller (v2
 * false) or the cgroup2 mount (v2 true); prefers a mount of the hierarchy's
 * root.  -ENOENT when there is none. */
int vgpu_cgroup_find_mount (const char *mountinfo, bool v2, vgpu_cgroup_mount_t *ret, vgpu_error_t *err);

/* Allow the nodes (char, rwm) in the device cgroup of pid.  cgroup_root NULL:
 * hierarchies found from /proc/self/mountinfo.  Otherwise (tests) v1 is
 * cgroup_root/devices when that directory exists, else cgroup_root is the
 * cgroup2 mount.  v1 rules already granted (devices.list) are not written
 * again nor recorded.  undo is always initialised; on failure nothing
 * stays changed. */
int vgpu_cgroup_allow (pid_t pid, const char *cgroup_root, const vgpu_node_t *nodes, size_t n, vgpu_cgroup_undo_t *undo,
                       vgpu_error_t *err);

/* Take the grant back (v1: devices.deny of each rule written; v2: the old
 * program put back) and release undo. */
int vgpu_cgroup_undo (vgpu_cgroup_undo_t *undo, vgpu_error_t *err);

/* Take access to the nodes away from pid's device cgroup, whoever granted it
 * (this hook, or the runtime from config.json): v1 devices.deny, v2 a deny
 * prologue in front of each device program.  For a forced release, before
 * the mdev goes and its group number can reach another container. */
int vgpu_cgroup_deny (pid_t pid, const char *cgroup_root, const vgpu_node_t *nodes, size_t n, vgpu_error_t *err);

/* Success path: close fds; the grant stays. */
void vgpu_cgroup_undo_release (vgpu_cgroup_undo_t *undo);
