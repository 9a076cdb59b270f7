/* cdi-name.c — see cdi-name.h. */
#include "cdi-name.h"

#include <errno.h>
#include <string.h>

/* One half of a kind.  The reference parser indexes name[1:len-1], so a
 * one-byte label would crash it: two bytes at least. */
static int
label_check (const char *what, const char *s, size_t len, size_t max, const char *middle, vgpu_error_t *err)
{
        if (len < 2 || len > max)
                return vgpu_error_set (err, EINVAL, "the %s must be 2 to %zu bytes long", what, max);
        if (!vgpu_ascii_letter (s[0]))
                return vgpu_error_set (err, EINVAL, "the %s must start with a letter", what);
        if (!vgpu_ascii_alnum (s[len - 1]))
                return vgpu_error_set (err, EINVAL, "the %s must end with a letter or digit", what);
        for (size_t i = 1; i < len - 1; i++)
                if (!vgpu_ascii_alnum (s[i]) && !strchr (middle, s[i]))
                        return vgpu_error_set (err, EINVAL, "the %s may hold only letters, digits and \"%s\"", what,
                                               middle);
        return 0;
}

int
vgpu_cdi_kind_check (const char *kind, vgpu_error_t *err)
{
        const char *slash = strchr (kind, '/');
        int r;

        if (!slash || strchr (slash + 1, '/'))
                return vgpu_error_set (err, EINVAL, "not VENDOR/CLASS (as in %s)", VGPU_CDI_KIND);
        r = label_check ("vendor", kind, (size_t) (slash - kind), 253, "_.-", err);
        if (r == 0 && strchr (slash + 1, '.'))
                return vgpu_error_set (err, EINVAL, "the class must not hold '.' (that needs cdiVersion 0.6.0)");
        if (r == 0)
                r = label_check ("class", slash + 1, strlen (slash + 1), 63, "_-", err);
        return r;
}

bool
vgpu_cdi_name_valid (const char *name)
{
        size_t len = strlen (name);

        if (len == 0 || len >= VGPU_CDI_NAME_MAX || !vgpu_ascii_alnum (name[0]) || !vgpu_ascii_alnum (name[len - 1]))
                return false;
        for (size_t i = 1; i + 1 < len; i++)
                if (!vgpu_ascii_alnum (name[i]) && !strchr ("_.:-", name[i]))
                        return false;
        return true;
}
