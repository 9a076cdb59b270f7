/* daemon.h — the life of vgpu-device-plugin.
 *
 * Scan the host, serve the DevicePlugin service on
 * <plugin-dir>/vgpu-toolkit-<resource>.sock (a stale socket of an earlier
 * run is removed first), register with the kubelet, then loop: handle
 * calls, rescan every scan-interval and send ListAndWatch a new list when
 * it changed, serve again when the socket is deleted (the kubelet deletes
 * every socket when it restarts), register again when kubelet.sock is made
 * anew or Register failed (backing off up to 30 s), until SIGTERM or SIGINT.
 * It starts gRPC's threads itself, with SIGTERM, SIGINT and SIGHUP blocked
 * so they reach its signalfd: call it after the sandbox is entered. */
#pragma once

#include "error.h"
#include "options.h"

/* 0 after a clean stop on a signal; a negative errno when it cannot start. */
int vgpu_kdaemon_run (const vgpu_kopts_t *o, const vgpu_klog_t *log, vgpu_error_t *err);
