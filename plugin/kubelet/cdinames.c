/* cdinames.c — see cdinames.h. */
#include "cdinames.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "pci.h"
#include "util.h"

#define SPEC_MAX_BYTES (1u << 20)
#define UUID_ENV "VGPU_MDEV_UUID="
#define VF_ENV "VGPU_VF_ADDRESS="

static void
uuid_of (json_object *dev, char out[VGPU_UUID_LEN + 1])
{
        json_object *edits, *env;

        out[0] = '\0';
        if (!json_object_object_get_ex (dev, "containerEdits", &edits) ||
            !json_object_object_get_ex (edits, "env", &env) || !json_object_is_type (env, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length (env); i++) {
                json_object *e = json_object_array_get_idx (env, i);
                const char *s = json_object_is_type (e, json_type_string) ? json_object_get_string (e) : "";

                if (strncmp (s, UUID_ENV, strlen (UUID_ENV)) == 0 && vgpu_uuid_valid (s + strlen (UUID_ENV)))
                        vgpu_uuid_normalise (s + strlen (UUID_ENV), out, NULL);
                else if (strncmp (s, VF_ENV, strlen (VF_ENV)) == 0 && vgpu_pci_addr_valid (s + strlen (VF_ENV)))
                        vgpu_vf_id (s + strlen (VF_ENV), out); /* a VF's ledger id, by which the spec names it too */
        }
}

static int
add_spec (vgpu_kcdi_t *c, json_object *spec, const char *kind)
{
        json_object *devices;
        const char *k = vgpu_json_str (spec, "kind");

        if (!k || strcmp (k, kind) != 0 || !json_object_object_get_ex (spec, "devices", &devices) ||
            !json_object_is_type (devices, json_type_array))
                return 0;
        for (size_t i = 0; i < json_object_array_length (devices); i++) {
                json_object *d = json_object_array_get_idx (devices, i);
                const char *name = json_object_is_type (d, json_type_object) ? vgpu_json_str (d, "name") : NULL;
                vgpu_kcdi_name_t *n;
                void *p;

                if (!name || strlen (name) >= VGPU_KCDI_NAME_MAX)
                        continue;
                p = realloc (c->v, (c->n + 1) * sizeof *c->v);
                if (!p)
                        return -ENOMEM;
                c->v = p;
                n = &c->v[c->n++];
                vgpu_copy (n->name, sizeof n->name, name);
                uuid_of (d, n->uuid);
        }
        return 0;
}

int
vgpu_kcdi_read (const char *dir, const char *kind, vgpu_kcdi_t *ret, vgpu_error_t *err)
{
        _cleanup_closedir_ DIR *d = opendir (dir);
        vgpu_kcdi_t c = { 0 };
        struct dirent *de;

        if (!d && errno != ENOENT)
                return vgpu_error_sys (err, errno, "CDI directory %s", dir);
        while (d && (de = readdir (d))) {
                _cleanup_json_ json_object *spec = NULL;
                _cleanup_free_ char *text = NULL;
                size_t len = strlen (de->d_name), n = 0;

                if (de->d_name[0] == '.' || len < 6 || strcmp (de->d_name + len - 5, ".json") != 0)
                        continue;
                if (vgpu_read_file_at (dirfd (d), de->d_name, SPEC_MAX_BYTES, &text, &n) < 0 ||
                    vgpu_json_parse (text, n, "CDI spec", &spec, NULL) < 0 ||
                    !json_object_is_type (spec, json_type_object))
                        continue;
                if (add_spec (&c, spec, kind) < 0) {
                        vgpu_kcdi_free (&c);
                        return vgpu_error_set (err, ENOMEM, "out of memory");
                }
        }
        *ret = c;
        return 0;
}

bool
vgpu_kcdi_has (const vgpu_kcdi_t *c, const char *name)
{
        for (size_t i = 0; i < c->n; i++)
                if (strcmp (c->v[i].name, name) == 0)
                        return true;
        return false;
}

void
vgpu_kcdi_free (vgpu_kcdi_t *c)
{
        free (c->v);
        c->v = NULL;
        c->n = 0;
}
