/* rpc.c — see rpc.h.
 *
 * Every operation started on the completion queue carries a tag_t; the
 * struct that embeds it counts its operations in flight and is freed when
 * the last one is back and it is finished, so nothing gRPC still points at
 * is ever freed: a server once its shutdown is notified and its pending
 * request_call returned, a call once its batches are back (a stream also
 * once RECV_CLOSE_ON_SERVER says the peer is gone), the Register call once
 * its one batch is back. */
#include "rpc.h"

#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct tag {
        void (*done) (vgpu_rpc_t *rpc, struct tag *t, bool ok);
} tag_t;

#define OWNER_OF(ptr, type, member) ((type *) ((char *) (ptr) -offsetof (type, member)))

typedef struct server {
        grpc_server *server;
        tag_t request, shutdown;
        grpc_call *call; /* filled by request_call */
        grpc_call_details details;
        grpc_metadata_array md;
        bool requesting, stopping, stopped;
} server_t;

struct vgpu_rpc_call {
        vgpu_rpc_t *rpc;
        grpc_call *call;
        vgpu_rpc_method_t method;
        tag_t recv, send, close;
        grpc_byte_buffer *in, *out;
        int cancelled;
        unsigned pending;
        bool stream, opened, closed, sent_metadata, finished;
        uint8_t *next; /* the latest message queued behind one on the wire */
        size_t next_len;
        bool has_next;
        struct vgpu_rpc_call *older, *newer;
};
typedef struct vgpu_rpc_call call_t;

typedef struct reg {
        grpc_channel *channel;
        grpc_call *call;
        tag_t tag;
        grpc_metadata_array initial, trailing;
        grpc_byte_buffer *out, *in;
        grpc_status_code status;
        grpc_slice details;
} reg_t;

struct vgpu_rpc {
        vgpu_rpc_handlers_t h;
        grpc_completion_queue *cq;
        server_t *srv;
        reg_t *reg;
        call_t *calls; /* newest first */
};

static const char *const method_paths[VGPU_RPC_N_METHODS] = {
        [VGPU_RPC_OPTIONS] = "/v1beta1.DevicePlugin/GetDevicePluginOptions",
        [VGPU_RPC_LIST_AND_WATCH] = "/v1beta1.DevicePlugin/ListAndWatch",
        [VGPU_RPC_PREFERRED] = "/v1beta1.DevicePlugin/GetPreferredAllocation",
        [VGPU_RPC_ALLOCATE] = "/v1beta1.DevicePlugin/Allocate",
        [VGPU_RPC_PRESTART] = "/v1beta1.DevicePlugin/PreStartContainer",
};
#define REGISTER_PATH "/v1beta1.Registration/Register"

/* gRPC logs through gpr_log, which has no user data: one process, one log. */
static vgpu_klog_t grpc_log;

static void
log_from_grpc (gpr_log_func_args *args)
{
        vgpu_klog (&grpc_log, "grpc: %s", args->message);
}

static gpr_timespec
after_ms (unsigned ms)
{
        return gpr_time_add (gpr_now (GPR_CLOCK_MONOTONIC), gpr_time_from_millis (ms, GPR_TIMESPAN));
}

static grpc_byte_buffer *
buffer_from (const uint8_t *data, size_t len)
{
        grpc_slice s = grpc_slice_from_copied_buffer ((const char *) data, len);
        grpc_byte_buffer *b = grpc_raw_byte_buffer_create (&s, 1);

        grpc_slice_unref (s);
        return b;
}

/* The bytes of a received message, malloc()ed (NULL for an empty one). */
static uint8_t *
bytes_of (grpc_byte_buffer *b, size_t *ret_len)
{
        grpc_byte_buffer_reader r;
        grpc_slice s;
        uint8_t *out;

        *ret_len = 0;
        if (!grpc_byte_buffer_reader_init (&r, b))
                return NULL;
        s = grpc_byte_buffer_reader_readall (&r);
        grpc_byte_buffer_reader_destroy (&r);
        *ret_len = GRPC_SLICE_LENGTH (s);
        out = malloc (*ret_len + 1);
        if (out)
                memcpy (out, GRPC_SLICE_START_PTR (s), *ret_len);
        grpc_slice_unref (s);
        return out;
}

static bool
start (grpc_call *call, const grpc_op *ops, size_t n, tag_t *t, unsigned *pending)
{
        if (grpc_call_start_batch (call, ops, n, t, NULL) != GRPC_CALL_OK)
                return false;
        (*pending)++;
        return true;
}

/* --- server calls --- */

