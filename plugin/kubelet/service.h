/* service.h — the unary methods of the DevicePlugin service.
 *
 * A request's bytes in, the reply out, over the device list of the last
 * scan: GetDevicePluginOptions (GetPreferredAllocation is available, no
 * PreStartContainer needed), GetPreferredAllocation, Allocate (one log
 * line each, with what was answered or why not) and PreStartContainer.
 * ListAndWatch is the daemon's: it sends a list whenever a scan changes it. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "devices.h"
#include "options.h"
#include "rpc.h"

void vgpu_kservice_call (const vgpu_kopts_t *o, const vgpu_kdevs_t *devs, vgpu_rpc_method_t method, const uint8_t *req,
                         size_t len, const vgpu_klog_t *log, vgpu_rpc_reply_t *reply);
