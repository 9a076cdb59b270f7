/* record.h — what a ledger record says, and its text.
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
 * or unbind is pending).  The JSON text both ways is pure code (fuzzed). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "host.h"
#include "mdev.h"

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

/* Container ids and owners: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}. */
bool vgpu_owner_valid (const char *owner);

const char *vgpu_record_state_name (vgpu_record_state_t s);

/* Record text <-> struct (pure; fuzzed). */
int vgpu_record_parse (const char *text, size_t len, vgpu_record_t *ret, vgpu_error_t *err);
char *vgpu_record_format (const vgpu_record_t *rec);

/* A process holds the allocation: the container (or the node agent's
 * process) it was bound to still runs. */
bool vgpu_record_held (const vgpu_record_t *rec);

/* The owner as messages name it, quoted to stay on one line. */
const char *vgpu_record_who (const vgpu_record_t *rec, char buf[VGPU_OWNER_DISPLAY_MAX]);

/* "mdev <uuid>" or "VF <address>", for messages. */
const char *vgpu_record_device (const vgpu_record_t *rec, char buf[VGPU_DEVICE_DISPLAY_MAX]);
