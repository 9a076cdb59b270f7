/* fuzz-gvt-desc.c — a type's GVT-g description as sysfs shows it (or as a
 * fake parent could): vgpu_gvt_parse().
 *
 * Input: the description's bytes up to the first NUL, as mdev.c reads it.
 * Beyond "no crash, no UB": a refused text leaves ret untouched; an accepted
 * one has every required field and values in range, and the canonical text
 * of what was parsed (newline- and comma-separated alike) parses again to
 * the same fields. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gvt.h"

#define FIELD_MAX (1u << 20)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static bool
same (const vgpu_gvt_desc_t *a, const vgpu_gvt_desc_t *b)
{
        return a->valid == b->valid && a->low_gm_mb == b->low_gm_mb && a->high_gm_mb == b->high_gm_mb &&
               a->fence == b->fence && a->res_w == b->res_w && a->res_h == b->res_h && a->weight == b->weight;
}

/* i915's layout; weight only when there was one (0 reads as "absent"). */
static void
format (const vgpu_gvt_desc_t *d, const char *sep, char *buf, size_t size)
{
        int n = snprintf (buf, size, "low_gm_size: %uMB%shigh_gm_size: %uMB%sfence: %u%sresolution: %ux%u",
                          d->low_gm_mb, sep, d->high_gm_mb, sep, d->fence, sep, d->res_w, d->res_h);

        if (d->weight && n > 0 && (size_t) n < size)
                snprintf (buf + n, size - (size_t) n, "%sweight: %u", sep, d->weight);
}

static void
round_trip (const vgpu_gvt_desc_t *d, const char *sep)
{
        vgpu_gvt_desc_t again = { 0 };
        char text[512];

        format (d, sep, text, sizeof text);
        if (vgpu_gvt_parse (text, &again) != 0 || !same (d, &again))
                abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
        static const vgpu_gvt_desc_t poison = { false, 0xdead, 0xdead, 0xdead, 0xdead, 0xdead, 0xdead };
        vgpu_gvt_desc_t d = poison, twice = poison;
        char *text = malloc (size + 1);
        int r;

        if (!text)
                return 0;
        memcpy (text, data, size);
        text[size] = '\0';
        r = vgpu_gvt_parse (text, &d);
        if (r != vgpu_gvt_parse (text, &twice) || !same (&d, &twice))
                abort ();
        if (r < 0) {
                if (r != -EINVAL || !same (&d, &poison))
                        abort ();
                free (text);
                return 0;
        }
        if (r != 0 || !d.valid || d.low_gm_mb > FIELD_MAX || d.high_gm_mb > FIELD_MAX || d.fence > FIELD_MAX ||
            d.res_w > FIELD_MAX || d.res_h > FIELD_MAX || d.weight > FIELD_MAX)
                abort ();
        round_trip (&d, "\n");
        round_trip (&d, ", ");
        free (text);
        return 0;
}
