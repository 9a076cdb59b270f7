/* mdevctl.h — persistent mdevs in mdevctl's own definition format.
 *
 * A definition is <dir>/<parent>/<uuid> (dir /etc/mdevctl.d) holding
 * {"mdev_type": T, "start": "auto"|"manual", "attrs": []}, byte for byte
 * what `mdevctl define` (1.2.0) writes, so `mdevctl list -d` shows it and
 * mdevctl's udev rule starts the auto ones when their parent registers at
 * boot.  Defining never creates or removes an mdev. */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "mdev.h"
#include "roots.h"

#define VGPU_MDEVCTL_DIR "/etc/mdevctl.d"

/* The file's text; free() it (NULL when out of memory). */
char *vgpu_mdevctl_definition (const char *type, bool autostart);

/* Write <dir>/<parent>/<uuid> atomically (mode 0644), making dir and
 * dir/parent when missing.  parent, uuid and type are validated. */
int vgpu_mdevctl_define (const char *dir, const char *parent, const char *uuid, const char *type, bool autostart,
                         vgpu_error_t *err);

/* The definition of uuid under any parent: its parent (VGPU_NAME_MAX) and
 * type (VGPU_NAME_MAX), either may be NULL; -ENOENT when there is none. */
int vgpu_mdevctl_find (const char *dir, const char *uuid, char *ret_parent, char *ret_type, vgpu_error_t *err);

/* Remove the definition of uuid (under parent, or whichever parent holds it
 * when parent is NULL) and the parent directory once empty; -ENOENT with
 * the sentence in err when there is none. */
int vgpu_mdevctl_undefine (const char *dir, const char *parent, const char *uuid, vgpu_error_t *err);

/* `vgpuctl define`: the definition of mdev uuid.  An active mdev's parent
 * and type come from sysfs (parent and type, when not NULL, must agree); an
 * inactive one needs both.  A definition of uuid with another parent or
 * type is refused (EEXIST); the same one is written again (autostart may
 * change). */
int vgpu_mdevctl_define_mdev (const vgpu_roots_t *roots, const char *dir, const char *uuid, const char *parent,
                              const char *type, bool autostart, vgpu_error_t *err);
