/* ledger.h — the allocation ledger under the state root.
 *
 * One record per device vgpu-toolkit made or claimed — an mdev it created or
 * a VF it bound to vfio-pci (backend.h) — in
 * <state>/ledger/<kind>.<owner id>.<uuid>.json (the name carries the owner,
 * so an owner's records are found without reading anyone else's; the uuid
 * is the device's ledger id, a VF's derived from its address, pci.h), written
 * atomically (temp file, fsync, rename) and read back only from a
 * regular file (no link followed, no FIFO opened).  Changes are serialised by
 * flock on <state>/lock.  The state directory must be root's and writable by
 * nobody else, or every command refuses it: a record proves an mdev is ours,
 * so nobody else may plant one.
 * What a record says is record.h's. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "record.h"
#include "roots.h"

typedef struct vgpu_ledger {
        int dirfd;  /* <state>/ledger */
        int lockfd; /* <state>/lock, flock'ed while >= 0 and locked */
} vgpu_ledger_t;

/* For vgpu_ledger_records_of: a container or a vgpuctl owner with this id,
 * the two kinds an admin names with `vgpuctl release --owner`. */
#define VGPU_OWNER_BY_NAME VGPU_OWNER_KIND_N

/* Open (creating <state> 0700 and <state>/ledger) and take the lock.  A state
 * directory or ledger that is a link, not root's, or group/world writable is
 * refused with a line that says so. */
int vgpu_ledger_open (const vgpu_roots_t *roots, vgpu_ledger_t *ret, vgpu_error_t *err);
void vgpu_ledger_close (vgpu_ledger_t *l);

static inline void
vgpu_ledger_closep (vgpu_ledger_t *l)
{
        vgpu_ledger_close (l);
}
#define _cleanup_ledger_ __attribute__ ((cleanup (vgpu_ledger_closep)))

/* An exclusive flock on <state>/<name> (e.g. "cdi-pool.lock") for a series
 * of ledger changes that must not interleave with another such series (the
 * ledger lock is per allocation); the fd holds it (close to drop). */
int vgpu_state_lock (const vgpu_roots_t *roots, const char *name, vgpu_error_t *err);
int vgpu_ledger_lock (vgpu_ledger_t *l, vgpu_error_t *err);
void vgpu_ledger_unlock (vgpu_ledger_t *l);

int vgpu_ledger_put (vgpu_ledger_t *l, vgpu_record_t *rec, vgpu_error_t *err); /* sets updated */
/* -ENOENT when absent, -EBADMSG when the record is truncated or corrupt. */
int vgpu_ledger_get (vgpu_ledger_t *l, const char *uuid, vgpu_record_t *ret, vgpu_error_t *err);
int vgpu_ledger_del (vgpu_ledger_t *l, const char *uuid, vgpu_error_t *err);
/* The same for a record read or written here: its file name follows from
 * it, so no scan (one under an old name is still found). */
int vgpu_ledger_drop (vgpu_ledger_t *l, const vgpu_record_t *rec, vgpu_error_t *err);

/* Every record; the uuids of unreadable records go to ret_corrupt.  An entry
 * that is not a regular file is no record vgpu-toolkit wrote: it is named in
 * ret_strangers (may be NULL) and proves nothing about its mdev. */
int vgpu_ledger_list (vgpu_ledger_t *l, vgpu_record_t **ret, size_t *ret_n, char (**ret_corrupt)[VGPU_UUID_LEN + 1],
                      size_t *ret_n_corrupt, char (**ret_strangers)[VGPU_UUID_LEN + 1], size_t *ret_n_strangers,
                      vgpu_error_t *err);

/* The records of one owner (kind and id; any scope), found by their file
 * names: nobody else's record is read. */
int vgpu_ledger_list_owned (vgpu_ledger_t *l, const vgpu_owner_t *only, vgpu_record_t **ret, size_t *ret_n,
                            vgpu_error_t *err);

/* The records owner holds (kind, id and scope; or VGPU_OWNER_BY_NAME), under
 * the lock, found by their file names. */
int vgpu_ledger_records_of (vgpu_ledger_t *l, const vgpu_owner_t *owner, vgpu_record_t **ret, size_t *ret_n,
                            vgpu_error_t *err);

/* Remove a non-regular entry <uuid>.json (a FIFO, link, device or empty
 * directory someone put there); 0 when it is gone. */
int vgpu_ledger_remove_stranger (vgpu_ledger_t *l, const char *uuid, vgpu_error_t *err);

/* Remove temp files that writers killed mid-write left behind (their pid is
 * gone); returns how many. */
int vgpu_ledger_sweep (vgpu_ledger_t *l);
