/* report.c — see report.h. */
#include "report.h"

#include <string.h>

#include "json.h"
#include "util.h"

void
vgpu_report_types (FILE *out, const vgpu_host_t *host)
{
        for (size_t i = 0; i < host->n_parents; i++) {
                const vgpu_parent_t *p = &host->parents[i];

                fprintf (out, "%s\n", p->name);
                for (size_t j = 0; j < p->n_types; j++) {
                        const vgpu_type_t *t = &p->types[j];

                        fprintf (out, "  %s\n", t->id);
                        fprintf (out, "    Available instances: %u\n", t->available);
                        fprintf (out, "    Device API: %s\n", t->device_api);
                        if (t->name[0])
                                fprintf (out, "    Name: %s\n", t->name);
                        if (t->has_description)
                                fprintf (out, "    Description: %s\n", t->description);
                }
        }
        fputc ('\n', out); /* mdevctl ends its listing with an empty line, also an empty listing */
}

static int
emit (FILE *out, json_object *o)
{
        const char *text = json_object_to_json_string_ext (o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                      JSON_C_TO_STRING_NOSLASHESCAPE);

        if (!text)
                return -ENOMEM;
        fprintf (out, "%s\n", text);
        return 0;
}

static json_object *
type_json (const vgpu_type_t *t)
{
        json_object *o = json_object_new_object ();

        json_object_object_add (o, "type", json_object_new_string (t->id));
        json_object_object_add (o, "name", t->name[0] ? json_object_new_string (t->name) : NULL);
        json_object_object_add (o, "description", t->has_description ? json_object_new_string (t->description) : NULL);
        json_object_object_add (o, "device_api", json_object_new_string (t->device_api));
        json_object_object_add (o, "available_instances", json_object_new_int ((int) t->available));
        json_object_object_add (o, "active", json_object_new_int ((int) t->active));
        if (t->gvt.valid) {
                json_object *g = json_object_new_object ();

                json_object_object_add (g, "low_gm_size_mb", json_object_new_int ((int) t->gvt.low_gm_mb));
                json_object_object_add (g, "high_gm_size_mb", json_object_new_int ((int) t->gvt.high_gm_mb));
                json_object_object_add (g, "fence", json_object_new_int ((int) t->gvt.fence));
                json_object_object_add (g, "resolution_width", json_object_new_int ((int) t->gvt.res_w));
                json_object_object_add (g, "resolution_height", json_object_new_int ((int) t->gvt.res_h));
                json_object_object_add (g, "weight", json_object_new_int ((int) t->gvt.weight));
                json_object_object_add (o, "gvt", g);
        }
        return o;
}

int
vgpu_report_types_json (FILE *out, const vgpu_host_t *host)
{
        _cleanup_json_ json_object *arr = json_object_new_array ();

        for (size_t i = 0; i < host->n_parents; i++) {
                json_object *p = json_object_new_object (), *types = json_object_new_array ();

                for (size_t j = 0; j < host->parents[i].n_types; j++)
                        json_object_array_add (types, type_json (&host->parents[i].types[j]));
                json_object_object_add (p, "parent", json_object_new_string (host->parents[i].name));
                json_object_object_add (p, "types", types);
                json_object_array_add (arr, p);
        }
        return emit (out, arr);
}

static const vgpu_record_t *
find_record (const char *uuid, const vgpu_record_t *recs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp (recs[i].uuid, uuid) == 0)
                        return &recs[i];
        return NULL;
}

static bool
listed (const char *uuid, const vgpu_mdev_t *mdevs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp (mdevs[i].uuid, uuid) == 0)
                        return true;
        return false;
}

static const char *
owner_text (const vgpu_record_t *r, char buf[VGPU_OWNER_DISPLAY_MAX])
{
        return r->owner.id[0] ? vgpu_owner_display (&r->owner, buf) : "?";
}

void
vgpu_report_list (FILE *out, const vgpu_mdev_t *mdevs, size_t n, const vgpu_record_t *recs, size_t n_recs)
{
        char who[VGPU_OWNER_DISPLAY_MAX];

        for (size_t i = 0; i < n; i++) {
                const vgpu_record_t *r = find_record (mdevs[i].uuid, recs, n_recs);

                fprintf (out, "%s %s %s", mdevs[i].name, mdevs[i].parent, mdevs[i].type);
                if (r && r->state == VGPU_RECORD_CORRUPT)
                        fprintf (out, " owner=? state=corrupt\n");
                else if (r)
                        fprintf (out, " owner=%s state=%s\n", owner_text (r, who), vgpu_record_state_name (r->state));
                else
                        fprintf (out, " unowned\n");
        }
        /* records whose device has left the bus: a remove blocked in the kernel */
        for (size_t i = 0; i < n_recs; i++)
                if (!listed (recs[i].uuid, mdevs, n))
                        fprintf (out, "%s %s %s owner=%s state=%s (%s)\n",
                                 recs[i].device[0] ? recs[i].device : recs[i].uuid,
                                 recs[i].parent[0] ? recs[i].parent : "?", recs[i].type[0] ? recs[i].type : "?",
                                 owner_text (&recs[i], who), vgpu_record_state_name (recs[i].state),
                                 recs[i].backend == VGPU_BACKEND_VF ? "not under vfio-pci" : "not on the mdev bus");
}

