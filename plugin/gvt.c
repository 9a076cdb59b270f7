/* gvt.c — see gvt.h. */
#include "gvt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* Strict decimal with an optional unit suffix ("128MB"). */
static int
number (const char *val, const char *suffix, unsigned *ret)
{
        char digits[16];
        size_t len = strlen (val), slen = strlen (suffix);
        unsigned long long v;

        if (len <= slen || len - slen >= sizeof digits || strcmp (val + len - slen, suffix) != 0)
                return -EINVAL;
        memcpy (digits, val, len - slen);
        digits[len - slen] = '\0';
        if (vgpu_parse_uint (digits, 1u << 20, &v) < 0)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

/* One "key: value" field into d; returns its bit or -EINVAL. */
static int
gvt_field (const char *key, const char *val, vgpu_gvt_desc_t *d)
{
        if (strcmp (key, "low_gm_size") == 0)
                return number (val, "MB", &d->low_gm_mb) == 0 ? 1 : -EINVAL;
        if (strcmp (key, "high_gm_size") == 0)
                return number (val, "MB", &d->high_gm_mb) == 0 ? 2 : -EINVAL;
        if (strcmp (key, "fence") == 0)
                return number (val, "", &d->fence) == 0 ? 4 : -EINVAL;
        if (strcmp (key, "resolution") == 0)
                return vgpu_parse_resolution (val, &d->res_w, &d->res_h) == 0 ? 8 : -EINVAL;
        if (strcmp (key, "weight") == 0)
                return number (val, "", &d->weight) == 0 ? 16 : -EINVAL;
        return -EINVAL;
}

/* "low_gm_size: 128MB, high_gm_size: 512MB, fence: 4, resolution: 1920x1200,
 * weight: 4", with ", " or newlines between fields, in any order; weight
 * is optional (older kernels lack it). */
int
vgpu_gvt_parse (const char *text, vgpu_gvt_desc_t *ret)
{
        vgpu_gvt_desc_t d = { 0 };
        int seen = 0;
        const char *p = text;

        while (*p) {
                char key[32], val[32], extra;
                const char *end = p + strcspn (p, ",\n");
                char field[96];
                size_t len = (size_t) (end - p);
                int bit;

                if (len >= sizeof field)
                        return -EINVAL;
                memcpy (field, p, len);
                field[len] = '\0';
                p = *end ? end + 1 : end;
                while (*p == ' ')
                        p++;
                if (sscanf (field, " %31[a-z_]: %31s %c", key, val, &extra) != 2)
                        return -EINVAL;
                bit = gvt_field (key, val, &d);
                if (bit < 0 || (seen & bit))
                        return -EINVAL;
                seen |= bit;
        }
        if ((seen & 0xf) != 0xf)
                return -EINVAL;
        d.valid = true;
        *ret = d;
        return 0;
}
