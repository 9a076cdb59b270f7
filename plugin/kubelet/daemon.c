/* daemon.c — see daemon.h.
 *
 * One thread drives everything: gRPC's completion queue is waited on for at
 * most TICK_MS, then the signalfd and the inotify fd are read without
 * blocking, the socket files are checked with stat (inotify can overflow;
 * a stat cannot miss), and a scan runs when it is due.  So no event waits
 * longer than a tick plus a scan. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdinames.h"
#include "devices.h"
#include "dynamic.h"
#include "pool.h"
#include "rpc.h"
#include "service.h"
#include "util.h"
#include "wire.h"

#define TICK_MS 100
#define REGISTER_TIMEOUT_MS 15000 /* the kubelet gives its GetDevicePluginOptions call 10 s */
#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000

typedef struct daemon {
        const vgpu_kopts_t *o;
        const vgpu_klog_t *log;
        vgpu_rpc_t *rpc;
        char sock[PATH_MAX], kubelet[PATH_MAX], endpoint[VGPU_KUBELET_SUN_PATH];
        struct stat sock_st; /* our socket as bound; st_ino 0 while not serving */
        int sig_fd, ino_fd, watch;
        bool registered;
        struct stat reg_st, try_st;   /* the kubelet.sock that took us, the one the call in flight goes to */
        long long retry_at, serve_at; /* next Register try, next serve try after a failure */
        unsigned backoff_ms;
        bool waiting_logged;
        vgpu_kdevs_t devs;
        long long next_scan;
        char scan_error[VGPU_ERROR_MAX];
        vgpu_kdynamic_t dyn;
        vgpu_kpool_t pool;
        vgpu_rpc_stream_t **streams;
        size_t n_streams;
        int stop;
} daemon_t;

static bool
same_file (const struct stat *a, const struct stat *b)
{
        return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
               a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void
send_list (daemon_t *d, vgpu_rpc_stream_t *only)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;

        if (vgpu_wire_list (&d->devs, &buf, &len) < 0)
                return;
        for (size_t i = 0; i < d->n_streams; i++)
                if (!only || d->streams[i] == only)
                        vgpu_rpc_send (d->streams[i], buf, len);
}

static void
scan (daemon_t *d)
{
        vgpu_kdevs_t now = { 0 };
        vgpu_kcdi_t cdi = { 0 };
        vgpu_host_t host = { 0 };
        vgpu_error_t e = { 0 };
        int r;

        d->next_scan = vgpu_now_ms () + d->o->scan_ms;
        r = vgpu_host_scan (&d->o->roots, &host, &e);
        if (r == 0)
                r = vgpu_kcdi_read (d->o->cdi_dir, d->o->cdi_kind, &cdi, &e);
        if (r == 0 && d->o->mode == VGPU_KMODE_DYNAMIC)
                r = vgpu_kdynamic_scan (&d->dyn, d->o, &host, &cdi, d->log, &now, &e);
        else if (r == 0)
                r = vgpu_kpool_scan (&d->pool, d->o, &host, &cdi, d->log, &now, &e);
        vgpu_host_free (&host);
        vgpu_kcdi_free (&cdi);
        if (r < 0) { /* keep the last list; say so once per reason */
                if (strcmp (d->scan_error, e.msg) != 0)
                        vgpu_klog (d->log, "scan failed, devices unchanged: %s", e.msg);
                vgpu_copy (d->scan_error, sizeof d->scan_error, e.msg);
                return;
        }
        d->scan_error[0] = '\0';
        if (vgpu_kdevs_same (&d->devs, &now)) { /* news only for ListAndWatch's fields */
                vgpu_kdevs_free (&d->devs);
                d->devs = now;
                return;
        }
        vgpu_kdevs_log_changes (&d->devs, &now, d->log);
        vgpu_kdevs_free (&d->devs);
        d->devs = now;
        send_list (d, NULL);
}

/* --- gRPC's callbacks --- */

static void
on_unary (void *data, vgpu_rpc_method_t method, const uint8_t *req, size_t len, vgpu_rpc_reply_t *reply)
{
        daemon_t *d = data;

        vgpu_kservice_call (d->o, &d->devs, method, req, len, d->log, reply);
}

static void
on_stream_open (void *data, vgpu_rpc_stream_t *s)
{
        daemon_t *d = data;
        void *p = realloc (d->streams, (d->n_streams + 1) * sizeof *d->streams);

        if (!p)
                return;
        d->streams = p;
        d->streams[d->n_streams++] = s;
        vgpu_klog (d->log, "ListAndWatch: the kubelet watches (%zu devices sent)", d->devs.n);
        send_list (d, s);
}