static void
call_release (vgpu_rpc_t *rpc, call_t *c)
{
        if (c->pending > 0 || !c->finished)
                return;
        if (c->stream && c->opened && rpc->h.stream_closed)
                rpc->h.stream_closed (rpc->h.data, c);
        if (c->older)
                c->older->newer = c->newer;
        if (c->newer)
                c->newer->older = c->older;
        else
                rpc->calls = c->older;
        if (c->in)
                grpc_byte_buffer_destroy (c->in);
        if (c->out)
                grpc_byte_buffer_destroy (c->out);
        free (c->next);
        grpc_call_unref (c->call);
        free (c);
}

static void
unary_sent (vgpu_rpc_t *rpc, tag_t *t, bool ok)
{
        call_t *c = OWNER_OF (t, call_t, send);

        c->pending--;
        c->finished = true;
        call_release (rpc, c);
}

/* Status (and the message when OK) and the close, in one batch. */
static void
answer (vgpu_rpc_t *rpc, call_t *c, const vgpu_rpc_reply_t *reply)
{
        grpc_slice details = grpc_slice_from_copied_string (reply->status ? reply->message : "");
        grpc_op ops[4] = { { 0 } };
        size_t n = 0;

        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        if (reply->status == VGPU_RPC_OK) {
                c->out = buffer_from (reply->data, reply->len);
                ops[n].op = GRPC_OP_SEND_MESSAGE;
                ops[n++].data.send_message.send_message = c->out;
        }
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = (grpc_status_code) reply->status;
        ops[n++].data.send_status_from_server.status_details = &details;
        ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
        c->send.done = unary_sent;
        if (!start (c->call, ops, n, &c->send, &c->pending))
                c->finished = true;
        grpc_slice_unref (details);
}

static void stream_sent (vgpu_rpc_t *rpc, tag_t *t, bool ok);

static int
send_now (call_t *c, const uint8_t *data, size_t len)
{
        grpc_op ops[2] = { { 0 } };
        size_t n = 0;

        if (!c->sent_metadata)
                ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->out = buffer_from (data, len);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->out;
        c->send.done = stream_sent;
        if (!start (c->call, ops, n, &c->send, &c->pending)) {
                grpc_byte_buffer_destroy (TAKE_PTR (c->out));
                return -EPIPE;
        }
        c->sent_metadata = true;
        return 0;
}

static void
stream_sent (vgpu_rpc_t *rpc, tag_t *t, bool ok)
{
        call_t *c = OWNER_OF (t, call_t, send);

        c->pending--;
        grpc_byte_buffer_destroy (TAKE_PTR (c->out));
        if (ok && c->has_next && !c->closed) {
                c->has_next = false;
                send_now (c, c->next, c->next_len);
        }
        call_release (rpc, c);
}

int
vgpu_rpc_send (vgpu_rpc_stream_t *s, const uint8_t *data, size_t len)
{
        if (s->closed)
                return -EPIPE;
        if (s->out) { /* one on the wire: keep only the latest behind it */
                void *p = realloc (s->next, len ? len : 1);

                if (!p)
                        return -ENOMEM;
                s->next = p;
                memcpy (s->next, data, len);
                s->next_len = len;
                s->has_next = true;
                return 0;
        }
        return send_now (s, data, len);
}

static void
stream_closed (vgpu_rpc_t *rpc, tag_t *t, bool ok)
{
        call_t *c = OWNER_OF (t, call_t, close);

        c->pending--;
        c->closed = c->finished = true;
        call_release (rpc, c);
}

static void
received (vgpu_rpc_t *rpc, tag_t *t, bool ok)
{
        call_t *c = OWNER_OF (t, call_t, recv);
        vgpu_rpc_reply_t reply = { 0 };
        _cleanup_free_ uint8_t *req = NULL;
        size_t len = 0;

        c->pending--;
        if (!ok || !c->in) { /* the client went away before its request */
                c->finished = true;
                call_release (rpc, c);
                return;
        }
        req = bytes_of (c->in, &len);
        grpc_byte_buffer_destroy (TAKE_PTR (c->in));
        if (c->stream) {
                grpc_op op = { .op = GRPC_OP_RECV_CLOSE_ON_SERVER };

                op.data.recv_close_on_server.cancelled = &c->cancelled;
                c->close.done = stream_closed;
                if (!start (c->call, &op, 1, &c->close, &c->pending)) {
                        c->finished = true;
                        call_release (rpc, c);
                        return;
                }
                c->opened = true;
                rpc->h.stream_open (rpc->h.data, c);
                return;
        }
        if (c->method == VGPU_RPC_N_METHODS) {
                reply.status = VGPU_RPC_UNIMPLEMENTED;
                snprintf (reply.message, sizeof reply.message, "vgpu-device-plugin does not serve this method");
        } else
                rpc->h.unary (rpc->h.data, c->method, req, len, &reply);
        answer (rpc, c, &reply);
        free (reply.data);
        call_release (rpc, c);
}

