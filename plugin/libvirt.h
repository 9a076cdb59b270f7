/* libvirt.h — the libvirt XML that gives a VM an mdev (the seed's last step).
 *
 * The <hostdev> of a mediated device as the seed wrote it:
 *   <hostdev mode="subsystem" type="mdev" managed="no" model="vfio-pci"
 *            display="on" ramfb="on"><source><address uuid="U"/></source></hostdev>
 * managed="no": libvirt neither makes nor removes the mdev (vgpuctl allocate,
 * or mdevctl from a vgpuctl definition, does).  With the domain, a minimal
 * <domain> around it whose <video> model is "none" (the vGPU is the guest's
 * display, as the seed configured it) and, with display on, a VNC server to
 * show it.  Every value is fixed text or a validated UUID: nothing needs
 * escaping. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "mdev.h"

typedef struct vgpu_libvirt_opts {
        char uuid[VGPU_UUID_LEN + 1]; /* lowercase */
        bool display;                 /* the mdev's display is the guest's (GVT-g: yes) */
        bool ramfb;                   /* boot display on a ramfb until the guest driver loads; needs display */
        bool domain;                  /* a whole <domain>, not only the <hostdev> */
} vgpu_libvirt_opts_t;

/* Print the XML; -EINVAL (ramfb without display, or not a UUID). */
int vgpu_libvirt_xml (FILE *out, const vgpu_libvirt_opts_t *o, vgpu_error_t *err);
