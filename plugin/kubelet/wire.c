/* wire.c — see wire.h. */
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "deviceplugin.pb-c.h"
#include "util.h"

enum { REQ_ALLOCATE, REQ_PREFERRED };

static int
pack (const ProtobufCMessage *m, uint8_t **ret, size_t *ret_len)
{
        size_t len = protobuf_c_message_get_packed_size (m);
        uint8_t *buf = malloc (len ? len : 1);

        if (!buf)
                return -ENOMEM;
        *ret_len = protobuf_c_message_pack (m, buf);
        *ret = buf;
        return 0;
}

/* The container slots of request r, whose message unpacked or not (msg
 * NULL); on failure r is freed. */
static int
containers (vgpu_kreq_t *r, size_t n, const char *what, vgpu_error_t *err)
{
        if (!r->msg)
                return vgpu_error_set (err, EINVAL, "%s does not unpack", what);
        r->n = n;
        r->c = calloc (n + 1, sizeof *r->c);
        if (!r->c) {
                vgpu_kreq_free (r);
                return vgpu_error_set (err, ENOMEM, "out of memory");
        }
        return 0;
}

int
vgpu_wire_allocate_request (const uint8_t *buf, size_t len, vgpu_kreq_t *ret, vgpu_error_t *err)
{
        V1beta1__AllocateRequest *m = v1beta1__allocate_request__unpack (NULL, len, buf);
        vgpu_kreq_t r = { .msg = m, .kind = REQ_ALLOCATE };
        int rc = containers (&r, m ? m->n_container_requests : 0, "AllocateRequest", err);

        if (rc < 0)
                return rc;
        for (size_t i = 0; i < r.n; i++) {
                r.c[i].ids = (const char *const *) m->container_requests[i]->devices_ids;
                r.c[i].n_ids = m->container_requests[i]->n_devices_ids;
        }
        *ret = r;
        return 0;
}

int
vgpu_wire_preferred_request (const uint8_t *buf, size_t len, vgpu_kreq_t *ret, vgpu_error_t *err)
{
        V1beta1__PreferredAllocationRequest *m = v1beta1__preferred_allocation_request__unpack (NULL, len, buf);
        vgpu_kreq_t r = { .msg = m, .kind = REQ_PREFERRED };
        int rc = containers (&r, m ? m->n_container_requests : 0, "PreferredAllocationRequest", err);

        if (rc < 0)
                return rc;
        for (size_t i = 0; i < r.n; i++) {
                const V1beta1__ContainerPreferredAllocationRequest *c = m->container_requests[i];

                if (c->allocation_size < 0) {
                        vgpu_kreq_free (&r);
                        return vgpu_error_set (err, EINVAL, "allocation_size %d is negative", c->allocation_size);
                }
                r.c[i].ids = (const char *const *) c->available_deviceids;
                r.c[i].n_ids = c->n_available_deviceids;
                r.c[i].must = (const char *const *) c->must_include_deviceids;
                r.c[i].n_must = c->n_must_include_deviceids;
                r.c[i].size = (size_t) c->allocation_size;
        }
        *ret = r;
        return 0;
}

void
vgpu_kreq_free (vgpu_kreq_t *r)
{
        if (r->msg && r->kind == REQ_ALLOCATE)
                v1beta1__allocate_request__free_unpacked (r->msg, NULL);
        else if (r->msg)
                v1beta1__preferred_allocation_request__free_unpacked (r->msg, NULL);
        free (r->c);
        memset (r, 0, sizeof *r);
}

int
vgpu_wire_options (uint8_t **ret, size_t *ret_len)
{
        V1beta1__DevicePluginOptions m = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;

        m.get_preferred_allocation_available = 1;
        return pack (&m.base, ret, ret_len);
}

int
vgpu_wire_register (const char *endpoint, const char *resource, uint8_t **ret, size_t *ret_len)
{
        V1beta1__RegisterRequest m = V1BETA1__REGISTER_REQUEST__INIT;
        V1beta1__DevicePluginOptions opts = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;

        opts.get_preferred_allocation_available = 1;
        m.version = (char *) VGPU_KUBELET_API;
        m.endpoint = (char *) endpoint;
        m.resource_name = (char *) resource;
        m.options = &opts;
        return pack (&m.base, ret, ret_len);
}

int
vgpu_wire_list (const vgpu_kdevs_t *devs, uint8_t **ret, size_t *ret_len)
{
        V1beta1__ListAndWatchResponse m = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
        _cleanup_free_ V1beta1__Device *d = calloc (devs->n + 1, sizeof *d);
        _cleanup_free_ V1beta1__Device **dp = calloc (devs->n + 1, sizeof *dp);

        if (!d || !dp)
                return -ENOMEM;
        for (size_t i = 0; i < devs->n; i++) {
                d[i] = (V1beta1__Device) V1BETA1__DEVICE__INIT;
                d[i].id = (char *) devs->v[i].id;
                d[i].health = (char *) (devs->v[i].healthy ? "Healthy" : "Unhealthy");
                dp[i] = &d[i];
        }
        m.n_devices = devs->n;
        m.devices = dp;
        return pack (&m.base, ret, ret_len);
}

