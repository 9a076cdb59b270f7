/* inject.h — device nodes inside a running container's /dev.
 *
 * Owns creating the plan's nodes under the container's rootfs as its mount
 * namespace sees it, reached through /proc/PID/root from the caller (no
 * helper process, no setns): every path resolved from an O_PATH fd of the
 * rootfs without following any symlink, every node checked for type and
 * st_rdev before it is trusted, everything created recorded for undo. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "plan.h"

/* Nodes plus the directories made for them (/dev/vfio, /dev/vfio/devices). */
#define VGPU_INJECT_MAX_CREATED (VGPU_PLAN_MAX_NODES + 8)

typedef struct vgpu_inject_undo {
        char created[VGPU_INJECT_MAX_CREATED][64]; /* container paths, in creation order */
        bool is_dir[VGPU_INJECT_MAX_CREATED];
        dev_t rdev[VGPU_INJECT_MAX_CREATED]; /* nodes: removed only if still this device */
        size_t n;
} vgpu_inject_undo_t;

/* Create each node (char major:minor, mode) at its container path (which
 * must be under /dev/) below rootfs, as seen from the root of pid
 * (/proc/PID/root, in its mount namespace; pid 0: the caller's own).
 * rootfs is the absolute path of the container's rootfs as the runtime
 * mounted it (at createRuntime, before pivot_root).  Missing parent
 * directories are made 0755.
 * A node already there with the same type and numbers is accepted and not
 * recorded; anything else there is an error.  On failure what this call
 * created is removed again and undo is empty. */
int vgpu_inject_nodes (pid_t pid, const char *rootfs, const vgpu_node_t *nodes, size_t n, vgpu_inject_undo_t *undo,
                       vgpu_error_t *err);

/* Remove what vgpu_inject_nodes recorded, newest first.  Gone already is fine;
 * a node that is no longer our device, or a directory no longer empty, is
 * left alone. */
int vgpu_inject_undo (pid_t pid, const char *rootfs, const vgpu_inject_undo_t *undo, vgpu_error_t *err);

/* Take the nodes out of a running container: each one found at its path in
 * the root of pid (/proc/PID/root, from the caller's namespace: no child, no
 * setns) that is still that char device is removed.  A forced release does
 * this before the mdev goes, so its group number never reaches the old
 * tenant. */
int vgpu_inject_remove (pid_t pid, const vgpu_node_t *nodes, size_t n, vgpu_error_t *err);
