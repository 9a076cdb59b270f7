/* record.c — see record.h. */
#include "record.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "pci.h"
#include "stage.h"
#include "util.h"

static const char *const state_names[] = {
        [VGPU_RECORD_CREATING] = "creating",
        [VGPU_RECORD_ACTIVE] = "active",
        [VGPU_RECORD_RELEASING] = "releasing",
        [VGPU_RECORD_CORRUPT] = "corrupt",
};

const char *
vgpu_record_state_name (vgpu_record_state_t s)
{
        return (unsigned) s < ARRAY_SIZE (state_names) ? state_names[s] : "unknown";
}

static const char *const kind_names[VGPU_OWNER_KIND_N] = {
        [VGPU_OWNER_CONTAINER] = "container",
        [VGPU_OWNER_VGPUCTL] = "vgpuctl",
        [VGPU_OWNER_CDI_POOL] = "cdi-pool",
        [VGPU_OWNER_CDI_CLAIM] = "cdi-claim",
};

const char *
vgpu_owner_kind_name (vgpu_owner_kind_t kind)
{
        return (unsigned) kind < VGPU_OWNER_KIND_N ? kind_names[kind] : "unknown";
}

int
vgpu_owner_kind_parse (const char *name, vgpu_owner_kind_t *ret)
{
        for (size_t k = 0; k < VGPU_OWNER_KIND_N; k++)
                if (strcmp (name, kind_names[k]) == 0) {
                        *ret = (vgpu_owner_kind_t) k;
                        return 0;
                }
        return -EINVAL;
}

bool
vgpu_owner_same (const vgpu_owner_t *a, const vgpu_owner_t *b)
{
        return a->kind == b->kind && strcmp (a->id, b->id) == 0 && strcmp (a->scope, b->scope) == 0;
}

const char *
vgpu_owner_display (const vgpu_owner_t *owner, char buf[VGPU_OWNER_DISPLAY_MAX])
{
        if (owner->kind == VGPU_OWNER_CDI_POOL || owner->kind == VGPU_OWNER_CDI_CLAIM)
                snprintf (buf, VGPU_OWNER_DISPLAY_MAX, "%s.%s", kind_names[owner->kind], owner->id);
        else
                snprintf (buf, VGPU_OWNER_DISPLAY_MAX, "%s", owner->id);
        return buf;
}

bool
vgpu_owner_valid (const char *owner)
{
        size_t len = strlen (owner);

        if (len == 0 || len > VGPU_OWNER_MAX || !isalnum ((unsigned char) owner[0]))
                return false;
        for (; *owner; owner++)
                if (!isalnum ((unsigned char) *owner) && !strchr ("_.-", *owner))
                        return false;
        return true;
}

char *
vgpu_record_format (const vgpu_record_t *rec)
{
        _cleanup_json_ json_object *o = json_object_new_object ();
        const char *text;

        json_object_object_add (o, "uuid", json_object_new_string (rec->uuid));
        json_object_object_add (o, "backend", json_object_new_string (vgpu_backend_kind_name (rec->backend)));
        json_object_object_add (o, "device", json_object_new_string (rec->device));
        json_object_object_add (o, "owner", json_object_new_string (rec->owner.id));
        json_object_object_add (o, "kind", json_object_new_string (vgpu_owner_kind_name (rec->owner.kind)));
        json_object_object_add (o, "scope", json_object_new_string (rec->owner.scope));
        json_object_object_add (o, "request", json_object_new_string (rec->request));
        json_object_object_add (o, "parent", json_object_new_string (rec->parent));
        json_object_object_add (o, "type", json_object_new_string (rec->type));
        json_object_object_add (o, "group", json_object_new_int (rec->group));
        json_object_object_add (o, "pid", json_object_new_int64 (rec->pid));
        json_object_object_add (o, "pid_start", json_object_new_uint64 (rec->pid_start));
        json_object_object_add (o, "holder", json_object_new_int64 (rec->holder));
        json_object_object_add (o, "holder_start", json_object_new_uint64 (rec->holder_start));
        json_object_object_add (o, "stage", json_object_new_string (rec->stage));
        json_object_object_add (o, "state", json_object_new_string (vgpu_record_state_name (rec->state)));
        json_object_object_add (o, "created", json_object_new_int64 (rec->created));
        json_object_object_add (o, "updated", json_object_new_int64 (rec->updated));
        text = json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        return text ? strdup (text) : NULL;
}

