/* cdi-name.h — the names of the Container Device Interface, as its reference
 * parser takes them.
 *
 * Here in plugin/, not in cdi/, because two parts write them: vgpu-cdi's
 * specs and the kubelet device plugin's CDI answers (which may not include
 * cdi/): one rule for both, so the plugin never names a kind or device that
 * vgpu-cdi would refuse. */
#pragma once

#include <stdbool.h>

#include "error.h"

#define VGPU_CDI_KIND "intel.com/vgpu"
#define VGPU_CDI_KIND_MAX (253 + 1 + 63) /* DNS subdomain vendor, "/", class label */
#define VGPU_CDI_NAME_MAX 400            /* a mapped type id: up to 3 bytes per byte, "x:" */

/* ASCII only, whatever the locale. */
static inline bool
vgpu_ascii_letter (char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline bool
vgpu_ascii_alnum (char c)
{
        return vgpu_ascii_letter (c) || (c >= '0' && c <= '9');
}

/* VENDOR/CLASS: each starts with a letter, ends with a letter or digit, and
 * has [A-Za-z0-9_.-] between; the class has no '.' (that needs cdiVersion
 * 0.6.0, which podman 4.3.1 rejects). */
int vgpu_cdi_kind_check (const char *kind, vgpu_error_t *err);

/* Device names: [A-Za-z0-9] first and last, [A-Za-z0-9_.:-] between. */
bool vgpu_cdi_name_valid (const char *name);