static int request_next (vgpu_rpc_t *rpc, server_t *s);

static void
server_release (vgpu_rpc_t *rpc, server_t *s)
{
        if (s->requesting || !s->stopped)
                return;
        grpc_server_destroy (s->server);
        grpc_call_details_destroy (&s->details);
        grpc_metadata_array_destroy (&s->md);
        if (rpc->srv == s)
                rpc->srv = NULL;
        free (s);
}

static vgpu_rpc_method_t
method_of (grpc_slice path)
{
        for (int m = 0; m < VGPU_RPC_N_METHODS; m++)
                if (grpc_slice_str_cmp (path, method_paths[m]) == 0)
                        return (vgpu_rpc_method_t) m;
        return VGPU_RPC_N_METHODS;
}

/* A new call: read its request first. */
static void
accepted (vgpu_rpc_t *rpc, tag_t *t, bool ok)
{
        server_t *s = OWNER_OF (t, server_t, request);
        call_t *c;
        grpc_op op = { .op = GRPC_OP_RECV_MESSAGE };

        s->requesting = false;
        if (!ok || s->stopping) {
                if (ok)
                        grpc_call_unref (s->call);
                server_release (rpc, s);
                return;
        }
        c = calloc (1, sizeof *c);
        if (!c) {
                grpc_call_cancel (s->call, NULL);
                grpc_call_unref (s->call);
        } else {
                c->rpc = rpc;
                c->call = s->call;
                c->method = method_of (s->details.method);
                c->stream = c->method == VGPU_RPC_LIST_AND_WATCH;
                c->older = rpc->calls;
                if (rpc->calls)
                        rpc->calls->newer = c;
                rpc->calls = c;
                op.data.recv_message.recv_message = &c->in;
                c->recv.done = received;
                if (!start (c->call, &op, 1, &c->recv, &c->pending)) {
                        c->finished = true;
                        call_release (rpc, c);
                }
        }
        s->call = NULL;
        grpc_call_details_destroy (&s->details);
        grpc_metadata_array_destroy (&s->md);
        request_next (rpc, s);
}

static int
request_next (vgpu_rpc_t *rpc, server_t *s)
{
        grpc_call_details_init (&s->details);
        grpc_metadata_array_init (&s->md);
        s->request.done = accepted;
        if (grpc_server_request_call (s->server, &s->call, &s->details, &s->md, rpc->cq, rpc->cq, &s->request) !=
            GRPC_CALL_OK)
                return -EIO;
        s->requesting = true;
        return 0;
}

static void
server_stopped (vgpu_rpc_t *rpc, tag_t *t, bool ok)
{
        server_t *s = OWNER_OF (t, server_t, shutdown);

        s->stopped = true;
        server_release (rpc, s);
}

int
vgpu_rpc_serve (vgpu_rpc_t *rpc, const char *path, vgpu_error_t *err)
{
        grpc_server_credentials *creds;
        char target[PATH_MAX + 8];
        server_t *s;
        int port;

        if (rpc->srv)
                return vgpu_error_set (err, EBUSY, "a server is still running");
        snprintf (target, sizeof target, "unix:%s", path);
        s = calloc (1, sizeof *s);
        if (!s)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        s->server = grpc_server_create (NULL, NULL);
        grpc_server_register_completion_queue (s->server, rpc->cq, NULL);
        creds = grpc_insecure_server_credentials_create ();
        port = grpc_server_add_http2_port (s->server, target, creds);
        grpc_server_credentials_release (creds);
        if (port == 0) {
                grpc_server_destroy (s->server);
                free (s);
                return vgpu_error_set (err, EADDRNOTAVAIL, "cannot listen on %s (see the grpc: line above)", path);
        }
        grpc_server_start (s->server);
        rpc->srv = s;
        s->shutdown.done = server_stopped;
        if (request_next (rpc, s) < 0) {
                vgpu_rpc_stop (rpc);
                return vgpu_error_set (err, EIO, "gRPC refused to take calls on %s", path);
        }
        return 0;
}

void
vgpu_rpc_stop (vgpu_rpc_t *rpc)
{
        server_t *s = rpc->srv;

        if (!s || s->stopping)
                return;
        s->stopping = true;
        grpc_server_shutdown_and_notify (s->server, rpc->cq, &s->shutdown);
        grpc_server_cancel_all_calls (s->server);
}

bool
vgpu_rpc_serving (const vgpu_rpc_t *rpc)
{
        return rpc->srv != NULL;
}

/* --- the Register call --- */

static void
reg_free (reg_t *r)
{
        if (r->call)
                grpc_call_unref (r->call);
        if (r->channel)
                grpc_channel_destroy (r->channel);
        if (r->out)
                grpc_byte_buffer_destroy (r->out);
        if (r->in)
                grpc_byte_buffer_destroy (r->in);
        grpc_metadata_array_destroy (&r->initial);
        grpc_metadata_array_destroy (&r->trailing);
        grpc_slice_unref (r->details);
        free (r);
}

