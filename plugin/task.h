/* task.h — the helper process of a write the kernel may block.
 *
 * One thing needs a second process: the sysfs writes the kernel blocks
 * while a device is open — an mdev's remove (device.c), vfio-pci's unbind
 * (sriov.c), a PF's sriov_numvfs (pf.c) — where only someone else's
 * blocking keeps the caller's wait bounded.  (A container's nodes need none:
 * inject.c reaches its mount namespace through /proc/PID/root.)  The writer
 * is a clone(CLONE_VM) child on a stack of its own: starting one copies no
 * page table and write-protects nothing, where a fork() of the caller
 * would.  It gets its own copies of the fd table, fs state (umask, cwd) and
 * namespaces, and starts on the caller's CPU (pinned to it; the caller's own
 * affinity is put back once it has stopped waiting).
 * Needs kernel 5.3 (pidfd). */
#pragma once

#include <stddef.h>

/* write(fd, buf, len) in a child that first closes every other fd it
 * inherited (the ledger lock above all) and touches no memory of the
 * caller's but its own stack, waiting at most timeout_ms for it.  0 when
 * the write ended: *ret_errno is its errno, 0 if it wrote.  -ETIMEDOUT when
 * it is still blocked: the child finishes the write on its own and is
 * reaped by whoever inherits it once the caller exits; buf must stay valid
 * (a literal).  Another negative errno: no child started. */
int vgpu_task_write_bounded (int fd, const void *buf, size_t len, unsigned timeout_ms, int *ret_errno);
