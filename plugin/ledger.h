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
 *
 * A record names its owner — an instance, not a name: owners live in
 * separate kinds (containers, vgpuctl's node-agent owners, each CDI pool
 * spec's slots, CDI claims), and a container is its id plus its pid and that
 * pid's start time once a stage knows them (so a reused id or pid is never
 * taken for it) — what it asked for (the request, so a second different
 * request of one container is never answered with the first one's mdev),
 * the device (its backend and its kernel name; records from before VFs have
 * neither and are mdevs named by their uuid), and its state: creating (the
 * allocating process may have died half-way), active, or releasing (a remove
 * or unbind is pending). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "mdev.h"
#include "roots.h"

#define VGPU_OWNER_MAX 128
#define VGPU_SCOPE_MAX 1024

typedef enum vgpu_owner_kind {
        VGPU_OWNER_CONTAINER, /* a container: its id, and its pid once a stage knows it */
        VGPU_OWNER_VGPUCTL,   /* vgpuctl allocate --owner: a node agent's name */
        VGPU_OWNER_CDI_POOL,  /* one slot of a CDI pool: the index, scope = the spec file */
        VGPU_OWNER_CDI_CLAIM, /* a CDI claim: the claim id */
        VGPU_OWNER_KIND_N,
} vgpu_owner_kind_t;

typedef struct vgpu_owner {
        vgpu_owner_kind_t kind;
        char id[VGPU_OWNER_MAX + 1];
        char scope[VGPU_SCOPE_MAX + 1]; /* a CDI pool's spec file; "" otherwise (and for pre-0.2 pool records) */
} vgpu_owner_t;

/* "container", "vgpuctl", "cdi-pool", "cdi-claim"; -EINVAL for another word. */
const char *vgpu_owner_kind_name (vgpu_owner_kind_t kind);
int vgpu_owner_kind_parse (const char *name, vgpu_owner_kind_t *ret);

bool vgpu_owner_same (const vgpu_owner_t *a, const vgpu_owner_t *b);

/* How lists and messages name an owner: the id for containers and vgpuctl
 * owners, cdi-pool.<index> and cdi-claim.<id> for CDI's. */
#define VGPU_OWNER_DISPLAY_MAX (VGPU_OWNER_MAX + 16)
const char *vgpu_owner_display (const vgpu_owner_t *owner, char buf[VGPU_OWNER_DISPLAY_MAX]);

typedef enum vgpu_record_state {
        VGPU_RECORD_CREATING,
        VGPU_RECORD_ACTIVE,
        VGPU_RECORD_RELEASING,
        VGPU_RECORD_CORRUPT, /* unreadable on disk: only snapshots carry it */
} vgpu_record_state_t;

typedef struct vgpu_record {
        char uuid[VGPU_UUID_LEN + 1]; /* the device's ledger id */
        vgpu_backend_kind_t backend;
        char device[VGPU_NAME_MAX]; /* its kernel name: the mdev's UUID, the VF's PCI address */
        vgpu_owner_t owner;
        char request[VGPU_NAME_MAX]; /* what was asked: a type id or "auto"; "" in records before 0.2 */
        char parent[VGPU_NAME_MAX];
        char type[VGPU_NAME_MAX];
        int group;
        pid_t pid;                    /* container pid, 0 when not known (unbound) */
        unsigned long long pid_start; /* its start time (clock ticks after boot) */
        pid_t holder;                 /* process that allocates, while creating */
        unsigned long long holder_start;
        char stage[32]; /* precreate, createRuntime, prestart, vgpuctl, cdi */
        vgpu_record_state_t state;
        long long created, updated; /* unix seconds */
} vgpu_record_t;

typedef struct vgpu_ledger {
        int dirfd;  /* <state>/ledger */
        int lockfd; /* <state>/lock, flock'ed while >= 0 and locked */
} vgpu_ledger_t;

/* Container ids and owners: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}. */
bool vgpu_owner_valid (const char *owner);

const char *vgpu_record_state_name (vgpu_record_state_t s);

/* Open (creating <state> 0700 and <state>/ledger) and take the lock.  A state
 * directory or ledger that is a link, not root's, or group/world writable is
 * refused with a line that says so. */
int vgpu_ledger_open (const vgpu_roots_t *roots, vgpu_ledger_t *ret, vgpu_error_t *err);
void vgpu_ledger_close (vgpu_ledger_t *l);

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

/* Remove a non-regular entry <uuid>.json (a FIFO, link, device or empty
 * directory someone put there); 0 when it is gone. */
int vgpu_ledger_remove_stranger (vgpu_ledger_t *l, const char *uuid, vgpu_error_t *err);

/* Remove temp files that writers killed mid-write left behind (their pid is
 * gone); returns how many. */
int vgpu_ledger_sweep (vgpu_ledger_t *l);

/* Record text <-> struct (pure; fuzzed). */
int vgpu_record_parse (const char *text, size_t len, vgpu_record_t *ret, vgpu_error_t *err);
char *vgpu_record_format (const vgpu_record_t *rec);

/* Start time of a process (field 22 of /proc/PID/stat); -ESRCH when gone. */
int vgpu_proc_start (pid_t pid, unsigned long long *ret);
/* True while pid runs and still has start time `start` (a zombie has ended). */
bool vgpu_proc_alive (pid_t pid, unsigned long long start);
