/* ledger.h — the allocation ledger under the state root.
 *
 * One record per mdev vgpu-toolkit created, in <state>/ledger/<uuid>.json,
 * written atomically (temp file, fsync, rename).  Changes are serialised by
 * flock on <state>/lock.  A record names its owner (container id), the
 * container pid and its start time (so a reused pid is not mistaken for the
 * container), and its state: creating (the allocating process may have died
 * half-way), active, or releasing (a remove is pending). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "mdev.h"
#include "roots.h"

#define VGPU_OWNER_MAX 128

typedef enum vgpu_record_state {
        VGPU_RECORD_CREATING,
        VGPU_RECORD_ACTIVE,
        VGPU_RECORD_RELEASING,
        VGPU_RECORD_CORRUPT, /* unreadable on disk: only snapshots carry it */
} vgpu_record_state_t;

typedef struct vgpu_record {
        char uuid[VGPU_UUID_LEN + 1];
        char owner[VGPU_OWNER_MAX + 1];
        char parent[VGPU_NAME_MAX];
        char type[VGPU_NAME_MAX];
        int group;
        pid_t pid;                    /* container pid, 0 when not known */
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

/* Open (creating <state> 0700 and <state>/ledger) and take the lock. */
int vgpu_ledger_open (const vgpu_roots_t *roots, vgpu_ledger_t *ret, vgpu_error_t *err);
void vgpu_ledger_close (vgpu_ledger_t *l);
int vgpu_ledger_lock (vgpu_ledger_t *l, vgpu_error_t *err);
void vgpu_ledger_unlock (vgpu_ledger_t *l);

int vgpu_ledger_put (vgpu_ledger_t *l, vgpu_record_t *rec, vgpu_error_t *err); /* sets updated */
/* -ENOENT when absent, -EBADMSG when the record is truncated or corrupt. */
int vgpu_ledger_get (vgpu_ledger_t *l, const char *uuid, vgpu_record_t *ret, vgpu_error_t *err);
int vgpu_ledger_del (vgpu_ledger_t *l, const char *uuid, vgpu_error_t *err);

/* Every record; the uuids of unreadable records go to ret_corrupt. */
int vgpu_ledger_list (vgpu_ledger_t *l, vgpu_record_t **ret, size_t *ret_n, char (**ret_corrupt)[VGPU_UUID_LEN + 1],
                      size_t *ret_n_corrupt, vgpu_error_t *err);

/* Remove temp files that writers killed mid-write left behind (their pid is
 * gone); returns how many. */
int vgpu_ledger_sweep (vgpu_ledger_t *l);

/* Record text <-> struct (pure; fuzzed). */
int vgpu_record_parse (const char *text, size_t len, vgpu_record_t *ret, vgpu_error_t *err);
char *vgpu_record_format (const vgpu_record_t *rec);

/* Start time of a process (field 22 of /proc/PID/stat); -ESRCH when gone. */
int vgpu_proc_start (pid_t pid, unsigned long long *ret);
/* True while pid runs and still has start time `start`. */
bool vgpu_proc_alive (pid_t pid, unsigned long long start);