static void
on_stream_closed (void *data, vgpu_rpc_stream_t *s)
{
        daemon_t *d = data;

        for (size_t i = 0; i < d->n_streams; i++)
                if (d->streams[i] == s) {
                        d->streams[i] = d->streams[--d->n_streams];
                        if (!d->stop)
                                vgpu_klog (d->log, "ListAndWatch: the kubelet stopped watching");
                        return;
                }
}

static void
on_registered (void *data, int status, const char *details)
{
        daemon_t *d = data;

        if (status == VGPU_RPC_OK) {
                d->registered = true;
                d->reg_st = d->try_st;
                d->backoff_ms = BACKOFF_FIRST_MS;
                vgpu_klog (d->log, "registered %s with the kubelet (%s, endpoint %s)", d->o->resource, d->kubelet,
                           d->endpoint);
                return;
        }
        d->retry_at = vgpu_now_ms () + d->backoff_ms;
        vgpu_klog (d->log, "Register with the kubelet failed (gRPC status %d): %s; trying again in %u s", status,
                   details[0] ? details : "no details", d->backoff_ms / 1000);
        d->backoff_ms = d->backoff_ms * 2 < BACKOFF_MAX_MS ? d->backoff_ms * 2 : BACKOFF_MAX_MS;
}

/* --- sockets --- */

/* Our socket path holds nothing, or a socket of an earlier run: remove it. */
static int
clear_stale (daemon_t *d, vgpu_error_t *err)
{
        struct stat st;

        if (lstat (d->sock, &st) < 0)
                return errno == ENOENT ? 0 : vgpu_error_sys (err, errno, "socket path %s", d->sock);
        if (!S_ISSOCK (st.st_mode))
                return vgpu_error_set (err, EEXIST, "%s exists and is not a socket: left alone", d->sock);
        if (unlink (d->sock) < 0 && errno != ENOENT)
                return vgpu_error_sys (err, errno, "removing the stale socket %s", d->sock);
        vgpu_klog (d->log, "removed the stale socket %s", d->sock);
        return 0;
}

static int
serve (daemon_t *d, vgpu_error_t *err)
{
        int r = clear_stale (d, err);

        if (r == 0)
                r = vgpu_rpc_serve (d->rpc, d->sock, err);
        if (r == 0 && stat (d->sock, &d->sock_st) < 0)
                r = vgpu_error_sys (err, errno, "socket %s is not there after listening", d->sock);
        if (r < 0)
                return r;
        d->registered = false;
        d->retry_at = 0;
        vgpu_klog (d->log, "serving %s on %s (mode %s)", d->o->resource, d->sock, vgpu_kmode_name (d->o->mode));
        return 0;
}

/* Serve again when our socket file went (or was replaced): the kubelet
 * cannot reach an unlinked socket.  The old server is stopped first, as
 * gRPC unlinks its path when it stops. */
static void
keep_socket (daemon_t *d)
{
        vgpu_error_t e = { 0 };
        struct stat st;

        if (d->sock_st.st_ino) {
                if (stat (d->sock, &st) == 0 && same_file (&st, &d->sock_st))
                        return;
                vgpu_klog (d->log, "socket %s was deleted: serving again", d->sock);
                d->sock_st.st_ino = 0;
                d->registered = false;
                vgpu_rpc_stop (d->rpc);
        }
        if (vgpu_rpc_serving (d->rpc))
                return;
        if (vgpu_now_ms () >= d->serve_at && serve (d, &e) < 0) {
                vgpu_klog (d->log, "cannot serve: %s; trying again in 1 s", e.msg);
                d->serve_at = vgpu_now_ms () + BACKOFF_FIRST_MS;
        }
}

static void
keep_registered (daemon_t *d)
{
        _cleanup_free_ uint8_t *req = NULL;
        vgpu_error_t e = { 0 };
        struct stat st;
        size_t len = 0;

        if (!d->sock_st.st_ino || vgpu_rpc_registering (d->rpc))
                return;
        if (stat (d->kubelet, &st) < 0 || !S_ISSOCK (st.st_mode)) {
                if (!d->waiting_logged)
                        vgpu_klog (d->log, "waiting for the kubelet: no %s yet", d->kubelet);
                d->waiting_logged = true;
                d->registered = false;
                return;
        }
        d->waiting_logged = false;
        if ((d->registered && same_file (&st, &d->reg_st)) || vgpu_now_ms () < d->retry_at)
                return;
        d->registered = false;
        if (vgpu_wire_register (d->endpoint, d->o->resource, &req, &len) < 0 ||
            vgpu_rpc_register (d->rpc, d->kubelet, req, len, REGISTER_TIMEOUT_MS, &e) < 0) {
                vgpu_klog (d->log, "cannot call Register: %s", e.code ? e.msg : "out of memory");
                d->retry_at = vgpu_now_ms () + d->backoff_ms;
                return;
        }
        d->try_st = st;
}

