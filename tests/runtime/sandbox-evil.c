/* sandbox-evil.c — a stand-in for an exploited JSON parser, for
 * test-sandbox.sh.  Linked into vgpu-hook-evil (the hook's own main and
 * libraries, linked like vgpu-hook) in front of json-c with
 * -Wl,--wrap=json_tokener_parse_ex: vgpu-hook parses its stdin with it after
 * entering the sandbox.  It first makes the syscall that VGPU_TEST_EVIL names:
 *
 *   execve   run `sh -c 'echo EXECUTED'`      (the sandbox kills: SIGSYS)
 *   socket   open a UNIX socket                (the sandbox kills: SIGSYS)
 *   uname    a syscall no profile lists        (EPERM; printed, parsing goes on)
 *
 * then parses as usual. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

json_object *__real_json_tokener_parse_ex (json_tokener *tok, const char *str, int len);
json_object *__wrap_json_tokener_parse_ex (json_tokener *tok, const char *str, int len);

json_object *
__wrap_json_tokener_parse_ex (json_tokener *tok, const char *str, int len)
{
        const char *what = getenv ("VGPU_TEST_EVIL");
        struct utsname u;

        if (what && strcmp (what, "execve") == 0)
                execl ("/bin/sh", "sh", "-c", "echo EXECUTED", (char *) NULL);
        if (what && strcmp (what, "socket") == 0 && socket (AF_UNIX, SOCK_STREAM, 0) >= 0)
                fprintf (stderr, "evil: socket: opened\n");
        if (what && strcmp (what, "uname") == 0 && uname (&u) < 0)
                fprintf (stderr, "evil: uname: %s\n", strerror (errno));
        return __real_json_tokener_parse_ex (tok, str, len);
}
