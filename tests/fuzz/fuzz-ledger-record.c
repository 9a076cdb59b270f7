/* fuzz-ledger-record.c — a ledger record as <state>/ledger/<uuid>.json holds
 * it, possibly truncated or corrupted (power loss, a stray editor):
 * vgpu_record_parse() and vgpu_record_format().
 *
 * A refused record is -EBADMSG with a message and leaves ret untouched (gc
 * and list must not trust half of it).  An accepted one holds only what may
 * reach a path or a kill decision (a valid uuid, owner, parent and type, a
 * known state, pids >= 0), and formats to text that fits the ledger's read
 * cap and parses again to the same record. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "util.h"

#define RECORD_MAX_BYTES 8192 /* ledger.c reads no more of a record */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static bool
same (const vgpu_record_t *a, const vgpu_record_t *b)
{
        return strcmp (a->uuid, b->uuid) == 0 && vgpu_owner_same (&a->owner, &b->owner) &&
               strcmp (a->request, b->request) == 0 && strcmp (a->parent, b->parent) == 0 &&
               strcmp (a->type, b->type) == 0 && strcmp (a->stage, b->stage) == 0 && a->group == b->group &&
               a->pid == b->pid && a->pid_start == b->pid_start && a->holder == b->holder &&
               a->holder_start == b->holder_start && a->state == b->state && a->created == b->created &&
               a->updated == b->updated;
}

static void
check_accepted (const vgpu_record_t *rec)
{
        _cleanup_free_ char *text = NULL;
        vgpu_record_t again;
        vgpu_error_t err = { 0 };

        if (!vgpu_uuid_valid (rec->uuid) ||
            (rec->owner.kind != VGPU_OWNER_CDI_POOL && !vgpu_owner_valid (rec->owner.id)) ||
            (unsigned) rec->owner.kind >= VGPU_OWNER_KIND_N || !vgpu_name_valid (rec->parent) ||
            !vgpu_name_valid (rec->type) || rec->pid < 0 || rec->holder < 0 ||
            strcmp (vgpu_record_state_name (rec->state), "unknown") == 0)
                abort ();
        text = vgpu_record_format (rec);
        if (!text || strlen (text) > RECORD_MAX_BYTES)
                abort ();
        if (vgpu_record_parse (text, strlen (text), &again, &err) != 0 || !same (rec, &again))
                abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        vgpu_record_t rec, poison;
        vgpu_error_t err = { 0 };
        int r;

        memset (&poison, 0xa5, sizeof poison);
        rec = poison;
        r = vgpu_record_parse ((const char *) data, size, &rec, &err);
        if (r < 0) {
                if (r != -EBADMSG || err.code != EBADMSG || err.msg[0] == '\0' ||
                    memcmp (&rec, &poison, sizeof rec) != 0)
                        abort ();
                return 0;
        }
        if (r != 0)
                abort ();
        check_accepted (&rec);
        return 0;
}
