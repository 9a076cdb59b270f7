/* pci.c — see pci.h. */
#include "pci.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

#include "json.h"
#include "vfio.h"

/* vgpu-toolkit's namespace for VF ids (a random UUID, fixed for good: a new
 * one would orphan every VF record on a host being upgraded). */
#define VF_NAMESPACE "048b51cf-fb3f-40ea-b315-5479083d0aeb"

bool
vgpu_pci_addr_valid (const char *s)
{
        static const char shape[] = "xxxx:xx:xx.x";
        unsigned dev, fn;

        if (strlen (s) != VGPU_PCI_ADDR_LEN)
                return false;
        for (size_t i = 0; shape[i]; i++)
                if (shape[i] == 'x' ? !isxdigit ((unsigned char) s[i]) || isupper ((unsigned char) s[i])
                                    : s[i] != shape[i])
                        return false;
        return sscanf (s + 8, "%2x.%1x", &dev, &fn) == 2 && dev <= 0x1f && fn <= 7;
}

int
vgpu_pci_addr_normalise (const char *in, const char *what, char out[VGPU_PCI_ADDR_LEN + 1], vgpu_error_t *err)
{
        char q[VGPU_QUOTE_BUF], buf[VGPU_PCI_ADDR_LEN + 1];
        size_t len = strlen (in);

        if (len == VGPU_PCI_ADDR_LEN) {
                for (size_t i = 0; i <= len; i++)
                        buf[i] = (char) tolower ((unsigned char) in[i]);
                if (vgpu_pci_addr_valid (buf)) {
                        memcpy (out, buf, sizeof buf);
                        return 0;
                }
        }
        return vgpu_error_set (err, EINVAL, "%s \"%s\" is not a PCI address (DDDD:BB:DD.F)", what,
                               vgpu_quote (in, len, q));
}

void
vgpu_vf_id (const char *addr, char out[VGPU_UUID_LEN + 1])
{
        uuid_t ns, id;

        uuid_parse (VF_NAMESPACE, ns);
        uuid_generate_sha1 (id, ns, addr, strlen (addr));
        uuid_unparse_lower (id, out);
}

int
vgpu_pci_open (int root, const char *addr)
{
        char path[VGPU_NAME_MAX + 32];

        snprintf (path, sizeof path, "bus/pci/devices/%s", addr);
        return openat (root, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

void
vgpu_pci_driver (int devfd, char buf[VGPU_NAME_MAX])
{
        if (vgpu_sysfs_link_name (devfd, "driver", 0, buf, VGPU_NAME_MAX) < 0)
                buf[0] = '\0';
}
