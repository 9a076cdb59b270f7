/* wire.h — the deviceplugin v1beta1 messages as bytes, through protobuf-c.
 *
 * Packs what the plugin sends (DevicePluginOptions, RegisterRequest,
 * ListAndWatchResponse, AllocateResponse, PreferredAllocationResponse,
 * PreStartContainerResponse) and unpacks what it is sent (AllocateRequest,
 * PreferredAllocationRequest).  Every protobuf-c type stays in wire.c:
 * requests come out as plain arrays of id strings that live as long as the
 * vgpu_kreq_t. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "answer.h"
#include "devices.h"
#include "error.h"

typedef struct vgpu_kcontainer_req {
        const char *const *ids; /* Allocate: devices_ids; GetPreferredAllocation: available_deviceIDs */
        size_t n_ids;
        const char *const *must; /* GetPreferredAllocation: must_include_deviceIDs */
        size_t n_must;
        size_t size; /* GetPreferredAllocation: allocation_size */
} vgpu_kcontainer_req_t;

typedef struct vgpu_kreq {
        void *msg; /* the unpacked message the strings live in */
        int kind;
        vgpu_kcontainer_req_t *c;
        size_t n;
} vgpu_kreq_t;

int vgpu_wire_allocate_request (const uint8_t *buf, size_t len, vgpu_kreq_t *ret, vgpu_error_t *err);
int vgpu_wire_preferred_request (const uint8_t *buf, size_t len, vgpu_kreq_t *ret, vgpu_error_t *err);
void vgpu_kreq_free (vgpu_kreq_t *r);

/* Each packs into a malloc()ed buffer; -ENOMEM. */
int vgpu_wire_options (uint8_t **ret, size_t *ret_len);
int vgpu_wire_register (const char *endpoint, const char *resource, uint8_t **ret, size_t *ret_len);
int vgpu_wire_list (const vgpu_kdevs_t *devs, uint8_t **ret, size_t *ret_len);
int vgpu_wire_allocate_response (const vgpu_kanswer_t *const *answers, size_t n, uint8_t **ret, size_t *ret_len);
int vgpu_wire_preferred_response (const char *const *const *ids, const size_t *n_ids, size_t n, uint8_t **ret,
                                  size_t *ret_len);
int vgpu_wire_empty (uint8_t **ret, size_t *ret_len);
