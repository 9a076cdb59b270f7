/* fuzz-oci-config.c — config.json as precreate reads it from stdin: rootfs,
 * container id, request, and the edit that applies a plan.
 *
 * The edit is checked, not just run: a refused config is left as it was; an
 * accepted one serialises to JSON that parses again, and applying the same
 * plan twice gives the same text (precreate may run after another hook that
 * already made the same edit). */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "fuzz-check.h"
#include "oci.h"
#include "request.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const vgpu_plan_t plan = {
        .nodes = { { "/dev/vfio/vfio", 10, 196, 0666 }, { "/dev/vfio/12", 246, 0, 0666 } },
        .n_nodes = 2,
        .env = { "VGPU_MDEV_UUID=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001", "INTEL_VGPU=i915-GVTg_V5_4" },
        .n_env = 2,
};

static void
read_side (json_object *config)
{
        char path[PATH_MAX], id[VGPU_CONTAINER_ID_MAX + 1];
        vgpu_request_t req;
        vgpu_error_t err = { 0 };

        if (vgpu_oci_config_rootfs (config, "/run/bundle", path, sizeof path, &err) < 0)
                check_message (&err);
        else if (path[0] != '/' || strstr (path, "//") || strstr (path, "/../") || strstr (path, "/./"))
                abort ();
        if (vgpu_oci_config_container_id (config, id, sizeof id, &err) < 0)
                check_message (&err);
        else if (!vgpu_container_id_valid (id))
                abort ();
        if (vgpu_request_parse (NULL, config, NULL, NULL, &req, &err) < 0)
                check_message (&err);
}

static void
edit_side (json_object *config)
{
        _cleanup_json_ json_object *again = NULL;
        vgpu_error_t err = { 0 };
        char *before, *once;
        const char *text;

        before = strdup (vgpu_oci_config_to_string (config));
        if (!before)
                abort ();
        if (vgpu_oci_config_apply (config, &plan, &err) < 0) {
                check_message (&err);
                if (strcmp (before, vgpu_oci_config_to_string (config)) != 0)
                        abort ();
                free (before);
                return;
        }
        once = strdup (vgpu_oci_config_to_string (config));
        if (!once || vgpu_oci_config_parse (once, strlen (once), &again, &err) < 0)
                abort ();
        if (vgpu_oci_config_apply (config, &plan, &err) < 0)
                abort ();
        text = vgpu_oci_config_to_string (config);
        if (strcmp (once, text) != 0)
                abort ();
        free (before);
        free (once);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        _cleanup_json_ json_object *config = NULL;
        vgpu_error_t err = { 0 };

        if (vgpu_oci_config_parse ((const char *) data, size, &config, &err) < 0) {
                check_message (&err);
                return 0;
        }
        read_side (config);
        edit_side (config);
        return 0;
}
