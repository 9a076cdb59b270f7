/* sandbox-preload.c — an LD_PRELOAD stand-in for an exploited JSON parser,
 * for test-sandbox.sh.  It wraps json-c's json_tokener_parse_ex, which
 * vgpu-hook calls on its stdin, and first makes the syscall that
 * VGPU_TEST_EVIL names:
 *
 *   execve   run `sh -c 'echo EXECUTED'`      (the sandbox kills: SIGSYS)
 *   socket   open a UNIX socket                (the sandbox kills: SIGSYS)
 *   uname    a syscall no profile lists        (EPERM; printed, parsing goes on)
 *
 * then parses as usual. */
#include <dlfcn.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

json_object *
json_tokener_parse_ex (json_tokener *tok, const char *str, int len)
{
        json_object *(*real) (json_tokener *, const char *, int);
        const char *what = getenv ("VGPU_TEST_EVIL");
        struct utsname u;

        if (what && strcmp (what, "execve") == 0)
                execl ("/bin/sh", "sh", "-c", "echo EXECUTED", (char *) NULL);
        if (what && strcmp (what, "socket") == 0 && socket (AF_UNIX, SOCK_STREAM, 0) >= 0)
                fprintf (stderr, "evil: socket: opened\n");
        if (what && strcmp (what, "uname") == 0 && uname (&u) < 0)
                fprintf (stderr, "evil: uname: %s\n", strerror (errno));
        *(void **) &real = dlsym (RTLD_NEXT, "json_tokener_parse_ex");
        return real (tok, str, len);
}
