/* rpc.h — the gRPC glue: every call into Debian's gRPC core C library.
 *
 * One completion queue driven from one thread: the plugin's server on its
 * unix socket (the DevicePlugin service: unary calls and ListAndWatch
 * streams) and the Register call to the kubelet, both in flight at once,
 * since the kubelet calls GetDevicePluginOptions back before it answers
 * Register.  Messages cross this seam as packed protobuf bytes (wire.h
 * packs and unpacks them); the core C API is "designed to be wrapped", and
 * this is the one file that wraps it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "options.h"

typedef enum vgpu_rpc_method {
        VGPU_RPC_OPTIONS,        /* GetDevicePluginOptions */
        VGPU_RPC_LIST_AND_WATCH, /* a server stream */
        VGPU_RPC_PREFERRED,      /* GetPreferredAllocation */
        VGPU_RPC_ALLOCATE,
        VGPU_RPC_PRESTART, /* PreStartContainer */
        VGPU_RPC_N_METHODS,
} vgpu_rpc_method_t;

/* gRPC status codes the plugin answers with (grpc/status.h's values). */
#define VGPU_RPC_OK 0
#define VGPU_RPC_INVALID_ARGUMENT 3
#define VGPU_RPC_FAILED_PRECONDITION 9
#define VGPU_RPC_UNIMPLEMENTED 12
#define VGPU_RPC_INTERNAL 13

typedef struct vgpu_rpc_reply {
        uint8_t *data; /* malloc()ed packed response; rpc frees it */
        size_t len;
        int status; /* VGPU_RPC_OK, or a code with message */
        char message[VGPU_ERROR_MAX];
} vgpu_rpc_reply_t;

typedef struct vgpu_rpc vgpu_rpc_t;
typedef struct vgpu_rpc_call vgpu_rpc_stream_t; /* a ListAndWatch call */

typedef struct vgpu_rpc_handlers {
        void *data;
        /* A unary call's request; fill reply. */
        void (*unary) (void *data, vgpu_rpc_method_t method, const uint8_t *req, size_t len, vgpu_rpc_reply_t *reply);
        /* A ListAndWatch stream opened (send it the list) or ended (the
         * kubelet went away, or the server stopped); s is gone after. */
        void (*stream_open) (void *data, vgpu_rpc_stream_t *s);
        void (*stream_closed) (void *data, vgpu_rpc_stream_t *s);
        /* The Register call ended: VGPU_RPC_OK or gRPC's status and details. */
        void (*registered) (void *data, int status, const char *details);
} vgpu_rpc_handlers_t;

/* gRPC up (grpc_init), its own log lines sent to log at severity error. */
int vgpu_rpc_new (const vgpu_rpc_handlers_t *h, const vgpu_klog_t *log, vgpu_rpc_t **ret, vgpu_error_t *err);

/* Serve on unix socket path (no server may exist: see vgpu_rpc_serving).
 * gRPC replaces a stale socket file at path itself. */
int vgpu_rpc_serve (vgpu_rpc_t *rpc, const char *path, vgpu_error_t *err);

/* Begin to stop the server: calls are cancelled, streams end; gRPC unlinks
 * the socket path.  vgpu_rpc_serving() turns false once it is gone. */
void vgpu_rpc_stop (vgpu_rpc_t *rpc);
bool vgpu_rpc_serving (const vgpu_rpc_t *rpc);

/* Start Register on the kubelet's socket with a packed RegisterRequest;
 * one at a time (vgpu_rpc_registering); handlers.registered says how it
 * ended. */
int vgpu_rpc_register (vgpu_rpc_t *rpc, const char *kubelet_path, const uint8_t *req, size_t len, unsigned timeout_ms,
                       vgpu_error_t *err);
bool vgpu_rpc_registering (const vgpu_rpc_t *rpc);

/* Queue a packed ListAndWatchResponse on a stream (copied); while one is
 * on the wire only the latest queued one is kept. */
int vgpu_rpc_send (vgpu_rpc_stream_t *s, const uint8_t *data, size_t len);

/* Handle what completes within timeout_ms (returns after the first event). */
void vgpu_rpc_wait (vgpu_rpc_t *rpc, unsigned timeout_ms);

/* Stop everything, wait for gRPC to hand back every call, shut gRPC down. */
void vgpu_rpc_free (vgpu_rpc_t *rpc);