/* --- signals and the directory --- */

static int
open_fds (daemon_t *d, vgpu_error_t *err)
{
        sigset_t set;

        sigemptyset (&set);
        sigaddset (&set, SIGTERM);
        sigaddset (&set, SIGINT);
        sigaddset (&set, SIGHUP);
        /* before gRPC starts its threads, which inherit the mask */
        if (sigprocmask (SIG_BLOCK, &set, NULL) < 0)
                return vgpu_error_sys (err, errno, "blocking signals");
        signal (SIGPIPE, SIG_IGN);
        d->sig_fd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
        if (d->sig_fd < 0)
                return vgpu_error_sys (err, errno, "signalfd");
        if (mkdir (d->o->plugin_dir, 0755) < 0 && errno != EEXIST)
                return vgpu_error_sys (err, errno, "plugin directory %s", d->o->plugin_dir);
        d->ino_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
        if (d->ino_fd < 0)
                return vgpu_error_sys (err, errno, "inotify");
        d->watch = inotify_add_watch (d->ino_fd, d->o->plugin_dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
        if (d->watch < 0)
                return vgpu_error_sys (err, errno, "watching %s", d->o->plugin_dir);
        return 0;
}

static void
read_signals (daemon_t *d)
{
        struct signalfd_siginfo si;

        while (read (d->sig_fd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGHUP) {
                        vgpu_klog (d->log, "SIGHUP: scanning now");
                        d->next_scan = 0;
                        continue;
                }
                d->stop = (int) si.ssi_signo;
        }
}

/* kubelet.sock made anew: a kubelet (re)started; register now, no backoff. */
static void
read_directory (daemon_t *d)
{
        char buf[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
        ssize_t n;

        while ((n = read (d->ino_fd, buf, sizeof buf)) > 0)
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *) p;

                        if (ev->len && strcmp (ev->name, VGPU_KUBELET_SOCKET) == 0) {
                                vgpu_klog (d->log, "the kubelet made %s: registering", d->kubelet);
                                d->retry_at = 0;
                                d->backoff_ms = BACKOFF_FIRST_MS;
                        }
                        p += sizeof *ev + ev->len;
                }
}

static int
start (daemon_t *d, vgpu_error_t *err)
{
        const vgpu_rpc_handlers_t h = {
                .data = d,
                .unary = on_unary,
                .stream_open = on_stream_open,
                .stream_closed = on_stream_closed,
                .registered = on_registered,
        };
        int r;

        if (vgpu_kubelet_socket_name (d->o->resource, d->endpoint, sizeof d->endpoint) < 0 ||
            (size_t) snprintf (d->sock, sizeof d->sock, "%s/%s", d->o->plugin_dir, d->endpoint) >= sizeof d->sock ||
            (size_t) snprintf (d->kubelet, sizeof d->kubelet, "%s/" VGPU_KUBELET_SOCKET, d->o->plugin_dir) >=
                    sizeof d->kubelet)
                return vgpu_error_set (err, ENAMETOOLONG, "the socket paths in %s are too long", d->o->plugin_dir);
        r = open_fds (d, err);
        if (r == 0)
                r = vgpu_rpc_new (&h, d->log, &d->rpc, err);
        if (r < 0)
                return r;
        scan (d);
        return serve (d, err);
}

static void
stop (daemon_t *d)
{
        if (d->stop)
                vgpu_klog (d->log, "stopping on %s", strsignal (d->stop));
        vgpu_rpc_free (d->rpc); /* the socket goes with the server */
        vgpu_closep (&d->sig_fd);
        vgpu_closep (&d->ino_fd);
        vgpu_kdevs_free (&d->devs);
        vgpu_kdynamic_done (&d->dyn);
        vgpu_kpool_done (&d->pool);
        free (d->streams);
}

int
vgpu_kdaemon_run (const vgpu_kopts_t *o, const vgpu_klog_t *log, vgpu_error_t *err)
{
        daemon_t d = { .o = o, .log = log, .sig_fd = -1, .ino_fd = -1, .backoff_ms = BACKOFF_FIRST_MS };
        int r = start (&d, err);

        while (r == 0 && !d.stop) {
                vgpu_rpc_wait (d.rpc, TICK_MS);
                read_signals (&d);
                read_directory (&d);
                if (d.stop)
                        break;
                keep_socket (&d);
                if (vgpu_now_ms () >= d.next_scan)
                        scan (&d);
                keep_registered (&d);
        }
        stop (&d);
        return r;
}
