/* gvt.h — Intel GVT-g, the one vendor-specific part of the core.
 *
 * A GVT-g type says what it gives in its `description` attribute
 * ("low_gm_size: 128MB, high_gm_size: 512MB, fence: 4, resolution: 1920x1200,
 * weight: 4"); `auto` chooses by the resolution found there.  A second
 * backend (SR-IOV VFs) gets a sibling of this file. */
#pragma once

#include <stdbool.h>

/* Fields of a GVT-g description ("low_gm_size: 128MB, high_gm_size: 512MB,
 * fence: 4, resolution: 1920x1200, weight: 4", newline- or comma-separated). */
typedef struct vgpu_gvt_desc {
        bool valid;
        unsigned low_gm_mb, high_gm_mb, fence, res_w, res_h, weight;
} vgpu_gvt_desc_t;

/* Parse a GVT-g description: fields separated by ", " or newlines, in any
 * order, weight optional (older kernels lack it); -EINVAL when it has another
 * shape. */
int vgpu_gvt_parse (const char *text, vgpu_gvt_desc_t *ret);