/* One container's answer, everything it points at inside it. */
typedef struct container {
        V1beta1__ContainerAllocateResponse r;
        V1beta1__ContainerAllocateResponse__EnvsEntry env[VGPU_PLAN_MAX_ENV], *envp[VGPU_PLAN_MAX_ENV];
        char keys[VGPU_PLAN_MAX_ENV][1024];
        V1beta1__DeviceSpec dev[VGPU_PLAN_MAX_NODES], *devp[VGPU_PLAN_MAX_NODES];
        V1beta1__CDIDevice cdi[VGPU_ALLOC_MAX], *cdip[VGPU_ALLOC_MAX];
} container_t;

static void
fill_container (container_t *c, const vgpu_kanswer_t *a)
{
        c->r = (V1beta1__ContainerAllocateResponse) V1BETA1__CONTAINER_ALLOCATE_RESPONSE__INIT;
        for (size_t i = 0; i < a->n_env; i++) {
                const char *eq = strchr (a->env[i], '=');
                size_t klen = eq ? (size_t) (eq - a->env[i]) : strlen (a->env[i]);

                memcpy (c->keys[i], a->env[i], klen);
                c->keys[i][klen] = '\0';
                c->env[i] = (V1beta1__ContainerAllocateResponse__EnvsEntry)
                        V1BETA1__CONTAINER_ALLOCATE_RESPONSE__ENVS_ENTRY__INIT;
                c->env[i].key = c->keys[i];
                c->env[i].value = (char *) (eq ? eq + 1 : "");
                c->envp[i] = &c->env[i];
        }
        for (size_t i = 0; i < a->n_devices; i++) {
                c->dev[i] = (V1beta1__DeviceSpec) V1BETA1__DEVICE_SPEC__INIT;
                c->dev[i].container_path = (char *) a->devices[i].container_path;
                c->dev[i].host_path = (char *) a->devices[i].host_path;
                c->dev[i].permissions = (char *) "rw";
                c->devp[i] = &c->dev[i];
        }
        for (size_t i = 0; i < a->n_cdi; i++) {
                c->cdi[i] = (V1beta1__CDIDevice) V1BETA1__CDIDEVICE__INIT;
                c->cdi[i].name = (char *) a->cdi[i];
                c->cdip[i] = &c->cdi[i];
        }
        c->r.n_envs = a->n_env;
        c->r.envs = c->envp;
        c->r.n_devices = a->n_devices;
        c->r.devices = c->devp;
        c->r.n_cdi_devices = a->n_cdi;
        c->r.cdi_devices = c->cdip;
}

int
vgpu_wire_allocate_response (const vgpu_kanswer_t *const *answers, size_t n, uint8_t **ret, size_t *ret_len)
{
        V1beta1__AllocateResponse m = V1BETA1__ALLOCATE_RESPONSE__INIT;
        _cleanup_free_ container_t *c = calloc (n + 1, sizeof *c);
        _cleanup_free_ V1beta1__ContainerAllocateResponse **cp = calloc (n + 1, sizeof *cp);

        if (!c || !cp)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                fill_container (&c[i], answers[i]);
                cp[i] = &c[i].r;
        }
        m.n_container_responses = n;
        m.container_responses = cp;
        return pack (&m.base, ret, ret_len);
}

int
vgpu_wire_preferred_response (const char *const *const *ids, const size_t *n_ids, size_t n, uint8_t **ret,
                              size_t *ret_len)
{
        V1beta1__PreferredAllocationResponse m = V1BETA1__PREFERRED_ALLOCATION_RESPONSE__INIT;
        _cleanup_free_ V1beta1__ContainerPreferredAllocationResponse *c = calloc (n + 1, sizeof *c);
        _cleanup_free_ V1beta1__ContainerPreferredAllocationResponse **cp = calloc (n + 1, sizeof *cp);

        if (!c || !cp)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                c[i] = (V1beta1__ContainerPreferredAllocationResponse)
                        V1BETA1__CONTAINER_PREFERRED_ALLOCATION_RESPONSE__INIT;
                c[i].n_deviceids = n_ids[i];
                c[i].deviceids = (char **) ids[i];
                cp[i] = &c[i];
        }
        m.n_container_responses = n;
        m.container_responses = cp;
        return pack (&m.base, ret, ret_len);
}

int
vgpu_wire_empty (uint8_t **ret, size_t *ret_len)
{
        V1beta1__PreStartContainerResponse m = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;

        return pack (&m.base, ret, ret_len);
}