/* The owner's fields of a list entry. */
static void
owner_json (json_object *o, const vgpu_record_t *r)
{
        char who[VGPU_OWNER_DISPLAY_MAX];

        json_object_object_add (o, "owner", r->owner.id[0] ? json_object_new_string (owner_text (r, who)) : NULL);
        json_object_object_add (o, "owner_kind",
                                r->owner.id[0] ? json_object_new_string (vgpu_owner_kind_name (r->owner.kind)) : NULL);
        if (r->owner.scope[0])
                json_object_object_add (o, "scope", json_object_new_string (r->owner.scope));
        if (r->request[0])
                json_object_object_add (o, "request", json_object_new_string (r->request));
        json_object_object_add (o, "state", json_object_new_string (vgpu_record_state_name (r->state)));
}

static json_object *
mdev_json (const vgpu_mdev_t *m)
{
        json_object *o = json_object_new_object ();

        json_object_object_add (o, "uuid", json_object_new_string (m->uuid));
        json_object_object_add (o, "backend", json_object_new_string (vgpu_backend_kind_name (m->backend)));
        json_object_object_add (o, "device", json_object_new_string (m->name));
        json_object_object_add (o, "parent", json_object_new_string (m->parent));
        json_object_object_add (o, "type", json_object_new_string (m->type));
        json_object_object_add (o, "iommu_group", m->group >= 0 ? json_object_new_int (m->group) : NULL);
        if (m->group >= 0) {
                char node[64], dev[32];

                snprintf (node, sizeof node, "/dev/vfio/%d", m->group);
                snprintf (dev, sizeof dev, "%u:%u", m->group_major, m->group_minor);
                json_object_object_add (o, "group_node", json_object_new_string (node));
                json_object_object_add (o, "group_dev", json_object_new_string (dev));
        }
        return o;
}

int
vgpu_report_list_json (FILE *out, const vgpu_mdev_t *mdevs, size_t n, const vgpu_record_t *recs, size_t n_recs)
{
        _cleanup_json_ json_object *arr = json_object_new_array ();

        for (size_t i = 0; i < n; i++) {
                const vgpu_record_t *r = find_record (mdevs[i].uuid, recs, n_recs);
                json_object *o = mdev_json (&mdevs[i]);

                json_object_object_add (o, "owned", json_object_new_boolean (r != NULL));
                if (r) {
                        owner_json (o, r);
                        json_object_object_add (o, "pid", json_object_new_int (r->pid));
                        json_object_object_add (o, "stage", json_object_new_string (r->stage));
                }
                json_object_array_add (arr, o);
        }
        for (size_t i = 0; i < n_recs; i++) {
                json_object *o;

                if (listed (recs[i].uuid, mdevs, n))
                        continue;
                o = json_object_new_object ();
                json_object_object_add (o, "uuid", json_object_new_string (recs[i].uuid));
                json_object_object_add (o, "backend",
                                        json_object_new_string (vgpu_backend_kind_name (recs[i].backend)));
                json_object_object_add (o, "device", json_object_new_string (recs[i].device));
                json_object_object_add (o, "parent", json_object_new_string (recs[i].parent));
                json_object_object_add (o, "type", json_object_new_string (recs[i].type));
                json_object_object_add (o, "on_bus", json_object_new_boolean (false));
                json_object_object_add (o, "owned", json_object_new_boolean (true));
                owner_json (o, &recs[i]);
                json_object_array_add (arr, o);
        }
        return emit (out, arr);
}

void
vgpu_report_alloc (FILE *out, const vgpu_mdev_t *mdevs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                fprintf (out, "%s\n", mdevs[i].name);
}

int
vgpu_report_alloc_json (FILE *out, const char *owner, const vgpu_mdev_t *mdevs, size_t n)
{
        _cleanup_json_ json_object *o = json_object_new_object ();
        json_object *arr = json_object_new_array ();

        for (size_t i = 0; i < n; i++)
                json_object_array_add (arr, mdev_json (&mdevs[i]));
        json_object_object_add (o, "owner", json_object_new_string (owner));
        json_object_object_add (o, "mdevs", arr);
        if (n == 1) {
                json_object_object_add (o, "uuid", json_object_new_string (mdevs[0].uuid));
                json_object_object_add (o, "backend",
                                        json_object_new_string (vgpu_backend_kind_name (mdevs[0].backend)));
                json_object_object_add (o, "device", json_object_new_string (mdevs[0].name));
                json_object_object_add (o, "parent", json_object_new_string (mdevs[0].parent));
                json_object_object_add (o, "type", json_object_new_string (mdevs[0].type));
                json_object_object_add (o, "iommu_group", json_object_new_int (mdevs[0].group));
        }
        return emit (out, o);
}

size_t
vgpu_report_gc (FILE *out, const vgpu_gc_action_t *acts, size_t n)
{
        size_t failed = 0;

        for (size_t i = 0; i < n; i++) {
                /* a device by its kernel name: an mdev's UUID, a VF's address */
                const char *dev = acts[i].device[0] ? acts[i].device : acts[i].uuid;

                if (acts[i].result == 0 && acts[i].mdev_left)
                        fprintf (out, "left %s (%s)\n", dev, acts[i].reason);
                else if (acts[i].result == 0)
                        fprintf (out, "released %s of %s (%s)\n", dev, acts[i].owner, acts[i].reason);
                else {
                        fprintf (out, "kept %s of %s (%s): %s\n", dev, acts[i].owner, acts[i].reason, acts[i].message);
                        failed++;
                }
        }
        if (n == 0)
                fprintf (out, "nothing to reclaim\n");
        return failed;
}
