/* options.h — what vgpu-device-plugin is told to do, and its checks.
 *
 * Defaults, then the config file (a JSON object whose keys are the flag
 * names, /etc/vgpu-toolkit/device-plugin.json), then the flags; one setter
 * takes both, so a key means the same in either place.  The three roots
 * come as every binary takes them (roots.h: flags and environment).  Owns the rules the
 * kubelet and CDI apply to the names it is given (the extended resource
 * name, VENDOR/CLASS, a device name), the socket name
 * vgpu-toolkit-<resource with / and . as ->.sock, and the one line per event
 * the daemon logs (vgpu_klog: library code hands lines to main, which
 * prints them). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "mdev.h"
#include "roots.h"

#define VGPU_KUBELET_DIR "/var/lib/kubelet/device-plugins"
#define VGPU_KUBELET_SOCKET "kubelet.sock"
#define VGPU_KUBELET_API "v1beta1"
#define VGPU_KUBELET_CONFIG "/etc/vgpu-toolkit/device-plugin.json"
#define VGPU_KUBELET_RESOURCE "intel.com/vgpu"
#define VGPU_KUBELET_CDI_KIND "intel.com/vgpu"
#define VGPU_KUBELET_CDI_DIR "/var/run/cdi"
#define VGPU_KUBELET_MDEVCTL_DIR "/etc/mdevctl.d"
#define VGPU_KUBELET_SCAN_MS 1000
#define VGPU_KUBELET_RESOURCE_MAX (253 + 1 + 63) /* DNS subdomain, "/", name */
#define VGPU_KUBELET_ID_MAX 63                   /* the kubelet's limit on a device id */
#define VGPU_KUBELET_POOL_MAX 64                 /* mdevs per GPU */
#define VGPU_KUBELET_POOL_FILL (-1)              /* pool-size "all": what each GPU holds */
#define VGPU_KUBELET_SUN_PATH 108                /* sizeof sockaddr_un.sun_path */

typedef enum vgpu_kmode {
        VGPU_KMODE_DYNAMIC, /* a device per instance a GPU holds; Allocate answers the CDI dynamic device */
        VGPU_KMODE_POOL,    /* a device per pre-made mdev, its UUID the id */
} vgpu_kmode_t;

typedef struct vgpu_kopts {
        vgpu_roots_t roots;
        char plugin_dir[PATH_MAX];
        vgpu_kmode_t mode;
        char type[VGPU_NAME_MAX]; /* a type id or "auto" (resolved per GPU when first seen) */
        char resource[VGPU_KUBELET_RESOURCE_MAX + 1];
        char cdi_kind[VGPU_KUBELET_RESOURCE_MAX + 1];
        char cdi_dir[PATH_MAX];     /* the CDI specs the runtime reads */
        char mdevctl_dir[PATH_MAX]; /* mdevctl's persistent definitions (pool --adopt) */
        int pool_size;              /* mdevs the plugin makes per GPU; VGPU_KUBELET_POOL_FILL */
        bool pool_size_set;
        bool adopt; /* pool: also offer the mdevs of vgpu-cdi pool specs and mdevctl definitions */
        unsigned scan_ms;
} vgpu_kopts_t;

/* Defaults, the roots from the environment. */
int vgpu_kopts_init (vgpu_kopts_t *o, vgpu_error_t *err);

/* One setting by its flag name without "--" ("mode", "pool-size", ...),
 * from a flag or the config file; -EINVAL naming key and value. */
int vgpu_kopts_set (vgpu_kopts_t *o, const char *key, const char *value, vgpu_error_t *err);

/* The config file: a JSON object of flag names to strings, numbers or
 * booleans; unknown keys are errors.  An absent file is -ENOENT. */
int vgpu_kopts_load (vgpu_kopts_t *o, const char *path, vgpu_error_t *err);

/* What the settings mean together (after the file and the flags). */
int vgpu_kopts_check (vgpu_kopts_t *o, vgpu_error_t *err);

/* An extended resource name the kubelet registers: DOMAIN/NAME, the domain
 * a DNS subdomain outside kubernetes.io, the name a qualified-name part. */
bool vgpu_kubelet_resource_valid (const char *name);

/* A CDI kind vgpu-cdi takes (vgpu_cdi_kind_check, cdi-name.h). */
bool vgpu_kubelet_cdi_kind_valid (const char *kind);

/* A type id vgpu-cdi uses as a CDI device name unmapped: a valid name
 * (cdi-name.h) without ':', as a type id no longer than VGPU_NAME_MAX - 1
 * (vgpu-cdi maps ':' and other bytes). */
bool vgpu_kubelet_cdi_name_plain (const char *name);

/* "vgpu-toolkit-<resource with / and . as ->.sock" */
int vgpu_kubelet_socket_name (const char *resource, char *ret, size_t size);

const char *vgpu_kmode_name (vgpu_kmode_t mode);

/* One log line per event: the daemon's library calls hand each line (no
 * newline) to line(); main prints it. */
typedef struct vgpu_klog {
        void (*line) (void *data, const char *text);
        void *data;
} vgpu_klog_t;

void vgpu_klog (const vgpu_klog_t *log, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
