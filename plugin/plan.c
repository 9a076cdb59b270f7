/* plan.c — see plan.h. */
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define ANY (-1)

static int
add_node (vgpu_plan_t *plan, const char *path, unsigned major, unsigned minor, mode_t mode, vgpu_error_t *err)
{
        vgpu_node_t *n;

        for (size_t i = 0; i < plan->n_nodes; i++)
                if (strcmp (plan->nodes[i].path, path) == 0)
                        return 0;
        if (plan->n_nodes == VGPU_PLAN_MAX_NODES)
                return vgpu_error_set (err, E2BIG, "more than %d device nodes", VGPU_PLAN_MAX_NODES);
        n = &plan->nodes[plan->n_nodes++];
        snprintf (n->path, sizeof n->path, "%s", path);
        n->major = major;
        n->minor = minor;
        n->mode = mode;
        return 0;
}

/* "NAME=v1,v2,..." over the devices of one backend (all for `any`), one
 * field picked by `field`; no variable when none is of that backend. */
static int
add_env (vgpu_plan_t *plan, const char *name, const vgpu_mdev_t *mdevs, size_t n, int backend,
         void (*field) (const vgpu_mdev_t *, char *, size_t), vgpu_error_t *err)
{
        char *out = plan->env[plan->n_env];
        size_t len, k = 0;

        if (plan->n_env == VGPU_PLAN_MAX_ENV)
                return vgpu_error_set (err, E2BIG, "more than %d environment variables", VGPU_PLAN_MAX_ENV);
        len = (size_t) snprintf (out, sizeof plan->env[0], "%s=", name);
        for (size_t i = 0; i < n; i++) {
                char v[VGPU_NAME_MAX];

                if (backend != ANY && mdevs[i].backend != (vgpu_backend_kind_t) backend)
                        continue;
                field (&mdevs[i], v, sizeof v);
                len += (size_t) snprintf (out + len, sizeof plan->env[0] - len, "%s%s", k++ ? "," : "", v);
                if (len >= sizeof plan->env[0])
                        return vgpu_error_set (err, E2BIG, "environment variable %s is too long", name);
        }
        if (k)
                plan->n_env++;
        return 0;
}

static void
f_uuid (const vgpu_mdev_t *m, char *b, size_t s)
{
        snprintf (b, s, "%s", m->uuid);
}

static void
f_name (const vgpu_mdev_t *m, char *b, size_t s)
{
        snprintf (b, s, "%s", m->name);
}

static void
f_type (const vgpu_mdev_t *m, char *b, size_t s)
{
        snprintf (b, s, "%s", m->type);
}

static void
f_parent (const vgpu_mdev_t *m, char *b, size_t s)
{
        snprintf (b, s, "%s", m->parent);
}

static void
f_group (const vgpu_mdev_t *m, char *b, size_t s)
{
        snprintf (b, s, "%d", m->group);
}

static bool
any_cdev (const vgpu_mdev_t *mdevs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (mdevs[i].cdev >= 0)
                        return true;
        return false;
}

/* A VFIO cdev is used through iommufd: /dev/iommu, a misc device whose
 * minor is dynamic, so read it like every other number. */
static int
add_iommufd (vgpu_plan_t *plan, const vgpu_roots_t *roots, vgpu_error_t *err)
{
        _cleanup_close_ int root = open (roots->sysfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        char text[64];
        unsigned major, minor;

        if (root < 0)
                return vgpu_error_sys (err, errno, "sysfs root %s", roots->sysfs);
        if (vgpu_read_attr_at (root, "class/misc/iommu/dev", text, sizeof text) < 0)
                return 0; /* no iommufd: the cdev is not usable, the group node is */
        if (vgpu_parse_devnum (text, &major, &minor) < 0)
                return vgpu_error_set (err, EINVAL, "class/misc/iommu/dev holds \"%s\", not MAJOR:MINOR", text);
        return add_node (plan, "/dev/iommu", major, minor, 0666, err);
}

int
vgpu_plan_build (const vgpu_roots_t *roots, const vgpu_mdev_t *mdevs, size_t n, vgpu_plan_t *ret, vgpu_error_t *err)
{
        static const struct {
                const char *name;
                int backend; /* the devices it lists: of one backend, or ANY */
                void (*field) (const vgpu_mdev_t *, char *, size_t);
        } env[] = {
                { "VGPU_MDEV_UUID", VGPU_BACKEND_MDEV, f_uuid },
                { "VGPU_MDEV_TYPE", VGPU_BACKEND_MDEV, f_type },
                { "VGPU_MDEV_PARENT", VGPU_BACKEND_MDEV, f_parent },
                { "VGPU_VF_ADDRESS", VGPU_BACKEND_VF, f_name },
                { "VGPU_VF_PF", VGPU_BACKEND_VF, f_parent },
                { "VGPU_IOMMU_GROUP", ANY, f_group },
                /* KubeVirt's launcher builds the libvirt hostdev from these names: an mdev's
                 * UUID, a PCI device's address */
                { "MDEV_PCI_RESOURCE_INTEL_COM_VGPU", VGPU_BACKEND_MDEV, f_uuid },
                { "PCI_RESOURCE_INTEL_COM_VGPU", VGPU_BACKEND_VF, f_name },
        };
        int r;

        /* built in place, no copy: only what is filled is touched (a plan is 12 KiB) */
        ret->n_nodes = ret->n_env = 0;
        if (n == 0)
                return vgpu_error_set (err, EINVAL, "a plan needs at least one mdev");
        r = add_node (ret, VGPU_VFIO_CONTAINER_PATH, VGPU_VFIO_CONTAINER_MAJOR, VGPU_VFIO_CONTAINER_MINOR, 0666, err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                char path[64];

                if (mdevs[i].group < 0) {
                        r = vgpu_error_set (err, ENODEV, "%s %s has no IOMMU group",
                                            mdevs[i].backend == VGPU_BACKEND_VF ? "VF" : "mdev", mdevs[i].name);
                        break;
                }
                snprintf (path, sizeof path, "/dev/vfio/%d", mdevs[i].group);
                r = add_node (ret, path, mdevs[i].group_major, mdevs[i].group_minor, 0666, err);
                if (r == 0 && mdevs[i].cdev >= 0) {
                        snprintf (path, sizeof path, "/dev/vfio/devices/vfio%d", mdevs[i].cdev);
                        r = add_node (ret, path, mdevs[i].cdev_major, mdevs[i].cdev_minor, 0666, err);
                }
        }
        if (r == 0 && any_cdev (mdevs, n))
                r = add_iommufd (ret, roots, err);
        for (size_t i = 0; r == 0 && i < ARRAY_SIZE (env); i++)
                r = add_env (ret, env[i].name, mdevs, n, env[i].backend, env[i].field, err);
        if (r < 0)
                ret->n_nodes = ret->n_env = 0;
        return r;
}

void
vgpu_plan_vfio_container (vgpu_plan_t *ret)
{
        *ret = (vgpu_plan_t) { 0 };
        add_node (ret, VGPU_VFIO_CONTAINER_PATH, VGPU_VFIO_CONTAINER_MAJOR, VGPU_VFIO_CONTAINER_MINOR, 0666, NULL);
}
