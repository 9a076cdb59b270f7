/* service.c — see service.h. */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "util.h"
#include "wire.h"

static void
refuse (vgpu_rpc_reply_t *reply, const vgpu_error_t *e)
{
        reply->status = e->code == EINVAL   ? VGPU_RPC_INVALID_ARGUMENT
                        : e->code == ENOMEM ? VGPU_RPC_INTERNAL
                                            : VGPU_RPC_FAILED_PRECONDITION;
        vgpu_copy (reply->message, sizeof reply->message, e->msg);
}

/* "a, b, c" of ids, cut to fit. */
static void
join (const char *const *ids, size_t n, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < n && len < size; i++)
                len += (size_t) snprintf (buf + len, size - len, "%s%s", i ? " " : "", ids[i]);
}

static void
answer_line (const vgpu_kanswer_t *a, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < a->n_cdi && len < size; i++)
                len += (size_t) snprintf (buf + len, size - len, "%sCDI %s", len ? ", " : "", a->cdi[i]);
        for (size_t i = 0; i < a->n_devices && len < size; i++)
                len += (size_t) snprintf (buf + len, size - len, "%s%s", len ? ", " : "", a->devices[i].host_path);
}

static int
allocate (const vgpu_kopts_t *o, const vgpu_kdevs_t *devs, const uint8_t *req, size_t len, const vgpu_klog_t *log,
          vgpu_rpc_reply_t *reply, vgpu_error_t *err)
{
        vgpu_kreq_t rq = { 0 };
        _cleanup_free_ vgpu_kanswer_t *a = NULL;
        _cleanup_free_ const vgpu_kanswer_t **ap = NULL;
        int r;

        r = vgpu_wire_allocate_request (req, len, &rq, err);
        if (r < 0)
                return r;
        a = calloc (rq.n + 1, sizeof *a);
        ap = calloc (rq.n + 1, sizeof *ap);
        if (!a || !ap)
                r = vgpu_error_set (err, ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < rq.n; i++) {
                char ids[512], what[1024];

                join (rq.c[i].ids, rq.c[i].n_ids, ids, sizeof ids);
                r = vgpu_kanswer_allocate (o, devs, rq.c[i].ids, rq.c[i].n_ids, &a[i], err);
                if (r < 0) {
                        vgpu_klog (log, "Allocate %s: refused: %s", ids, err->msg);
                        break;
                }
                answer_line (&a[i], what, sizeof what);
                vgpu_klog (log, "Allocate %s: %s", ids, what);
                ap[i] = &a[i];
        }
        if (r == 0 && vgpu_wire_allocate_response (ap, rq.n, &reply->data, &reply->len) < 0)
                r = vgpu_error_set (err, ENOMEM, "out of memory");
        vgpu_kreq_free (&rq);
        return r;
}

/* allocation_size, at most what there is to choose from. */
static size_t
wanted (const vgpu_kcontainer_req_t *c)
{
        return c->size < c->n_ids + c->n_must ? c->size : c->n_ids + c->n_must;
}

static int
prefer (const vgpu_kdevs_t *devs, const uint8_t *req, size_t len, const vgpu_klog_t *log, vgpu_rpc_reply_t *reply,
        vgpu_error_t *err)
{
        vgpu_kreq_t rq = { 0 };
        _cleanup_free_ const char **all = NULL;
        _cleanup_free_ const char *const **per = NULL;
        _cleanup_free_ size_t *n_per = NULL;
        size_t total = 0, used = 0;
        int r;

        r = vgpu_wire_preferred_request (req, len, &rq, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < rq.n; i++)
                total += wanted (&rq.c[i]);
        all = calloc (total + 1, sizeof *all);
        per = calloc (rq.n + 1, sizeof *per);
        n_per = calloc (rq.n + 1, sizeof *n_per);
        if (!all || !per || !n_per)
                r = vgpu_error_set (err, ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < rq.n; i++) {
                size_t size = wanted (&rq.c[i]);
                char chosen[512];

                r = vgpu_kanswer_prefer (devs, rq.c[i].ids, rq.c[i].n_ids, rq.c[i].must, rq.c[i].n_must, size,
                                         all + used, &n_per[i], err);
                per[i] = all + used;
                join (all + used, n_per[i], chosen, sizeof chosen);
                used += n_per[i];
                if (r == 0)
                        vgpu_klog (log, "GetPreferredAllocation of %zu from %zu: %s", size, rq.c[i].n_ids, chosen);
        }
        if (r == 0 && vgpu_wire_preferred_response (per, n_per, rq.n, &reply->data, &reply->len) < 0)
                r = vgpu_error_set (err, ENOMEM, "out of memory");
        vgpu_kreq_free (&rq);
        return r;
}

void
vgpu_kservice_call (const vgpu_kopts_t *o, const vgpu_kdevs_t *devs, vgpu_rpc_method_t method, const uint8_t *req,
                    size_t len, const vgpu_klog_t *log, vgpu_rpc_reply_t *reply)
{
        vgpu_error_t e = { 0 };
        int r;

        switch (method) {
        case VGPU_RPC_OPTIONS: r = vgpu_wire_options (&reply->data, &reply->len); break;
        case VGPU_RPC_PRESTART: r = vgpu_wire_empty (&reply->data, &reply->len); break;
        case VGPU_RPC_ALLOCATE: r = allocate (o, devs, req, len, log, reply, &e); break;
        case VGPU_RPC_PREFERRED: r = prefer (devs, req, len, log, reply, &e); break;
        default: r = vgpu_error_set (&e, EINVAL, "not a unary method");
        }
        if (r == -ENOMEM && !e.code)
                vgpu_error_set (&e, ENOMEM, "out of memory");
        if (r < 0)
                refuse (reply, &e);
}