static void
reg_done (vgpu_rpc_t *rpc, tag_t *t, bool ok)
{
        reg_t *r = OWNER_OF (t, reg_t, tag);
        char *details = grpc_slice_to_c_string (r->details);

        rpc->reg = NULL;
        if (rpc->h.registered)
                rpc->h.registered (rpc->h.data, ok ? (int) r->status : VGPU_RPC_INTERNAL, details ? details : "");
        gpr_free (details);
        reg_free (r);
}

int
vgpu_rpc_register (vgpu_rpc_t *rpc, const char *kubelet_path, const uint8_t *req, size_t len, unsigned timeout_ms,
                   vgpu_error_t *err)
{
        grpc_channel_credentials *creds;
        grpc_slice method = grpc_slice_from_static_string (REGISTER_PATH);
        char target[PATH_MAX + 8];
        grpc_op ops[6] = { { 0 } };
        unsigned pending = 0;
        reg_t *r;

        if (rpc->reg)
                return vgpu_error_set (err, EBUSY, "a Register call is in flight");
        r = calloc (1, sizeof *r);
        if (!r)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        grpc_metadata_array_init (&r->initial);
        grpc_metadata_array_init (&r->trailing);
        r->details = grpc_empty_slice ();
        snprintf (target, sizeof target, "unix:%s", kubelet_path);
        creds = grpc_insecure_credentials_create ();
        r->channel = grpc_channel_create (target, creds, NULL);
        grpc_channel_credentials_release (creds);
        r->call = grpc_channel_create_call (r->channel, NULL, GRPC_PROPAGATE_DEFAULTS, rpc->cq, method, NULL,
                                            after_ms (timeout_ms), NULL);
        r->out = buffer_from (req, len);
        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = r->out;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &r->initial;
        ops[4].op = GRPC_OP_RECV_MESSAGE;
        ops[4].data.recv_message.recv_message = &r->in;
        ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[5].data.recv_status_on_client.trailing_metadata = &r->trailing;
        ops[5].data.recv_status_on_client.status = &r->status;
        ops[5].data.recv_status_on_client.status_details = &r->details;
        r->tag.done = reg_done;
        if (!r->call || !start (r->call, ops, ARRAY_SIZE (ops), &r->tag, &pending)) {
                reg_free (r);
                return vgpu_error_set (err, EIO, "gRPC refused to start a call to %s", kubelet_path);
        }
        rpc->reg = r;
        return 0;
}

bool
vgpu_rpc_registering (const vgpu_rpc_t *rpc)
{
        return rpc->reg != NULL;
}

/* --- the queue --- */

int
vgpu_rpc_new (const vgpu_rpc_handlers_t *h, const vgpu_klog_t *log, vgpu_rpc_t **ret, vgpu_error_t *err)
{
        vgpu_rpc_t *rpc = calloc (1, sizeof *rpc);

        if (!rpc)
                return vgpu_error_set (err, ENOMEM, "out of memory");
        if (log)
                grpc_log = *log;
        gpr_set_log_function (log_from_grpc);
        gpr_set_log_verbosity (GPR_LOG_SEVERITY_ERROR);
        grpc_init ();
        rpc->h = *h;
        rpc->cq = grpc_completion_queue_create_for_next (NULL);
        *ret = rpc;
        return 0;
}

void
vgpu_rpc_wait (vgpu_rpc_t *rpc, unsigned timeout_ms)
{
        grpc_event ev = grpc_completion_queue_next (rpc->cq, after_ms (timeout_ms), NULL);
        tag_t *t = ev.tag;

        if (ev.type == GRPC_OP_COMPLETE && t)
                t->done (rpc, t, ev.success != 0);
}

void
vgpu_rpc_free (vgpu_rpc_t *rpc)
{
        grpc_event ev;

        if (!rpc)
                return;
        vgpu_rpc_stop (rpc);
        if (rpc->reg)
                grpc_call_cancel (rpc->reg->call, NULL);
        for (call_t *c = rpc->calls; c; c = c->older)
                grpc_call_cancel (c->call, NULL);
        while (rpc->srv || rpc->reg || rpc->calls)
                vgpu_rpc_wait (rpc, 1000);
        grpc_completion_queue_shutdown (rpc->cq);
        do
                ev = grpc_completion_queue_next (rpc->cq, gpr_inf_future (GPR_CLOCK_MONOTONIC), NULL);
        while (ev.type != GRPC_QUEUE_SHUTDOWN);
        grpc_completion_queue_destroy (rpc->cq);
        grpc_shutdown_blocking ();
        free (rpc);
}
