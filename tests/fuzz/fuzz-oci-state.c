/* fuzz-oci-state.c — the OCI state a runtime writes to a hook's stdin, and
 * the vGPU request read from its annotations.
 *
 * Beyond "no crash, no leak, no UB": what the parser accepts must hold up
 * (a valid container id, an absolute normal bundle, a pid in range) and an
 * error must be one printable line. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-check.h"
#include "oci.h"
#include "request.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_state (const vgpu_oci_state_t *s)
{
        if (!vgpu_container_id_valid (s->id) || s->pid < 0)
                abort ();
        if (s->bundle[0] != '\0' && (s->bundle[0] != '/' || strstr (s->bundle, "//") || strstr (s->bundle, "/../") ||
                                     strstr (s->bundle, "/./")))
                abort ();
        if (s->annotations && !json_object_is_type (s->annotations, json_type_object))
                abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        vgpu_oci_state_t s;
        vgpu_request_t req;
        vgpu_error_t err = { 0 };

        if (vgpu_oci_state_parse ((const char *) data, size, &s, &err) < 0) {
                check_message (&err);
                return 0;
        }
        check_state (&s);
        if (vgpu_request_parse (s.annotations, NULL, NULL, NULL, &req, &err) < 0)
                check_message (&err);
        else if (req.wanted && (!req.source || strchr (req.type, '/') || strchr (req.parent, '/') ||
                                (req.min_w == 0) != (req.min_h == 0)))
                abort ();
        vgpu_oci_state_done (&s);
        return 0;
}