static int
copy_str (json_object *o, const char *key, char *dst, size_t size, vgpu_error_t *err)
{
        const char *v = vgpu_json_str (o, key);

        if (!v || strlen (v) >= size)
                return vgpu_error_set (err, EBADMSG, "ledger record field \"%s\" is missing or too long", key);
        strcpy (dst, v);
        return 0;
}

/* A pid truncated to pid_t, or a start time read back negative, would make gc
 * judge another process than the one recorded. */
static bool
int_in (json_object *o, const char *key, long long min, long long max, long long *ret)
{
        *ret = vgpu_json_int (o, key, 0);
        return *ret >= min && *ret <= max;
}

/* Records written before owners had kinds spelt the CDI ones into the id. */
static void
legacy_kind (vgpu_owner_t *owner, const char *stage)
{
        static const struct {
                const char *prefix;
                vgpu_owner_kind_t kind;
        } prefixes[] = { { "cdi-pool.", VGPU_OWNER_CDI_POOL }, { "cdi-claim.", VGPU_OWNER_CDI_CLAIM } };

        owner->kind =
                strcmp (stage, vgpu_stage_name (VGPU_STAGE_VGPUCTL)) == 0 ? VGPU_OWNER_VGPUCTL : VGPU_OWNER_CONTAINER;
        for (size_t i = 0; i < ARRAY_SIZE (prefixes); i++) {
                size_t len = strlen (prefixes[i].prefix);

                if (strncmp (owner->id, prefixes[i].prefix, len) == 0 && owner->id[len]) {
                        owner->kind = prefixes[i].kind;
                        memmove (owner->id, owner->id + len, strlen (owner->id + len) + 1);
                }
        }
}

/* Each kind's ids: containers, vgpuctl owners and claims as
 * vgpu_owner_valid, pool slots a decimal index; a scope is an absolute path
 * of printable ASCII ("-" for a spec written to stdout). */
static bool
owner_ok (const vgpu_owner_t *o)
{
        unsigned long long idx;

        if (o->kind == VGPU_OWNER_CDI_POOL ? vgpu_parse_uint (o->id, 1u << 20, &idx) < 0 : !vgpu_owner_valid (o->id))
                return false;
        for (const char *c = o->scope; *c; c++)
                if (*c < 0x20 || *c >= 0x7f)
                        return false;
        return o->scope[0] == '\0' ||
               (o->kind == VGPU_OWNER_CDI_POOL && (o->scope[0] == '/' || strcmp (o->scope, "-") == 0));
}

/* An mdev's device is its uuid; a VF's is a PCI address whose id the uuid
 * is, so one VF has one record name. */
static bool
device_ok (const vgpu_record_t *rec)
{
        char id[VGPU_UUID_LEN + 1];

        if (rec->backend == VGPU_BACKEND_MDEV)
                return strcasecmp (rec->device, rec->uuid) == 0;
        if (!vgpu_pci_addr_valid (rec->device))
                return false;
        vgpu_vf_id (rec->device, id);
        return strcmp (id, rec->uuid) == 0;
}

