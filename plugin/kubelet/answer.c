/* answer.c — see answer.h. */
#include "answer.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "device.h"
#include "host.h"
#include "util.h"

#define KUBEVIRT_ENV "MDEV_PCI_RESOURCE_"
#define KUBEVIRT_PCI_ENV "PCI_RESOURCE_"

static int
find (const vgpu_kopts_t *o, const vgpu_kdevs_t *devs, const char *id, const vgpu_kdev_t **ret, vgpu_error_t *err)
{
        const vgpu_kdev_t *d = vgpu_kdevs_find (devs, id);

        if (!d)
                return vgpu_error_set (err, EINVAL, "device \"%.64s\" is not one %s offers", id, o->resource);
        if (!d->healthy)
                return vgpu_error_set (err, ENODEV, "device %s is Unhealthy: %s", id, d->why);
        *ret = d;
        return 0;
}

static int
allocate_dynamic (const vgpu_kopts_t *o, const vgpu_kdevs_t *devs, const char *const *ids, size_t n,
                  vgpu_kanswer_t *ret, vgpu_error_t *err)
{
        const vgpu_kdev_t *d;
        int r;

        if (n != 1)
                return vgpu_error_set (err, EINVAL,
                                       "%zu devices for one container: dynamic mode gives a container one vGPU "
                                       "(the hook makes one mdev); ask for 1 %s, or run the plugin in pool mode",
                                       n, o->resource);
        r = find (o, devs, ids[0], &d, err);
        if (r < 0)
                return r;
        if (!d->cdi)
                return vgpu_error_set (err, ENOENT,
                                       "no CDI spec in %s names %s=%s, so the runtime could not resolve it: run "
                                       "`vgpu-cdi generate` (its systemd unit does at boot)",
                                       o->cdi_dir, o->cdi_kind, d->type);
        snprintf (ret->cdi[ret->n_cdi++], sizeof ret->cdi[0], "%s=%s", o->cdi_kind, d->type);
        return 0;
}

/* KubeVirt's name for the resource after prefix: upper case, '/' and '.' as '_'. */
static void
kubevirt_env (const char *prefix, const char *resource, char *buf, size_t size)
{
        size_t n = (size_t) snprintf (buf, size, "%s%s", prefix, resource);

        for (char *p = buf + strlen (prefix); p < buf + n && p < buf + size; p++)
                *p = *p == '/' || *p == '.' ? '_' : (char) toupper ((unsigned char) *p);
}

/* The plan's env, its KubeVirt variables renamed for the resource served:
 * MDEV_PCI_RESOURCE_* names mdevs, PCI_RESOURCE_* PCI devices (VFs). */
static void
take_env (const vgpu_kopts_t *o, const vgpu_plan_t *plan, vgpu_kanswer_t *ret)
{
        static const char *const prefixes[] = { KUBEVIRT_ENV, KUBEVIRT_PCI_ENV };

        for (size_t i = 0; i < plan->n_env; i++) {
                const char *e = plan->env[i], *eq = strchr (e, '=');
                size_t k;

                for (k = 0; k < ARRAY_SIZE (prefixes) && strncmp (e, prefixes[k], strlen (prefixes[k])) != 0; k++)
                        ;
                if (k < ARRAY_SIZE (prefixes) && eq) {
                        char name[VGPU_KUBELET_RESOURCE_MAX + 32];

                        kubevirt_env (prefixes[k], o->resource, name, sizeof name);
                        snprintf (ret->env[ret->n_env++], sizeof ret->env[0], "%s%s", name, eq);
                } else
                        vgpu_copy (ret->env[ret->n_env++], sizeof ret->env[0], e);
        }
}

/* The runtime makes the container's node from the host's: it must be there
 * with the numbers sysfs gives, or the container fails later, further from
 * the reason. */
static int
node_check (const char *host_path, const vgpu_node_t *n, vgpu_error_t *err)
{
        struct stat st;

        if (stat (host_path, &st) < 0)
                return vgpu_error_sys (err, errno, "device node %s", host_path);
        if (!S_ISCHR (st.st_mode) || major (st.st_rdev) != n->major || minor (st.st_rdev) != n->minor)
                return vgpu_error_set (err, ENODEV, "device node %s is not the char device %u:%u that sysfs names",
                                       host_path, n->major, n->minor);
        return 0;
}

