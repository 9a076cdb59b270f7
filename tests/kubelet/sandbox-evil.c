/* sandbox-evil.c — a stand-in for an exploited parser in vgpu-device-plugin,
 * for test-kubelet-sandbox.sh.  Linked into vgpu-device-plugin-evil (the
 * plugin's own main and libraries, linked like vgpu-device-plugin) in front
 * of json-c with -Wl,--wrap=json_tokener_parse_ex: the plugin parses its
 * config file with it after entering its sandbox.  It first makes the
 * syscall VGPU_TEST_EVIL names:
 *
 *   execve       run `sh -c 'echo EXECUTED'`    (the sandbox kills: SIGSYS)
 *   inet         a TCP socket                    (EPERM; printed, the plugin goes on)
 *   unix         a unix socket, as gRPC makes    (allowed; printed)
 *   socketpair   a connected pair                (the sandbox kills: SIGSYS)
 *
 * then parses as usual. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void
try_socket (const char *what, int family)
{
        int fd = socket (family, SOCK_STREAM | SOCK_CLOEXEC, 0);

        fprintf (stderr, "evil: socket(%s): %s\n", what, fd >= 0 ? "opened" : strerror (errno));
        if (fd >= 0)
                close (fd);
}

json_object *__real_json_tokener_parse_ex (json_tokener *tok, const char *str, int len);
json_object *__wrap_json_tokener_parse_ex (json_tokener *tok, const char *str, int len);

json_object *
__wrap_json_tokener_parse_ex (json_tokener *tok, const char *str, int len)
{
        const char *what = getenv ("VGPU_TEST_EVIL");
        int pair[2];

        if (what && strcmp (what, "execve") == 0)
                execl ("/bin/sh", "sh", "-c", "echo EXECUTED", (char *) NULL);
        if (what && strcmp (what, "inet") == 0)
                try_socket ("AF_INET", AF_INET);
        if (what && strcmp (what, "unix") == 0)
                try_socket ("AF_UNIX", AF_UNIX);
        if (what && strcmp (what, "socketpair") == 0 && socketpair (AF_UNIX, SOCK_STREAM, 0, pair) == 0)
                fprintf (stderr, "evil: socketpair: opened\n");
        return __real_json_tokener_parse_ex (tok, str, len);
}