int
vgpu_record_parse (const char *text, size_t len, vgpu_record_t *ret, vgpu_error_t *err)
{
        static const vgpu_json_field_t fields[] = {
                { "uuid", json_type_string, true },     { "backend", json_type_string, false },
                { "device", json_type_string, false },  { "owner", json_type_string, true },
                { "kind", json_type_string, false },    { "scope", json_type_string, false },
                { "request", json_type_string, false }, { "parent", json_type_string, true },
                { "type", json_type_string, true },     { "group", json_type_int, true },
                { "pid", json_type_int, true },         { "pid_start", json_type_int, true },
                { "holder", json_type_int, true },      { "holder_start", json_type_int, true },
                { "stage", json_type_string, true },    { "state", json_type_string, true },
                { "created", json_type_int, true },     { "updated", json_type_int, true },
        };
        _cleanup_json_ json_object *o = NULL;
        vgpu_record_t rec = { 0 };
        const char *state, *kind, *backend;
        long long v[5];
        size_t s;
        int r;

        r = vgpu_json_parse (text, len, "ledger record", &o, err);
        if (r == 0)
                r = vgpu_json_check (o, fields, ARRAY_SIZE (fields), "ledger record", err);
        if (r < 0) {
                if (err)
                        err->code = EBADMSG; /* keep the parser's sentence */
                return -EBADMSG;
        }
        if (copy_str (o, "uuid", rec.uuid, sizeof rec.uuid, err) < 0 ||
            copy_str (o, "owner", rec.owner.id, sizeof rec.owner.id, err) < 0 ||
            copy_str (o, "parent", rec.parent, sizeof rec.parent, err) < 0 ||
            copy_str (o, "type", rec.type, sizeof rec.type, err) < 0 ||
            copy_str (o, "stage", rec.stage, sizeof rec.stage, err) < 0 ||
            (vgpu_json_str (o, "scope") && copy_str (o, "scope", rec.owner.scope, sizeof rec.owner.scope, err) < 0) ||
            (vgpu_json_str (o, "request") && copy_str (o, "request", rec.request, sizeof rec.request, err) < 0) ||
            (vgpu_json_str (o, "device") && copy_str (o, "device", rec.device, sizeof rec.device, err) < 0))
                return -EBADMSG;
        backend = vgpu_json_str (o, "backend");
        if (backend && vgpu_backend_kind_parse (backend, &rec.backend) < 0)
                return vgpu_error_set (err, EBADMSG, "ledger record backend \"%.32s\" is unknown", backend);
        if (!rec.device[0] && rec.backend == VGPU_BACKEND_MDEV)
                memcpy (rec.device, rec.uuid, sizeof rec.uuid); /* records from before VFs */
        kind = vgpu_json_str (o, "kind");
        if (!kind)
                legacy_kind (&rec.owner, rec.stage);
        else if (vgpu_owner_kind_parse (kind, &rec.owner.kind) < 0)
                return vgpu_error_set (err, EBADMSG, "ledger record owner kind \"%.32s\" is unknown", kind);
        if (!vgpu_uuid_valid (rec.uuid) || !owner_ok (&rec.owner) || !vgpu_name_valid (rec.parent) ||
            !vgpu_name_valid (rec.type) ||
            (rec.request[0] && strcmp (rec.request, "auto") != 0 && !vgpu_name_valid (rec.request)))
                return vgpu_error_set (err, EBADMSG,
                                       "ledger record has an invalid uuid, owner, parent, type or request");
        if (!device_ok (&rec))
                return vgpu_error_set (err, EBADMSG, "ledger record device \"%.32s\" is not its %s with id %s",
                                       rec.device, vgpu_backend_kind_name (rec.backend), rec.uuid);
        state = vgpu_json_str (o, "state");
        for (s = 0; s < VGPU_RECORD_CORRUPT && strcmp (state, state_names[s]) != 0; s++)
                ;
        if (s == VGPU_RECORD_CORRUPT)
                return vgpu_error_set (err, EBADMSG, "ledger record state \"%.32s\" is unknown", state);
        rec.state = (vgpu_record_state_t) s;
        if (!int_in (o, "group", -1, INT_MAX, &v[0]) || !int_in (o, "pid", 0, INT_MAX, &v[1]) ||
            !int_in (o, "pid_start", 0, LLONG_MAX, &v[2]) || !int_in (o, "holder", 0, INT_MAX, &v[3]) ||
            !int_in (o, "holder_start", 0, LLONG_MAX, &v[4]))
                return vgpu_error_set (err, EBADMSG, "ledger record has a group, pid or start time out of range");
        rec.group = (int) v[0];
        rec.pid = (pid_t) v[1];
        rec.pid_start = (unsigned long long) v[2];
        rec.holder = (pid_t) v[3];
        rec.holder_start = (unsigned long long) v[4];
        rec.created = vgpu_json_int (o, "created", 0);
        rec.updated = vgpu_json_int (o, "updated", 0);
        *ret = rec;
        return 0;
}

bool
vgpu_record_held (const vgpu_record_t *rec)
{
        return rec->pid > 0 && vgpu_proc_alive (rec->pid, rec->pid_start);
}

const char *
vgpu_record_who (const vgpu_record_t *rec, char buf[VGPU_OWNER_DISPLAY_MAX])
{
        char raw[VGPU_OWNER_DISPLAY_MAX], q[VGPU_QUOTE_BUF];

        vgpu_owner_display (&rec->owner, raw);
        snprintf (buf, VGPU_OWNER_DISPLAY_MAX, "%s", vgpu_quote (raw, strlen (raw), q));
        return buf;
}

const char *
vgpu_record_device (const vgpu_record_t *rec, char buf[VGPU_DEVICE_DISPLAY_MAX])
{
        return vgpu_device_display (rec->backend, rec->device, buf);
}
