/* libvirt.c — see libvirt.h. */
#include "libvirt.h"

#include <errno.h>

static void
hostdev (FILE *out, const vgpu_libvirt_opts_t *o, const char *indent)
{
        fprintf (out,
                 "%s<hostdev mode=\"subsystem\" type=\"mdev\" managed=\"no\" model=\"vfio-pci\" display=\"%s\" "
                 "ramfb=\"%s\">\n"
                 "%s  <source>\n"
                 "%s    <address uuid=\"%s\"/>\n"
                 "%s  </source>\n"
                 "%s</hostdev>\n",
                 indent, o->display ? "on" : "off", o->ramfb ? "on" : "off", indent, indent, o->uuid, indent, indent);
}

int
vgpu_libvirt_xml (FILE *out, const vgpu_libvirt_opts_t *o, vgpu_error_t *err)
{
        if (!vgpu_uuid_valid (o->uuid))
                return vgpu_error_set (err, EINVAL, "\"%.64s\" is not a UUID", o->uuid);
        if (o->ramfb && !o->display)
                return vgpu_error_set (err, EINVAL, "ramfb on needs display on (libvirt refuses it otherwise)");
        if (!o->domain) {
                hostdev (out, o, "");
                return 0;
        }
        fprintf (out,
                 "<domain type=\"kvm\">\n"
                 "  <name>vgpu-%s</name>\n"
                 "  <memory unit=\"MiB\">2048</memory>\n"
                 "  <vcpu>2</vcpu>\n"
                 "  <os>\n"
                 "    <type arch=\"x86_64\" machine=\"q35\">hvm</type>\n"
                 "  </os>\n"
                 "  <devices>\n",
                 o->uuid);
        hostdev (out, o, "    ");
        if (o->display)
                fprintf (out, "    <graphics type=\"vnc\" autoport=\"yes\"/>\n");
        fprintf (out, "    <video>\n"
                      "      <model type=\"none\"/>\n"
                      "    </video>\n"
                      "  </devices>\n"
                      "</domain>\n");
        return 0;
}