static int
allocate_pool (const vgpu_kopts_t *o, const vgpu_kdevs_t *devs, const char *const *ids, size_t n, vgpu_kanswer_t *ret,
               vgpu_error_t *err)
{
        vgpu_mdev_t mdevs[VGPU_ALLOC_MAX];
        vgpu_plan_t plan;
        int r;

        if (n == 0 || n > VGPU_ALLOC_MAX)
                return vgpu_error_set (err, EINVAL, "%zu devices for one container: from 1 to %d", n, VGPU_ALLOC_MAX);
        for (size_t i = 0; i < n; i++) {
                const vgpu_kdev_t *d;

                for (size_t j = 0; j < i; j++)
                        if (strcmp (ids[i], ids[j]) == 0)
                                return vgpu_error_set (err, EINVAL, "device %.64s is asked for twice", ids[i]);
                r = find (o, devs, ids[i], &d, err);
                if (r == 0 && vgpu_device_lookup (&o->roots, d->backend, d->name, &mdevs[i], err) < 0) {
                        char what[VGPU_DEVICE_DISPLAY_MAX];

                        r = vgpu_error_set (err, ENODEV, "device %s: %s is gone", d->id,
                                            vgpu_device_display (d->backend, d->name, what));
                }
                if (r < 0)
                        return r;
                if (d->cdi)
                        snprintf (ret->cdi[ret->n_cdi++], sizeof ret->cdi[0], "%s=%s", o->cdi_kind, d->uuid);
        }
        r = vgpu_plan_build (&o->roots, mdevs, n, &plan, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < plan.n_nodes; i++) {
                vgpu_kspec_t *s = &ret->devices[ret->n_devices++];

                /* plan paths are the container's, all under /dev; on the host they hang off the dev root */
                vgpu_copy (s->container_path, sizeof s->container_path, plan.nodes[i].path);
                snprintf (s->host_path, sizeof s->host_path, "%s%s", o->roots.dev,
                          plan.nodes[i].path + strlen ("/dev"));
                r = node_check (s->host_path, &plan.nodes[i], err);
                if (r < 0)
                        return r;
        }
        take_env (o, &plan, ret);
        return 0;
}

int
vgpu_kanswer_allocate (const vgpu_kopts_t *o, const vgpu_kdevs_t *devs, const char *const *ids, size_t n,
                       vgpu_kanswer_t *ret, vgpu_error_t *err)
{
        memset (ret, 0, sizeof *ret);
        if (o->mode == VGPU_KMODE_DYNAMIC)
                return allocate_dynamic (o, devs, ids, n, ret, err);
        return allocate_pool (o, devs, ids, n, ret, err);
}

static const char *
gpu_of (const vgpu_kdevs_t *devs, const char *id)
{
        const vgpu_kdev_t *d = vgpu_kdevs_find (devs, id);

        return d ? d->parent : "";
}

/* How many of ids (n, skipping taken ones) sit on gpu. */
static size_t
count_on (const vgpu_kdevs_t *devs, const char *gpu, const char *const *ids, size_t n, const bool *taken)
{
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                if ((!taken || !taken[i]) && strcmp (gpu_of (devs, ids[i]), gpu) == 0)
                        k++;
        return k;
}

int
vgpu_kanswer_prefer (const vgpu_kdevs_t *devs, const char *const *avail, size_t n_avail, const char *const *must,
                     size_t n_must, size_t size, const char **ret, size_t *ret_n, vgpu_error_t *err)
{
        _cleanup_free_ bool *taken = calloc (n_avail + 1, sizeof *taken);
        size_t n = 0;

        if (!taken)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n_must && n < size; i++)
                ret[n++] = must[i];
        for (size_t i = 0; i < n_avail; i++)
                for (size_t j = 0; j < n_must; j++)
                        taken[i] |= strcmp (avail[i], must[j]) == 0;
        while (n < size) {
                size_t best = n_avail, best_given = 0, best_left = 0;

                for (size_t i = 0; i < n_avail; i++) {
                        const char *gpu = gpu_of (devs, avail[i]);
                        size_t given, left;

                        if (taken[i])
                                continue;
                        given = count_on (devs, gpu, ret, n, NULL);
                        left = count_on (devs, gpu, avail, n_avail, taken);
                        if (best == n_avail || given < best_given || (given == best_given && left > best_left) ||
                            (given == best_given && left == best_left && strcmp (avail[i], avail[best]) < 0)) {
                                best = i;
                                best_given = given;
                                best_left = left;
                        }
                }
                if (best == n_avail)
                        break;
                taken[best] = true;
                ret[n++] = avail[best];
        }
        *ret_n = n;
        return 0;
}
